package lint

func ruleCanaryWeightFlag() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN312", Name: "canary-weight-flag", Severity: Error,
			Title: "`rollout.canary.weightFlag` is its own flag",
			Doc: "The weight flag is an integer: the most traffic the canary may take. The gate and halt flags are booleans " +
				"with other meanings; one flag cannot be both, and a boolean read as a weight fails closed and aborts every canary.",
			Example: Example{
				YAML:    "rollout:\n  gate: payments-deploy\n  canary:\n    steps: [10, 50]\n    weightFlag: payments-deploy\n",
				Message: "`rollout.canary.weightFlag` is the same flag as `rollout.gate` (\"payments-deploy\"); give the canary's weight its own integer flag",
			},
		},
		check: func(c *checker) {
			cn := c.d.Rollout.Canary
			if cn == nil || cn.WeightFlag == "" {
				return
			}
			for _, other := range []struct{ key, flag string }{{"gate", c.d.Rollout.Gate}, {"halt", c.d.Rollout.Halt}} {
				if cn.WeightFlag == other.flag {
					c.report(value(c.d.Pos, "rollout.canary.weightFlag"), "`rollout.canary.weightFlag` is the same flag as `rollout.%s` (%q); give the canary's weight its own integer flag", other.key, other.flag)
					return
				}
			}
		},
	}
}
