package lint

func ruleContainerName() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN604", Name: "container-name", Severity: Error,
			Title: "no sidecar is named like the app container",
			Doc: "The app container is named after the service, and container names are unique in a task: a sidecar " +
				"of the same name would clash with it (and its log streams would mix with the app's).",
			Example: Example{
				YAML:    "sidecars:\n  payments:\n    image: public.ecr.aws/nginx/nginx:1.27\n    cpu: 64\n    memory: 64\n",
				Message: "sidecar \"payments\" has the name of the app container (the service's); rename the sidecar",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for _, n := range sidecarNames(v) {
					if n == c.d.Service {
						v.report(locate(v.Pos, "sidecars."+n), "sidecar %q has the name of the app container (the service's); rename the sidecar", n)
					}
				}
			})
		},
	}
}
