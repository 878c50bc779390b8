package lint

import "testing"

func TestGN308RolloutFlags(t *testing.T) {
	runRuleCases(t, "GN308", []ruleCase{
		{name: "no rollout", yaml: ""},
		{name: "gate only", yaml: "rollout:\n  gate: g\n"},
		{name: "different", yaml: "rollout:\n  gate: g\n  halt: h\n"},
		{name: "same", yaml: "rollout:\n  gate: deploy\n  halt: deploy\n", want: []at{{3, 9}}, msg: `("deploy")`},
	})
}
