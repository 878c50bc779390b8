package render

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"gopkg.in/yaml.v3"
)

// Encode gives the template's bytes: format "json" (2-space indent, trailing
// newline) or "yaml". The same template always gives the same bytes: every
// mapping is written with its keys sorted.
//
// Use Encode rather than Template.JSON: it resolves exactly the intrinsic
// functions Render made, and it writes a Ref to a list parameter where a
// list is expected (goformation's typed list fields would nest it).
func (s Stack) Encode(format string) ([]byte, error) {
	doc, err := s.document()
	if err != nil {
		return nil, err
	}
	if len(s.patches) > 0 {
		var errs []*PatchError
		if doc, errs = applyPatches(doc, string(s.Kind), s.patches, false); len(errs) > 0 {
			return nil, fmt.Errorf("encoding stack %s: %w", s.Name, errs[0])
		}
	}
	switch format {
	case "", "json":
		return encodeJSON(doc)
	case "yaml":
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(yamlValue(doc)); err != nil {
			return nil, fmt.Errorf("encoding stack %s as YAML: %w", s.Name, err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encoding stack %s as YAML: %w", s.Name, err)
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("unknown template format %q: use json or yaml", format)
}

// document is the template as JSON values (numbers as json.Number), its
// intrinsic-function tokens resolved: what Encode writes, before patches.
func (s Stack) document() (any, error) {
	if s.Template == nil {
		return nil, fmt.Errorf("encoding stack %s: no template", s.Name)
	}
	raw, err := json.Marshal(s.Template)
	if err != nil {
		return nil, fmt.Errorf("encoding stack %s: %w", s.Name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("encoding stack %s: %w", s.Name, err)
	}
	r := resolver{fns: s.fns, lists: listParams(s.Template)}
	return r.resolve(doc, 0), nil
}

// EncodeParameters gives the parameters file in the AWS CLI's shape:
// [{"ParameterKey": ..., "ParameterValue": ...}], sorted by key.
func (s Stack) EncodeParameters() ([]byte, error) {
	type param struct {
		ParameterKey   string `json:"ParameterKey"`
		ParameterValue string `json:"ParameterValue"`
	}
	out := []param{}
	for _, k := range slices.Sorted(maps.Keys(s.Parameters)) {
		out = append(out, param{k, s.Parameters[k]})
	}
	return encodeJSON(out)
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep AWS::SSM::Parameter::Value<...> readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// listParams names the template's parameters whose value is a list.
func listParams(t *cloudformation.Template) map[string]bool {
	out := map[string]bool{}
	for name, p := range t.Parameters {
		if strings.Contains(p.Type, "List<") || p.Type == "CommaDelimitedList" {
			out[name] = true
		}
	}
	return out
}

// maxDepth bounds resolution; Render's templates nest a dozen levels.
const maxDepth = 64

type resolver struct {
	fns   fns
	lists map[string]bool
}

// resolve replaces intrinsic tokens with the functions they stand for.
func (r resolver) resolve(v any, depth int) any {
	if depth > maxDepth {
		return v
	}
	switch x := v.(type) {
	case string:
		if f, ok := r.lookup(x); ok {
			return r.resolve(f, depth+1)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.resolve(e, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.resolve(e, depth+1)
		}
		// [{"Ref": ListParam}] is a list inside a list; CloudFormation wants
		// the Ref itself.
		if len(out) == 1 {
			if m, ok := out[0].(map[string]any); ok && len(m) == 1 {
				if name, ok := m["Ref"].(string); ok && r.lists[name] {
					return m
				}
			}
		}
		return out
	}
	return v
}

// lookup finds the function a token stands for. A Stack made by Render knows
// its tokens; one built by hand falls back to goformation's convention.
func (r resolver) lookup(s string) (any, bool) {
	if r.fns.m != nil {
		f, ok := r.fns.m[s]
		return f, ok
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || len(m) != 1 {
		return nil, false
	}
	for k := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return m, true
		}
	}
	return nil, false
}

// yamlValue turns json.Number into Go numbers so YAML writes them unquoted.
func yamlValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = yamlValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = yamlValue(e)
		}
		return out
	}
	return v
}
