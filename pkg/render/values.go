package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// value resolves a descriptor string that may hold placeholders into a
// CloudFormation string: the plain text when it has none, else an Fn::Join
// of literals and references. path names the value in errors.
func (c *ctx) value(f fns, s, path string) (string, error) {
	segs, terr := descriptor.ParseTemplate(s)
	if terr != nil {
		return "", fmt.Errorf("%s: %s", path, terr.Msg)
	}
	parts := make([]string, 0, len(segs))
	for _, seg := range segs {
		if seg.Ref == nil {
			parts = append(parts, seg.Literal)
			continue
		}
		p, err := c.placeholder(f, *seg.Ref, path)
		if err != nil {
			return "", err
		}
		parts = append(parts, p)
	}
	return f.join("", parts...), nil
}

// placeholder resolves one plain (non-secret) placeholder.
func (c *ctx) placeholder(f fns, ref descriptor.Ref, path string) (string, error) {
	switch ref.Name {
	case "service":
		return c.service(), nil
	case "stage":
		return c.stageName(), nil
	case "region":
		return f.region(), nil
	case "account":
		return f.account(), nil
	case "version":
		return f.ref(c.versionParam()), nil
	case "resources":
		r, err := c.resourceOutput(ref, path)
		if err != nil {
			return "", err
		}
		if r.IsSecretOutput(ref.Output) {
			return "", fmt.Errorf("%s: %s is a secret; use it only under secrets:, where it becomes an ECS secret", path, ref)
		}
		return f.importValue(c.exportName(OutputName(ref.Resource, r, ref.Output))), nil
	}
	return "", fmt.Errorf("%s: unknown placeholder %s", path, ref)
}

// resourceOutput checks that ${resources.NAME.OUTPUT} names a declared
// resource and an output its type has.
func (c *ctx) resourceOutput(ref descriptor.Ref, path string) (*descriptor.Resource, error) {
	r := c.spec.Resources[ref.Resource]
	if r == nil {
		return nil, fmt.Errorf("%s: %s names resource %q, which the descriptor does not declare", path, ref, ref.Resource)
	}
	outs := r.Outputs()
	if !slices.Contains(outs, ref.Output) {
		return nil, fmt.Errorf("%s: %s: a %s resource has no output %q (it has %s)", path, ref, r.Type, ref.Output, strings.Join(outs, ", "))
	}
	return r, nil
}

// secretRef is one entry of `secrets:` resolved: what ECS reads and which
// IAM resource the execution role needs for it.
type secretRef struct {
	valueFrom string
	// ssmARN or smARN is the resource the execution role may read.
	ssmARN, smARN string
	// kmsARN is the customer managed key the secret is encrypted with, if
	// gantry made it.
	kmsARN string
}

// secret resolves a value under `secrets:`: ssm:/path, secretsmanager:NAME,
// secretsmanager:NAME#key, or a secret output ${resources.NAME.password|auth}.
func (c *ctx) secret(f fns, s, path string) (secretRef, error) {
	switch {
	case strings.HasPrefix(s, "ssm:"):
		name, err := c.value(f, strings.TrimPrefix(s, "ssm:"), path)
		if err != nil {
			return secretRef{}, err
		}
		if name == "" || strings.ContainsAny(name, "*?") {
			return secretRef{}, fmt.Errorf("%s names no single parameter; write ssm:/path/to/parameter, without wildcards", path)
		}
		arn := name
		if !strings.HasPrefix(name, "arn:") {
			if !strings.HasPrefix(name, "/") && !f.isFn(name) {
				name = "/" + name
			}
			arn = f.arn("ssm", "parameter", name)
		}
		return secretRef{valueFrom: arn, ssmARN: arn}, nil

	case strings.HasPrefix(s, "secretsmanager:"):
		rawName, rawKey, hasKey := strings.Cut(strings.TrimPrefix(s, "secretsmanager:"), "#")
		name, err := c.value(f, rawName, path)
		if err != nil {
			return secretRef{}, err
		}
		if name == "" || (hasKey && rawKey == "") || strings.ContainsAny(name, "*?") {
			return secretRef{}, fmt.Errorf("%s must be secretsmanager:NAME or secretsmanager:NAME#jsonKey, one secret without wildcards", path)
		}
		arn, policyARN := name, name
		if !strings.HasPrefix(name, "arn:") {
			arn = f.arn("secretsmanager", "secret:", name)
			// Secrets Manager appends six random characters to a secret's
			// ARN; this matches them and nothing longer.
			policyARN = f.join("", arn, "-??????")
		}
		ref := secretRef{valueFrom: arn, smARN: policyARN}
		if hasKey {
			key, err := c.value(f, rawKey, path)
			if err != nil {
				return secretRef{}, err
			}
			ref.valueFrom = f.join("", arn, ":", key, "::")
		}
		return ref, nil

	case strings.HasPrefix(s, "${"):
		segs, terr := descriptor.ParseTemplate(s)
		if terr != nil {
			// terr's message repeats the text, which may be a pasted secret.
			return secretRef{}, fmt.Errorf("%s: a malformed placeholder; a secret is one placeholder of a secret resource output, such as ${resources.db.password}", path)
		}
		if len(segs) != 1 || segs[0].Ref == nil || segs[0].Ref.Name != "resources" {
			return secretRef{}, fmt.Errorf("%s: a secret is one placeholder of a secret resource output, such as ${resources.db.password}", path)
		}
		ref := *segs[0].Ref
		r, err := c.resourceOutput(ref, path)
		if err != nil {
			return secretRef{}, err
		}
		if !r.IsSecretOutput(ref.Output) {
			return secretRef{}, fmt.Errorf("%s: %s is not a secret; put it under env", path, ref)
		}
		arn := f.importValue(c.exportName(OutputName(ref.Resource, r, ref.Output)))
		out := secretRef{valueFrom: f.join("", arn, ":"+secretKey(ref.Output)+"::"), smARN: arn}
		if o, _ := r.Output(ref.Output); o.OwnKey {
			out.kmsARN = f.importValue(c.exportName(OutputSecretsKey))
		}
		return out, nil
	}
	return secretRef{}, fmt.Errorf("%s: secrets are references, not values: use ssm:/path, secretsmanager:NAME[#jsonKey] or ${resources.NAME.password|auth}", path)
}
