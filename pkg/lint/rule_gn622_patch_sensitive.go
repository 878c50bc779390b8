package lint

import (
	"fmt"
	"slices"
	"strings"
)

// sensitiveKeys are template keys whose change weakens what gantry renders
// for safety: IAM, network ingress, key and bucket policies, public access,
// and what happens to data on deletion.
var sensitiveKeys = []string{
	"Policies", "PolicyDocument", "AssumeRolePolicyDocument", "ManagedPolicyArns", "PermissionsBoundary",
	"SecurityGroupIngress", "SecurityGroupEgress", "KeyPolicy", "PublicAccessBlockConfiguration",
	"PubliclyAccessible", "AssignPublicIp", "DeletionPolicy", "UpdateReplacePolicy", "DeletionProtection",
	"StorageEncrypted", "BucketEncryption", "TransitEncryptionEnabled", "AtRestEncryptionEnabled",
}

func rulePatchSensitive() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN622", Name: "patch-sensitive", Severity: Warning,
			Title: "patches that touch IAM, network ingress, encryption or deletion are called out",
			Doc: "A patch can change anything gantry renders, including what keeps the service safe: IAM policies and " +
				"trust, security group rules, key and bucket policies, public access, encryption, and what happens to " +
				"data when a resource goes. Such a patch is allowed (it is the way out) but should get a security " +
				"review: the warning names the key it touches.",
			Example: Example{
				YAML:    "patches:\n  - stack: app\n    op: add\n    path: /Resources/TaskRole/Properties/ManagedPolicyArns\n    value: [arn:aws:iam::aws:policy/AdministratorAccess]\n",
				Message: "this patch changes ManagedPolicyArns of TaskRole in the app stack: have its security impact reviewed",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for i, p := range v.Spec.Patches {
					for field, ptr := range map[string]string{"path": p.Path, "from": p.From} {
						if key, res := sensitive(ptr); key != "" {
							v.report(value(v.Pos, fmt.Sprintf("patches[%d].%s", i, field)), "this patch changes %s%s in the %s stack: have its security impact reviewed", key, res, p.Stack)
						}
					}
				}
			})
		},
	}
}

// sensitive names the first sensitive key a pointer walks, and the
// resource it is under (" of ID"), or "" when it walks none.
func sensitive(pointer string) (key, resource string) {
	parts := strings.Split(pointer, "/")
	for i, p := range parts {
		if slices.Contains(sensitiveKeys, p) {
			if i >= 2 && parts[1] == "Resources" {
				resource = " of " + parts[2]
			}
			return p, resource
		}
	}
	return "", ""
}
