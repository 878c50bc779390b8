package lint

func ruleOverrideType() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN502", Name: "override-type", Severity: Error,
			Title: "stage overrides keep a resource's type",
			Doc: "A resource is one kind of store in every stage: changing its type for one stage would deploy a " +
				"different store there under the same name, and its placeholders would mean different things.",
			Example: Example{
				YAML: "resources:\n  cache:\n    type: redis\nstages:\n  - name: prod\n    account: \"777788889999\"\n" +
					"    regions: [us-east-1]\n    overrides:\n      resources:\n        cache: {type: postgres}\n",
				Message: "`overrides.resources.cache.type` changes the type of \"cache\" from redis to postgres; a resource keeps its type in every stage",
			},
		},
		check: func(c *checker) {
			for i := range c.d.Stages {
				for _, e := range resourceOverrides(&c.d.Stages[i]) {
					top := c.d.Resources[e.name]
					k, v := mappingValue(e.body, "type")
					if top == nil || k == nil || v == nil || v.Value == top.Type {
						continue
					}
					c.report(spanOr(c.d.Pos, stagePath(i)+".overrides.resources."+e.name+".type#key", k),
						"`overrides.resources.%s.type` changes the type of %q from %s to %s; a resource keeps its type in every stage", e.name, e.name, top.Type, v.Value)
				}
			}
		},
	}
}
