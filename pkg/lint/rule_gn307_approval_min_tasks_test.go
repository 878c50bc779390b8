package lint

import "testing"

func TestGN307ApprovalMinTasks(t *testing.T) {
	prod := func(extra string) string {
		return "stages:\n  - name: prod\n    account: \"777788889999\"\n    approval: true\n    regions: [us-east-1]\n" + extra
	}
	runRuleCases(t, "GN307", []ruleCase{
		{name: "default min 2", yaml: prod("")},
		{name: "no approval", yaml: "scaling:\n  min: 1\n"},
		{name: "min 1", yaml: "scaling:\n  min: 1\n" + prod(""), want: []at{{2, 3}}, msg: "runs `scaling.min` 1 task;"},
		{name: "min 0", yaml: "scaling:\n  min: 0\n" + prod(""), want: []at{{2, 3}}, msg: "0 tasks"},
		{name: "fixed in override", yaml: "scaling:\n  min: 1\n" + prod("    overrides:\n      scaling: {min: 3}\n")},
		{name: "lowered in override", yaml: prod("    overrides:\n      scaling:\n        min: 1\n"), want: []at{{8, 9}}},
	})
}
