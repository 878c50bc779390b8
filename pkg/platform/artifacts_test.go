package platform

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/gantryhq/gantry/internal/emulatortest"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/naming"
)

// TestArtifactsBucket makes the bucket in two regions (us-east-1 takes no
// location constraint, others need one), checks every setting on the
// emulator's S3, and that a second call finds it and changes nothing.
func TestArtifactsBucket(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-central-1"} {
		t.Run(region, func(t *testing.T) {
			ctx := testContext(t)
			api := awsx.NewS3(emu.Config(t, region))
			res, err := EnsureArtifactsBucket(ctx, api, emulatortest.Account, region)
			if err != nil {
				t.Fatal(err)
			}
			name := naming.ArtifactsBucket(emulatortest.Account, region)
			if res.Status != Created || res.ID != name || res.Kind != "bucket" {
				t.Errorf("first call: %+v; want %s created", res, name)
			}
			b := aws.String(name)
			loc, err := api.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: "", false: region}[region == "us-east-1"]; string(loc.LocationConstraint) != want {
				t.Errorf("location %q, want %q", loc.LocationConstraint, want)
			}
			enc, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
			if err != nil || len(enc.ServerSideEncryptionConfiguration.Rules) != 1 ||
				enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
				t.Errorf("encryption: %+v, %v", enc, err)
			}
			ver, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
			if err != nil || ver.Status != s3types.BucketVersioningStatusEnabled {
				t.Errorf("versioning: %+v, %v", ver, err)
			}
			pab, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
			if err != nil {
				t.Fatal(err)
			}
			if c := pab.PublicAccessBlockConfiguration; !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.RestrictPublicBuckets) {
				t.Errorf("public access block: %+v", c)
			}
			lc, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
			if err != nil || len(lc.Rules) != 1 || lc.Rules[0].NoncurrentVersionExpiration == nil ||
				aws.ToInt32(lc.Rules[0].NoncurrentVersionExpiration.NoncurrentDays) != ArtifactsNoncurrentDays {
				t.Errorf("lifecycle: %+v, %v", lc, err)
			}
			again, err := EnsureArtifactsBucket(ctx, api, emulatortest.Account, region)
			if err != nil || again.Status != Found {
				t.Errorf("second call: %+v, %v; want found", again, err)
			}
		})
	}
}
