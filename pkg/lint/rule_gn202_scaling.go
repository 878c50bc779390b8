package lint

func ruleScaling() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN202", Name: "scaling-range", Severity: Error,
			Title: "`scaling` min, max and cpuTarget are in range",
			Doc: "Application Auto Scaling rejects a minimum above the maximum or below zero, and a CPU target " +
				"tracks a percentage, so it must lie between 1 and 100.",
			Example: Example{
				YAML:    "scaling:\n  min: 6\n  max: 3\n",
				Message: "`scaling.min` 6 is above `scaling.max` 3; lower min or raise max",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				s := v.Spec.Scaling
				switch {
				case s.Min < 0:
					v.report(value(v.Pos, "scaling.min"), "`scaling.min` %d is negative; use 0 or more", s.Min)
				case s.Max < 1:
					v.report(value(v.Pos, "scaling.max"), "`scaling.max` %d leaves the service no task; use 1 or more", s.Max)
				case s.Min > s.Max:
					at := "scaling.min"
					if !has(v.Pos, at) {
						at = "scaling.max"
					}
					v.report(value(v.Pos, at), "`scaling.min` %d is above `scaling.max` %d; lower min or raise max", s.Min, s.Max)
				}
				if s.CPUTarget < 1 || s.CPUTarget > 100 {
					v.report(value(v.Pos, "scaling.cpuTarget"), "`scaling.cpuTarget` %d is not a percentage; use 1 to 100 (60 is a good start)", s.CPUTarget)
				}
			})
		},
	}
}
