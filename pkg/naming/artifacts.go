package naming

import "strings"

// ArtifactsBucket is the S3 bucket `gantry bootstrap` makes in every
// account and region a service deploys to, where deploy uploads templates
// too large to pass inline: gantry-artifacts-<account>-<region>. Account
// and region make it globally unique; at most 45 characters.
func ArtifactsBucket(account, region string) string {
	return strings.ToLower("gantry-artifacts-" + account + "-" + region)
}

// TemplateKey is where a template goes in the artifacts bucket: by stack and
// content hash, so an upload of the same bytes is the same object.
func TemplateKey(stack, sha256Hex string) string {
	return "templates/" + stack + "/" + sha256Hex + ".json"
}

// S3ObjectURL is the virtual-hosted URL of an object that CloudFormation
// reads a TemplateURL from, in the region's own partition domain.
func S3ObjectURL(bucket, region, key string) string {
	domain := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return "https://" + bucket + ".s3." + region + "." + domain + "/" + key
}
