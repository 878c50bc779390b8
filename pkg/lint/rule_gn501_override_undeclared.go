package lint

import (
	"maps"
	"slices"
	"strings"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

func ruleOverrideUndeclared() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN501", Name: "override-undeclared", Severity: Error,
			Title: "stage overrides change only resources declared at the top level",
			Doc: "overrides.resources tunes resources the service declares under resources:; it cannot add one " +
				"for a single stage. An override of an undeclared name (often a typo) would otherwise be ignored.",
			Example: Example{
				YAML: "resources:\n  db:\n    type: postgres\nstages:\n  - name: prod\n    account: \"777788889999\"\n" +
					"    regions: [us-east-1]\n    overrides:\n      resources:\n        dbb: {multiAZ: true}\n",
				Message: "`overrides.resources.dbb` changes a resource that is not declared; did you mean \"db\"?",
			},
		},
		check: func(c *checker) {
			names := slices.Sorted(maps.Keys(c.d.Resources))
			for i := range c.d.Stages {
				for _, e := range resourceOverrides(&c.d.Stages[i]) {
					if _, ok := c.d.Resources[e.name]; ok {
						continue
					}
					sp := spanOr(c.d.Pos, stagePath(i)+".overrides.resources."+e.name+"#key", e.key)
					switch s := descriptor.Suggest(e.name, names); {
					case s != "":
						c.report(sp, "`overrides.resources.%s` changes a resource that is not declared; did you mean %q?", e.name, s)
					case len(names) > 0:
						c.report(sp, "`overrides.resources.%s` changes a resource that is not declared; declared: %s", e.name, strings.Join(names, ", "))
					default:
						c.report(sp, "`overrides.resources.%s` changes a resource that is not declared; declare it under the top-level `resources:`", e.name)
					}
				}
			}
		},
	}
}
