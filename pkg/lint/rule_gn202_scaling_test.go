package lint

import "testing"

func TestGN202Scaling(t *testing.T) {
	runRuleCases(t, "GN202", []ruleCase{
		{name: "defaults", yaml: ""},
		{name: "valid", yaml: "scaling:\n  min: 0\n  max: 1\n  cpuTarget: 100\n"},
		{name: "min alone raises default max", yaml: "scaling:\n  min: 10\n"},
		{name: "min over max", yaml: "scaling:\n  min: 6\n  max: 3\n", want: []at{{2, 8}}, msg: "above `scaling.max` 3"},
		{name: "max under default min", yaml: "scaling:\n  max: 1\n", want: []at{{2, 8}}, msg: "`scaling.min` 2 is above `scaling.max` 1"},
		{name: "negative min", yaml: "scaling:\n  min: -1\n  max: 3\n", want: []at{{2, 8}}, msg: "negative"},
		{name: "max zero", yaml: "scaling:\n  min: 0\n  max: 0\n", want: []at{{3, 8}}},
		{name: "cpuTarget over 100", yaml: "scaling:\n  cpuTarget: 101\n", want: []at{{2, 14}}, msg: "1 to 100"},
		{name: "cpuTarget zero", yaml: "scaling:\n  cpuTarget: 0\n", want: []at{{2, 14}}},
		{
			name: "override min over max",
			yaml: "scaling:\n  min: 2\n  max: 4\nstages:\n  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"    overrides:\n      scaling:\n        min: 8\n",
			want: []at{{10, 14}}, msg: `in stage "prod"`,
		},
	})
}
