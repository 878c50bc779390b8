package render

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlJSON turns a patch's YAML value into the JSON value it stands for:
// mappings become objects, sequences arrays, and scalars what their YAML
// type says (a quoted "true" stays a string).
func yamlJSON(n *yaml.Node, depth int) (any, error) {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n == nil {
		return nil, nil
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("the value nests deeper than %d levels", maxDepth)
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" {
				return nil, fmt.Errorf("keys of a value must be plain strings (merge keys are not JSON)")
			}
			v, err := yamlJSON(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlJSON(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return scalarJSON(n)
}

func scalarJSON(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("value %q: %w", n.Value, err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, fmt.Errorf("value %q is not a number JSON can hold: %w", n.Value, err)
		}
		return json.Number(strconv.FormatInt(i, 10)), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("value %q is not a number JSON can hold", n.Value)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return n.Value, nil
}

// templateSections are the top-level keys a CloudFormation template may
// have.
var templateSections = []string{"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings", "Conditions", "Transform", "Resources", "Outputs"}

// validTemplate checks what a patch can break in a template and
// CloudFormation would refuse: its shape, every resource's Type, and that
// every Ref, Fn::GetAtt and DependsOn names something the template has.
func validTemplate(doc any) error {
	t, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("the template is %s, not an object", kindOf(doc))
	}
	for k, v := range t {
		if !slices.Contains(templateSections, k) {
			return fmt.Errorf("%q is not a template section (%s)", k, strings.Join(templateSections, ", "))
		}
		if _, isObj := v.(map[string]any); !isObj && k != "AWSTemplateFormatVersion" && k != "Description" && k != "Transform" {
			return fmt.Errorf("%s is %s, not an object", k, kindOf(v))
		}
	}
	res, _ := t["Resources"].(map[string]any)
	if len(res) == 0 {
		return fmt.Errorf("it has no Resources; a template needs at least one")
	}
	params, _ := t["Parameters"].(map[string]any)
	known := func(name string) bool {
		_, isRes := res[name]
		_, isParam := params[name]
		return isRes || isParam || strings.HasPrefix(name, "AWS::")
	}
	for _, id := range slices.Sorted(maps.Keys(res)) {
		if err := validResource(id, res[id], res); err != nil {
			return err
		}
	}
	return checkRefs(t, known, res, 0)
}

func validResource(id string, v any, res map[string]any) error {
	r, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("resource %s is %s, not an object", id, kindOf(v))
	}
	typ, _ := r["Type"].(string)
	if !strings.Contains(typ, "::") {
		return fmt.Errorf("resource %s has no Type such as AWS::S3::Bucket", id)
	}
	if p, has := r["Properties"]; has {
		if _, ok := p.(map[string]any); !ok {
			return fmt.Errorf("the Properties of %s are %s, not an object", id, kindOf(p))
		}
	}
	var deps []any
	switch d := r["DependsOn"].(type) {
	case string:
		deps = []any{d}
	case []any:
		deps = d
	}
	for _, d := range deps {
		name, _ := d.(string)
		if _, ok := res[name]; !ok {
			return fmt.Errorf("%s DependsOn %s, which is no resource of the template", id, shortJSON(d))
		}
	}
	return nil
}

// checkRefs walks the template for Ref and Fn::GetAtt whose target it
// lacks.
func checkRefs(v any, known func(string) bool, res map[string]any, depth int) error {
	if depth > maxDepth {
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if name, ok := x["Ref"].(string); ok && !known(name) {
				return fmt.Errorf("a Ref names %q, which is no resource or parameter of the template", name)
			}
			if att, ok := x["Fn::GetAtt"]; ok {
				var target string
				switch a := att.(type) {
				case []any:
					if len(a) > 0 {
						target, _ = a[0].(string)
					}
				case string:
					target, _, _ = strings.Cut(a, ".")
				}
				if _, ok := res[target]; !ok && target != "" {
					return fmt.Errorf("an Fn::GetAtt names %q, which is no resource of the template", target)
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if err := checkRefs(x[k], known, res, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkRefs(e, known, res, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
