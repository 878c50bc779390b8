package deploy

import (
	"encoding/json"
	"slices"

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
			exports = templateExports(s.Template)
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

// templateExports are the literal export names of a template's outputs.
func templateExports(tmpl []byte) map[string]bool {
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
		if o.Export != nil {
			if n, ok := o.Export.Name.(string); ok {
				out[n] = true
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
