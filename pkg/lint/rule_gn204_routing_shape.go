package lint

func ruleRoutingShape() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN204", Name: "routing-shape", Severity: Error,
			Title: "a web service routes by `routing.path` or `routing.host`, exactly one",
			Doc: "A service with compute.port gets a listener rule on the platform load balancer, which needs " +
				"either routing.path or routing.host to know which requests are the service's.",
			Example: Example{
				YAML:    "compute:\n  cpu: 256\n  memory: 512\n  port: 8080\nrouting:\n  path: /payments/*\n  host: payments.example.com\n",
				Message: "`routing` has both path and host; use one of the two",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				if v.Spec.Compute.Port == nil {
					return // GN203's business
				}
				r := v.Spec.Routing
				switch {
				case r == nil:
					v.report(locate(v.Pos, "compute.port"), "`compute.port` is set but `routing` is not; add `routing.path` (such as /payments/*) or `routing.host`, or remove port for a worker")
				case r.Path != "" && r.Host != "":
					v.report(locate(v.Pos, "routing.host"), "`routing` has both path and host; use one of the two")
				case r.Path == "" && r.Host == "":
					v.report(locate(v.Pos, "routing"), "`routing` needs path (such as /payments/*) or host (such as payments.example.com)")
				}
			})
		},
	}
}
