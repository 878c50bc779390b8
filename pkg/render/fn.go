package render

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
)

// fns builds CloudFormation intrinsic functions for goformation's typed
// structs. goformation carries an intrinsic in a string field as base64 of
// its JSON; fns makes tokens in that same form and remembers each one, so
// that Encode turns exactly these tokens back into functions and leaves
// every other string alone, even one a descriptor author crafted to look
// like a token.
type fns map[string]any

// fn makes the token of {name: arg}. arg holds only strings (literals or
// tokens), numbers and slices of them, so marshalling cannot fail.
func (f fns) fn(name string, arg any) string {
	data, err := json.Marshal(map[string]any{name: arg})
	if err != nil {
		// Unreachable with the argument types above; keep the zero value
		// visible rather than panicking.
		return ""
	}
	tok := base64.StdEncoding.EncodeToString(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	f[tok] = v
	return tok
}

func (f fns) ref(name string) string { return f.fn("Ref", name) }

func (f fns) getAtt(resource, attr string) string {
	return f.fn("Fn::GetAtt", []string{resource, attr})
}

func (f fns) importValue(name string) string { return f.fn("Fn::ImportValue", name) }

// join concatenates parts with sep. With sep "" adjacent literals are merged
// and empty ones dropped, so an all-literal join gives the plain string.
func (f fns) join(sep string, parts ...string) string {
	if sep == "" {
		var merged []string
		for _, p := range parts {
			switch {
			case p == "":
			case !f.isFn(p) && len(merged) > 0 && !f.isFn(merged[len(merged)-1]):
				merged[len(merged)-1] += p
			default:
				merged = append(merged, p)
			}
		}
		parts = merged
	}
	switch {
	case len(parts) == 0:
		return ""
	case len(parts) == 1:
		return parts[0]
	}
	return f.fn("Fn::Join", []any{sep, parts})
}

func (f fns) split(sep, s string) string { return f.fn("Fn::Split", []string{sep, s}) }

func (f fns) selectFn(i int, list string) string { return f.fn("Fn::Select", []any{i, list}) }

func (f fns) isFn(s string) bool { _, ok := f[s]; return ok }

// Pseudo parameters.
func (f fns) region() string    { return f.ref("AWS::Region") }
func (f fns) account() string   { return f.ref("AWS::AccountId") }
func (f fns) partition() string { return f.ref("AWS::Partition") }

// arn builds arn:<partition>:<service>:<region>:<account>:<rest...> for the
// stack's own partition, region and account.
func (f fns) arn(service string, rest ...string) string {
	parts := []string{"arn:", f.partition(), ":" + service + ":", f.region(), ":", f.account(), ":"}
	return f.join("", append(parts, rest...)...)
}
