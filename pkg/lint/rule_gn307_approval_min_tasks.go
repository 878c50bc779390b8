package lint

func ruleApprovalMinTasks() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN307", Name: "approval-min-tasks", Severity: Warning,
			Title: "a stage with `approval` runs at least 2 tasks",
			Doc: "A stage that needs approval is production-like: with fewer than two tasks, one task's crash or " +
				"replacement is an outage. Raise scaling.min, usually in the stage's overrides.",
			Example: Example{
				YAML: "scaling:\n  min: 1\n  max: 4\nstages:\n  - name: prod\n    account: \"777788889999\"\n" +
					"    approval: true\n    regions: [us-east-1]\n",
				Message: "stage \"prod\" needs approval but runs `scaling.min` 1 task; set `overrides.scaling.min` to 2 or more for this stage",
			},
		},
		check: func(c *checker) {
			for i := range c.d.Stages {
				st := &c.d.Stages[i]
				if !st.Approval {
					continue
				}
				spec, pos := stageSpec(c.d, st)
				if n := spec.Scaling.Min; n < 2 && n >= 0 {
					noun := "tasks"
					if n == 1 {
						noun = "task"
					}
					c.report(locate(pos, "scaling.min"), "stage %q needs approval but runs `scaling.min` %d %s; set `overrides.scaling.min` to 2 or more for this stage", st.Name, n, noun)
				}
			}
		},
	}
}
