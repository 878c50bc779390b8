package lint

import "testing"

func TestGN302DuplicateRegion(t *testing.T) {
	runRuleCases(t, "GN302", []ruleCase{
		{name: "distinct", yaml: "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1, eu-west-1]\n"},
		{
			name: "same region in two stages is fine",
			yaml: "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"  - name: prod\n    account: \"444455556666\"\n    regions: [us-east-1]\n",
		},
		{
			name: "twice in shorthand",
			yaml: "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1, eu-west-1, us-east-1]\n",
			want: []at{{4, 37}}, msg: `listed twice in stage "dev" (line 4)`,
		},
		{
			name: "across waves",
			yaml: "stages:\n  - name: prod\n    account: \"111122223333\"\n    waves:\n      - regions: [us-east-1]\n" +
				"      - regions:\n          - eu-west-1\n          - us-east-1\n",
			want: []at{{8, 13}}, msg: `already in wave 1 of stage "prod" (line 5)`,
		},
		{
			name: "three times",
			yaml: "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1, us-east-1, us-east-1]\n",
			want: []at{{4, 26}, {4, 37}},
		},
	})
}
