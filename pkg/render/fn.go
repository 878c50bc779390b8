package render

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// fns builds CloudFormation intrinsic functions for goformation's typed
// structs, whose fields are mostly strings. Each function is stood for by a
// token string that Encode turns back into the function. Tokens carry a
// random nonce so that no string a descriptor author writes can pass for
// one; they never reach the encoded template, so output stays deterministic.
// (goformation's own convention, base64 of the function's JSON, can be
// forged by writing that base64 into a descriptor.)
type fns struct {
	nonce string
	m     map[string]any
}

func newFns() fns {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return fns{nonce: "\x00gantry-fn:" + hex.EncodeToString(b) + ":", m: map[string]any{}}
}

// fn makes the token of {name: arg}. arg holds only strings (literals or
// tokens), numbers and slices of them, so marshalling cannot fail.
func (f fns) fn(name string, arg any) string {
	data, err := json.Marshal(map[string]any{name: arg})
	if err != nil {
		// Unreachable with the argument types above; an empty string shows
		// up in review rather than a panic.
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	tok := f.nonce + strconv.Itoa(len(f.m))
	f.m[tok] = v
	return tok
}

func (f fns) ref(name string) string { return f.fn("Ref", name) }

func (f fns) getAtt(resource, attr string) string {
	return f.fn("Fn::GetAtt", []string{resource, attr})
}

func (f fns) importValue(name string) string { return f.fn("Fn::ImportValue", name) }

// join concatenates parts with sep. With sep "" adjacent literals are
// merged, empty ones dropped and nested empty-separator joins spliced in, so
// an all-literal join gives the plain string.
func (f fns) join(sep string, parts ...string) string {
	if sep == "" {
		var merged []string
		for _, p := range parts {
			if inner, ok := f.joinParts(p); ok {
				for _, q := range inner {
					merged = f.appendPart(merged, q)
				}
				continue
			}
			merged = f.appendPart(merged, p)
		}
		parts = merged
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return f.fn("Fn::Join", []any{sep, parts})
}

func (f fns) appendPart(parts []string, p string) []string {
	switch {
	case p == "":
		return parts
	case !f.isFn(p) && len(parts) > 0 && !f.isFn(parts[len(parts)-1]):
		parts[len(parts)-1] += p
		return parts
	}
	return append(parts, p)
}

// joinParts gives the parts of tok when it is an Fn::Join with separator "".
func (f fns) joinParts(tok string) ([]string, bool) {
	m, ok := f.m[tok].(map[string]any)
	if !ok {
		return nil, false
	}
	args, ok := m["Fn::Join"].([]any)
	if !ok || len(args) != 2 || args[0] != "" {
		return nil, false
	}
	list, ok := args[1].([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func (f fns) split(sep, s string) string { return f.fn("Fn::Split", []string{sep, s}) }

func (f fns) selectFn(i int, list string) string { return f.fn("Fn::Select", []any{i, list}) }

func (f fns) isFn(s string) bool { _, ok := f.m[s]; return ok }

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
