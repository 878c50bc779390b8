package lint

func ruleDuplicateStage() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN303", Name: "duplicate-stage", Severity: Error,
			Title: "stage names are unique",
			Doc: "Stages are addressed by name (--stage, --approve, locks, stack names). Two stages with " +
				"one name would deploy the same stacks twice with different settings.",
			Example: Example{
				YAML: "stages:\n  - name: prod\n    account: \"444455556666\"\n    regions: [us-east-1]\n" +
					"  - name: prod\n    account: \"777788889999\"\n    regions: [eu-west-1]\n",
				Message: "stage name \"prod\" is already used by stage 1 (line 2); give each stage its own name",
			},
		},
		check: func(c *checker) {
			first := map[string]int{}
			for i, st := range c.d.Stages {
				if st.Name == "" {
					continue
				}
				j, dup := first[st.Name]
				if !dup {
					first[st.Name] = i
					continue
				}
				c.report(value(c.d.Pos, stagePath(i)+".name"), "stage name %q is already used by stage %d (line %d); give each stage its own name",
					st.Name, j+1, value(c.d.Pos, stagePath(j)+".name").Line)
			}
		},
	}
}
