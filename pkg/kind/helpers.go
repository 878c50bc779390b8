package kind

import "github.com/gantryhq/gantry/pkg/naming"

// ServiceTrust lets an AWS service assume a role on behalf of this account
// only.
func ServiceTrust(f Fn, service string) map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": service},
			"Action":    "sts:AssumeRole",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": f.Account()}},
		}},
	}
}

// DenyInsecureTransport is the resource-policy statement refusing requests
// without TLS on the given resources, for the action prefix (s3:*, sqs:*).
func DenyInsecureTransport(action string, resources ...string) map[string]any {
	return map[string]any{
		"Sid":       "DenyInsecureTransport",
		"Effect":    "Deny",
		"Principal": "*",
		"Action":    action,
		"Resource":  resources,
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}
}

// Ptr returns a pointer to v, for goformation's optional fields.
func Ptr[T any](v T) *T { return &v }

// DataKeyUse is the task role's statement, named sid, on the data stack's
// key, as the AWS service (dynamodb, sqs, sns) encrypts and decrypts with
// it for the app.
func DataKeyUse(a App, policy, sid, service string) Statement {
	return Statement{
		Policy: policy, Sid: sid, Once: true,
		Actions:   []string{"kms:Decrypt", "kms:GenerateDataKey"},
		Resources: []string{a.DataKey()},
		Condition: map[string]any{"StringEquals": map[string]any{"kms:ViaService": a.Join("", service+".", a.Region(), ".amazonaws.com")}},
	}
}

// Stem is the CamelCase stem of a resource name's logical IDs.
func Stem(name string) string { return naming.LogicalStem(name) }
