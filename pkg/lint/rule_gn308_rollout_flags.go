package lint

func ruleRolloutFlags() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN308", Name: "rollout-flags", Severity: Error,
			Title: "`rollout.gate` and `rollout.halt` are different flags",
			Doc: "The gate flag says true to let a region go ahead; the halt flag says true to stop everything. " +
				"One flag cannot mean both: with it on, every region would start and halt at once.",
			Example: Example{
				YAML:    "rollout:\n  gate: payments-deploy\n  halt: payments-deploy\n",
				Message: "`rollout.halt` is the same flag as `rollout.gate` (\"payments-deploy\"); use a separate flag to stop the rollout",
			},
		},
		check: func(c *checker) {
			r := c.d.Rollout
			if r.Gate != "" && r.Gate == r.Halt {
				c.report(value(c.d.Pos, "rollout.halt"), "`rollout.halt` is the same flag as `rollout.gate` (%q); use a separate flag to stop the rollout", r.Gate)
			}
		},
	}
}
