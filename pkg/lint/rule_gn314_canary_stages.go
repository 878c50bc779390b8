package lint

import (
	"fmt"
	"slices"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

func ruleCanaryStages() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN314", Name: "canary-stages", Severity: Error,
			Title: "`rollout.canary.stages` names stages of the descriptor",
			Doc: "A stage named in canary.stages that the descriptor does not have (a typo) would silently deploy the " +
				"real stage all at once, without the canary meant to protect it.",
			Example: Example{
				YAML:    "rollout:\n  canary:\n    steps: [10, 50]\n    stages: [prd]\nstages:\n  - name: prod\n    account: \"777788889999\"\n    regions: [us-east-1]\n",
				Message: "`rollout.canary.stages[0]` names stage \"prd\", which the descriptor does not have; did you mean \"prod\"?",
			},
		},
		check: func(c *checker) {
			cn := c.d.Rollout.Canary
			if cn == nil {
				return
			}
			var names []string
			for _, st := range c.d.Stages {
				names = append(names, st.Name)
			}
			seen := map[string]bool{}
			for i, s := range cn.Stages {
				p := fmt.Sprintf("rollout.canary.stages[%d]", i)
				switch {
				case seen[s]:
					c.report(value(c.d.Pos, p), "`%s`: stage %q is listed twice; list it once", p, s)
				case !slices.Contains(names, s):
					hint := "; the stages are " + oneOf(names)
					if sug := descriptor.Suggest(s, names); sug != "" {
						hint = fmt.Sprintf("; did you mean %q?", sug)
					}
					c.report(value(c.d.Pos, p), "`%s` names stage %q, which the descriptor does not have%s", p, s, hint)
				}
				seen[s] = true
			}
		},
	}
}
