package lint

import "strings"

func ruleCanaryWorker() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN310", Name: "canary-worker", Severity: Error,
			Title: "`rollout.canary` needs a web service",
			Doc: "A canary moves a share of the load balancer's requests to the new version. A worker (no compute.port) " +
				"gets no load balancer, so there is no traffic to split and nothing to compare.",
			Example: Example{
				YAML:    "rollout:\n  canary:\n    steps: [10, 50]\n",
				Message: "`rollout.canary` is set but the service has no `compute.port` (a worker): a canary splits load balancer traffic, which a worker gets none of; remove `rollout.canary` or add `compute.port`",
			},
		},
		check: func(c *checker) {
			if c.d.Rollout.Canary == nil {
				return
			}
			var workers []string
			for _, st := range c.d.Stages {
				if c.d.CanaryFor(st.Name) == nil {
					continue
				}
				if spec := c.d.SpecFor(st.Name); spec != nil && spec.Compute.Port == nil {
					workers = append(workers, st.Name)
				}
			}
			if len(workers) == 0 {
				return
			}
			where := ""
			if len(workers) < len(c.d.Stages) {
				where = " in stage " + strings.Join(workers, ", ")
			}
			c.report(locate(c.d.Pos, "rollout.canary"), "`rollout.canary` is set but the service has no `compute.port`%s (a worker): a canary splits load balancer traffic, which a worker gets none of; remove `rollout.canary` or add `compute.port`", where)
		},
	}
}
