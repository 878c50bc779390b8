package lint

import "testing"

func TestGN303DuplicateStage(t *testing.T) {
	stage := func(name string) string {
		return "  - name: " + name + "\n    account: \"111122223333\"\n    regions: [us-east-1]\n"
	}
	runRuleCases(t, "GN303", []ruleCase{
		{name: "unique", yaml: "stages:\n" + stage("dev") + stage("prod")},
		{name: "twice", yaml: "stages:\n" + stage("prod") + stage("dev") + stage("prod"), want: []at{{8, 11}}, msg: `already used by stage 1 (line 2)`},
	})
}
