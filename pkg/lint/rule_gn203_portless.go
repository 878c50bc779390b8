package lint

func rulePortless() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN203", Name: "worker-routing", Severity: Error,
			Title: "`routing` and `compute.healthcheck` come with `compute.port`",
			Doc: "A service without compute.port is a worker: it gets no target group and no listener rule, " +
				"so routing and a load balancer health check have nothing to apply to.",
			Example: Example{
				YAML:    "compute:\n  cpu: 256\n  memory: 512\nrouting:\n  path: /thumbs/*\n",
				Message: "`routing` is set but `compute.port` is not; a worker gets no load balancer: add `compute.port` or remove `routing`",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				if v.Spec.Compute.Port != nil {
					return
				}
				if v.Spec.Routing != nil {
					v.report(locate(v.Pos, "routing"), "`routing` is set but `compute.port` is not; a worker gets no load balancer: add `compute.port` or remove `routing`")
				}
				if v.Spec.Compute.Healthcheck != "" {
					v.report(locate(v.Pos, "compute.healthcheck"), "`compute.healthcheck` is set but `compute.port` is not; a worker gets no load balancer health check: add `compute.port` or remove `healthcheck`")
				}
			})
		},
	}
}
