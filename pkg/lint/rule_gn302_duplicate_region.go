package lint

func ruleDuplicateRegion() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN302", Name: "duplicate-region", Severity: Error,
			Title: "a region appears once per stage",
			Doc: "A stage deploys each of its regions once. A region listed twice, in one wave or in two, " +
				"would run two rollouts of the same stacks.",
			Example: Example{
				YAML: "stages:\n  - name: prod\n    account: \"777788889999\"\n    waves:\n" +
					"      - regions: [us-east-1]\n      - regions: [eu-west-1, us-east-1]\n",
				Message: "region \"us-east-1\" is already in wave 1 of stage \"prod\" (line 5); list each region once",
			},
		},
		check: func(c *checker) {
			for i, st := range c.d.Stages {
				type seen struct{ wave, line int }
				first := map[string]seen{}
				for j, w := range st.Waves {
					for k, r := range w.Regions {
						sp := value(c.d.Pos, regionPath(i, j, k))
						f, dup := first[r]
						if !dup {
							first[r] = seen{j + 1, sp.Line}
							continue
						}
						if f.wave == j+1 && st.Shorthand {
							c.report(sp, "region %q is listed twice in stage %q (line %d); list each region once", r, st.Name, f.line)
						} else {
							c.report(sp, "region %q is already in wave %d of stage %q (line %d); list each region once", r, f.wave, st.Name, f.line)
						}
					}
				}
			}
		},
	}
}
