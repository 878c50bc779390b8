package lint

import "testing"

func TestGN404EnvSecretClash(t *testing.T) {
	runRuleCases(t, "GN404", []ruleCase{
		{name: "distinct", yaml: "env:\n  A: x\nsecrets:\n  B: ssm:/b\n"},
		{name: "clash", yaml: "env:\n  A: x\n  B: y\nsecrets:\n  B: ssm:/b\n", want: []at{{5, 3}}, msg: "B is set in both env (line 3) and secrets"},
	})
}
