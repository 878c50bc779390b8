package render

import (
	"fmt"

	"github.com/awslabs/goformation/v7/cloudformation/kms"
	"github.com/awslabs/goformation/v7/cloudformation/policies"

	"github.com/gantryhq/gantry/pkg/naming"
)

// Customer managed KMS keys, one per purpose: the app stack's for its log
// group, the data stack's for its secrets and for its stores (kinddata.go).
// AWS managed keys would encrypt too, but their policy cannot be scoped and
// they cannot be disabled or audited per service (docs/security.md).
const idLogKey = "LogKey"

// kmsKey adds a rotating symmetric key whose policy lets the account's IAM
// policies grant its use (the key's default policy, so the deployer and the
// execution role's own policy work as for any resource) plus the services'
// statements in extra. The app stack's key carries the version tag, as
// everything in that stack does.
func (c *ctx) kmsKey(b *stackBuilder, id, desc string, app, keep bool, extra ...map[string]any) {
	f := b.fns
	stmts := []any{map[string]any{
		"Sid":       "AccountIAMPolicies",
		"Effect":    "Allow",
		"Principal": map[string]any{"AWS": f.join("", "arn:", f.partition(), ":iam::", f.account(), ":root")},
		"Action":    "kms:*",
		"Resource":  "*",
	}}
	for _, s := range extra {
		stmts = append(stmts, s)
	}
	key := &kms.Key{
		Description:       ptr(desc),
		EnableKeyRotation: ptr(true),
		KeyPolicy:         map[string]any{"Version": "2012-10-17", "Statement": stmts},
		Tags:              c.tags(f, app),
	}
	if keep {
		key.AWSCloudFormationDeletionPolicy = policies.DeletionPolicy("Retain")
		key.AWSCloudFormationUpdateReplacePolicy = policies.UpdateReplacePolicy("Retain")
	}
	b.resource(id, key)
}

// logKey adds the key of the service's log group. CloudWatch Logs in this
// region may use it for that one log group only.
func (c *ctx) logKey(b *stackBuilder) {
	c.logKeyFor(b, naming.LogGroup(c.service(), c.stageName()), fmt.Sprintf("Encrypts the %s %s container logs", c.service(), c.stageName()))
}

// logKeyFor adds the key of the log group named group.
func (c *ctx) logKeyFor(b *stackBuilder, group, desc string) {
	f := b.fns
	c.kmsKey(b, idLogKey, desc, true, false, map[string]any{
		"Sid":       "CloudWatchLogsOfTheService",
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": f.join("", "logs.", f.region(), ".amazonaws.com")},
		"Action":    []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"},
		"Resource":  "*",
		"Condition": map[string]any{"ArnEquals": map[string]any{
			"kms:EncryptionContext:aws:logs:arn": f.arn("logs", "log-group:"+group),
		}},
	})
}
