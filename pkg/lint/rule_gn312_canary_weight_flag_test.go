package lint

import "testing"

func TestGN312CanaryWeightFlag(t *testing.T) {
	runRuleCases(t, "GN312", []ruleCase{
		{name: "own flag", yaml: web + "rollout:\n  gate: g\n  halt: h\n  canary:\n    steps: [10]\n    weightFlag: w\n"},
		{name: "no flags", yaml: web + "rollout:\n  canary:\n    steps: [10]\n"},
		{name: "the gate", yaml: web + "rollout:\n  gate: g\n  canary:\n    steps: [10]\n    weightFlag: g\n",
			want: []at{{11, 17}}, msg: "same flag as `rollout.gate`"},
		{name: "the halt", yaml: web + "rollout:\n  halt: h\n  canary:\n    steps: [10]\n    weightFlag: h\n",
			want: []at{{11, 17}}, msg: "same flag as `rollout.halt`"},
	})
}
