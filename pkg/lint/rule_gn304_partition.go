package lint

func rulePartition() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN304", Name: "partition", Severity: Error,
			Title: "a stage's regions share one AWS partition",
			Doc: "A stage has one account, and an account lives in one partition: commercial (aws), China " +
				"(aws-cn), GovCloud (aws-us-gov) or the European Sovereign Cloud (aws-eusc). Regions of two partitions cannot share a stage.",
			Example: Example{
				YAML:    "stages:\n  - name: prod\n    account: \"777788889999\"\n    regions: [us-east-1, cn-north-1]\n",
				Message: "region \"cn-north-1\" is in partition aws-cn but stage \"prod\" started in aws (us-east-1); an account lives in one partition: use a separate stage",
			},
		},
		check: func(c *checker) {
			for i, st := range c.d.Stages {
				firstRegion, firstPart := "", ""
				for j, w := range st.Waves {
					for k, r := range w.Regions {
						p, ok := regionPartition[r]
						if !ok {
							continue // GN301
						}
						if firstPart == "" {
							firstRegion, firstPart = r, p
							continue
						}
						if p != firstPart {
							c.report(value(c.d.Pos, regionPath(i, j, k)), "region %q is in partition %s but stage %q started in %s (%s); an account lives in one partition: use a separate stage",
								r, p, st.Name, firstPart, firstRegion)
						}
					}
				}
			}
		},
	}
}
