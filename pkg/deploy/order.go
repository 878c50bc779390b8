package deploy

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/gantryhq/gantry/pkg/naming"
)

// restoreOrder is the order a restore applies dep's stacks in: data first,
// as a deploy does, unless the running app stack imports an export the
// restored data stack no longer has. CloudFormation refuses to remove an
// export in use, so then the app stack goes back first (its older version
// does not import it) and the data stack after it. running is the
// deployment being replaced, nil when unknown.
func restoreOrder(dep, running *Deployment) []DeployedStack {
	stacks := slices.Clone(dep.Stacks)
	if running == nil {
		return stacks
	}
	exports := map[string]bool{}
	for _, s := range dep.Stacks {
		if s.Kind == naming.Data {
			exports = TemplateExports(s.Template, s.Name)
		}
	}
	for _, s := range running.Stacks {
		if s.Kind != naming.App {
			continue
		}
		for name := range templateImports(s.Template) {
			if !exports[name] {
				slices.SortStableFunc(stacks, func(a, b DeployedStack) int {
					return appFirst(a.Kind) - appFirst(b.Kind)
				})
				return stacks
			}
		}
	}
	return stacks
}

func appFirst(k naming.StackKind) int {
	if k == naming.App {
		return 0
	}
	return 1
}

// TemplateExports are the export names a template's outputs declare for
// the stack named stack: literal names, or an Fn::Sub of the stack's name.
func TemplateExports(tmpl []byte, stack string) map[string]bool {
	var t struct {
		Outputs map[string]struct {
			Export *struct {
				Name any `json:"Name"`
			} `json:"Export"`
		} `json:"Outputs"`
	}
	out := map[string]bool{}
	if json.Unmarshal(tmpl, &t) != nil {
		return out
	}
	for _, o := range t.Outputs {
		if o.Export == nil {
			continue
		}
		switch n := o.Export.Name.(type) {
		case string:
			out[n] = true
		case map[string]any:
			if sub, ok := n["Fn::Sub"].(string); ok {
				out[strings.ReplaceAll(sub, "${AWS::StackName}", stack)] = true
			}
		}
	}
	return out
}

// templateImports are the literal export names a template imports.
func templateImports(tmpl []byte) map[string]bool {
	var doc any
	out := map[string]bool{}
	if json.Unmarshal(tmpl, &doc) != nil {
		return out
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if n, ok := x.(string); ok && k == "Fn::ImportValue" {
					out[n] = true
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return out
}
