package lint

import (
	"maps"
	"slices"

	"github.com/gantryhq/gantry/pkg/naming"
)

func ruleLogicalIDs() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN504", Name: "logical-id-clash", Severity: Error,
			Title: "resource names give distinct CloudFormation logical IDs",
			Doc: "A resource's logical IDs in the data stack come from its name in CamelCase (user-db → UserDb…), " +
				"and logical IDs hold only letters and digits. Two names that differ only in hyphens (a1b and a-1b) " +
				"would give the same IDs; gantry render refuses them.",
			Example: Example{
				YAML:    "resources:\n  db1:\n    type: postgres\n  db-1:\n    type: postgres\n",
				Message: "resource \"db-1\" gives the same CloudFormation logical IDs (Db1…) as \"db1\" (line 2); rename one",
			},
		},
		check: func(c *checker) {
			names := slices.Sorted(maps.Keys(c.d.Resources))
			// Report the later one in the file, so the message points back.
			slices.SortStableFunc(names, func(a, b string) int {
				return locate(c.d.Pos, "resources."+a).Line - locate(c.d.Pos, "resources."+b).Line
			})
			first := map[string]string{}
			for _, n := range names {
				stem := naming.LogicalStem(n)
				if prev, ok := first[stem]; ok {
					c.report(locate(c.d.Pos, "resources."+n), "resource %q gives the same CloudFormation logical IDs (%s…) as %q (line %d); rename one",
						n, stem, prev, locate(c.d.Pos, "resources."+prev).Line)
					continue
				}
				first[stem] = n
			}
		},
	}
}
