package lint

import "fmt"

func rulePortClash() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN602", Name: "port-clash", Severity: Error,
			Title: "the app and its sidecars listen on different ports",
			Doc: "The containers of a Fargate task share one network interface (awsvpc): two of them cannot listen " +
				"on the same port, and ECS refuses the task definition.",
			Example: Example{
				YAML:    "compute:\n  cpu: 512\n  memory: 1024\n  port: 8080\nsidecars:\n  envoy:\n    image: public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.4.0-prod\n    cpu: 128\n    memory: 128\n    port: 8080\n",
				Message: "sidecar envoy's port 8080 is also the app container's (compute.port, line 4); each container needs its own",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				owner := map[int]string{}
				where := map[int]int{}
				if p := v.Spec.Compute.Port; p != nil {
					owner[*p], where[*p] = "the app container's (compute.port, ", value(v.Pos, "compute.port").Line
				}
				for _, n := range sidecarNames(v) {
					sc := v.Spec.Sidecars[n]
					if sc == nil || sc.Port == nil {
						continue
					}
					path := "sidecars." + n + ".port"
					if o, taken := owner[*sc.Port]; taken {
						v.report(value(v.Pos, path), "sidecar %s's port %d is also %sline %d); each container needs its own", n, *sc.Port, o, where[*sc.Port])
						continue
					}
					owner[*sc.Port], where[*sc.Port] = fmt.Sprintf("sidecar %s's (", n), value(v.Pos, path).Line
				}
			})
		},
	}
}
