package lint

import "testing"

func TestGN313CanaryCompare(t *testing.T) {
	canary := web + "rollout:\n  canary:\n    steps: [10]\n    compare:\n"
	runRuleCases(t, "GN313", []ruleCase{
		{name: "good", yaml: canary + "      errorRateMargin: 1\n      latencyFactor: 1.5\n"},
		{name: "edges inside", yaml: canary + "      errorRateMargin: 99.9\n      latencyFactor: 100\n"},
		{name: "margin zero", yaml: canary + "      errorRateMargin: 0\n", want: []at{{11, 24}}, msg: "errorRateMargin` is 0"},
		{name: "margin hundred", yaml: canary + "      errorRateMargin: 100\n", want: []at{{11, 24}}},
		{name: "factor one", yaml: canary + "      latencyFactor: 1\n", want: []at{{11, 22}}, msg: "latencyFactor` is 1;"},
		{name: "both", yaml: canary + "      errorRateMargin: -1\n      latencyFactor: 101\n", want: []at{{11, 24}, {12, 22}}},
	})
}
