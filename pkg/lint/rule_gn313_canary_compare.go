package lint

import "github.com/gantryhq/gantry/pkg/descriptor"

func ruleCanaryCompare() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN313", Name: "canary-compare", Severity: Error,
			Title: "canary compare values are in range",
			Doc: "errorRateMargin is how many percentage points of 5xx the canary may have over the stable version: above 0 " +
				"(0 alarms on any difference, noise included) and below 100. latencyFactor is how many times the stable p99 " +
				"the canary's may reach: above 1 (at 1 the canary alarms whenever it is slower at all) and at most 100.",
			Example: Example{
				YAML:    "rollout:\n  canary:\n    steps: [10, 50]\n    compare:\n      latencyFactor: 0.5\n",
				Message: "`rollout.canary.compare.latencyFactor` is 0.5; it is a factor over the stable version's p99 latency: above 1 and at most 100, such as 1.5",
			},
		},
		check: func(c *checker) {
			cn := c.d.Rollout.Canary
			if cn == nil || cn.Compare == nil {
				return
			}
			if m := cn.Compare.ErrorRateMargin; m != nil && (*m <= 0 || *m >= descriptor.MaxErrorRateMargin) {
				c.report(value(c.d.Pos, "rollout.canary.compare.errorRateMargin"), "`rollout.canary.compare.errorRateMargin` is %g; it is percentage points of 5xx over the stable version's rate: above 0 and below 100, such as 1", *m)
			}
			if f := cn.Compare.LatencyFactor; f != nil && (*f <= descriptor.MinLatencyFactor || *f > descriptor.MaxLatencyFactor) {
				c.report(value(c.d.Pos, "rollout.canary.compare.latencyFactor"), "`rollout.canary.compare.latencyFactor` is %g; it is a factor over the stable version's p99 latency: above 1 and at most 100, such as 1.5", *f)
			}
		},
	}
}
