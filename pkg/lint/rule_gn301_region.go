package lint

import (
	"strings"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

func ruleRegion() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN301", Name: "region", Severity: Error,
			Title: "regions are real AWS regions",
			Doc: "Every region of every wave must be an AWS region code (commercial, GovCloud or China). " +
				"A misspelt region is otherwise found only when the rollout reaches it.",
			Example: Example{
				YAML:    "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east1]\n",
				Message: "unknown region \"us-east1\"; did you mean \"us-east-1\"?",
			},
		},
		check: func(c *checker) {
			names := regionNames()
			for i, st := range c.d.Stages {
				for j, w := range st.Waves {
					for k, r := range w.Regions {
						if _, ok := regionPartition[r]; ok {
							continue
						}
						sp := value(c.d.Pos, regionPath(i, j, k))
						// Same first letter: "mars-north-1" is no typo of "cn-north-1".
						in := strings.ToLower(strings.TrimSpace(r))
						if s := descriptor.Suggest(in, names); s != "" && in != "" && s[0] == in[0] {
							c.report(sp, "unknown region %q; did you mean %q?", r, s)
						} else {
							c.report(sp, "unknown region %q; use an AWS region code such as us-east-1 or eu-west-1", r)
						}
					}
				}
			}
		},
	}
}
