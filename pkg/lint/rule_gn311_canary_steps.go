package lint

import "fmt"

func ruleCanarySteps() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN311", Name: "canary-steps", Severity: Error,
			Title: "canary steps go up strictly, each 1-99",
			Doc: "Each step is the percent of a region's traffic on the new version while it bakes. Traffic only moves forward, " +
				"so each step is above the one before it; 0 would send the canary nothing and 100 is the promotion that follows the last step.",
			Example: Example{
				YAML:    "rollout:\n  canary:\n    steps: [25, 5, 50]\n",
				Message: "`rollout.canary.steps[1]` is 5, not above the step before it (25); steps go up strictly, such as [5, 25, 50]",
			},
		},
		check: func(c *checker) {
			cn := c.d.Rollout.Canary
			if cn == nil || !has(c.d.Pos, "rollout.canary.steps") {
				return
			}
			if len(cn.Steps) == 0 {
				c.report(value(c.d.Pos, "rollout.canary.steps"), "`rollout.canary.steps` is empty; give at least one step, such as [10, 50]")
				return
			}
			for i, w := range cn.Steps {
				p := fmt.Sprintf("rollout.canary.steps[%d]", i)
				switch {
				case w < 1 || w > 99:
					c.report(value(c.d.Pos, p), "`%s` is %d; a step is 1-99 percent of the traffic (100 follows the last step by itself)", p, w)
				case i > 0 && w <= cn.Steps[i-1]:
					c.report(value(c.d.Pos, p), "`%s` is %d, not above the step before it (%d); steps go up strictly, such as [5, 25, 50]", p, w, cn.Steps[i-1])
				}
			}
		},
	}
}
