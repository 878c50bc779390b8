package lint

import (
	"strings"

	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/kinds"
)

// ruleResourceSettings checks each resource's settings against what its
// AWS service accepts; each kind says what that is (kind.Settings.Check).
func ruleResourceSettings() rule {
	var docs []string
	for _, k := range kinds.All() {
		if d := k.SettingsDoc(); d != "" {
			docs = append(docs, k.Title()+": "+d)
		}
	}
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN503", Name: "resource-settings", Severity: Error,
			Title: "resource settings are what the resource's AWS service accepts",
			Doc:   strings.Join(docs, " "),
			Example: Example{
				YAML:    "resources:\n  db:\n    type: postgres\n    storage: 5\n",
				Message: "`resources.db.storage` 5 GiB is below the 20 GiB RDS allows; use 20 to 65536",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				eachResource(v.Spec, nil, v.Pos, v.stageName(), v.report, func(kc kind.Check) { kc.Self().Settings.Check(kc) })
			})
		},
	}
}
