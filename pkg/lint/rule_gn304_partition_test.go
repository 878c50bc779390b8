package lint

import "testing"

func TestGN304Partition(t *testing.T) {
	stage := func(regions string) string {
		return "stages:\n  - name: prod\n    account: \"111122223333\"\n    regions: " + regions + "\n"
	}
	runRuleCases(t, "GN304", []ruleCase{
		{name: "commercial", yaml: stage("[us-east-1, eu-west-1]")},
		{name: "china only", yaml: stage("[cn-north-1, cn-northwest-1]")},
		{name: "unknown region is GN301's", yaml: stage("[us-east-1, xx-east-1]")},
		{name: "china and commercial", yaml: stage("[us-east-1, cn-north-1]"), want: []at{{4, 26}}, msg: "partition aws-cn"},
		{
			name: "gov in a later wave",
			yaml: "stages:\n  - name: prod\n    account: \"111122223333\"\n    waves:\n      - regions: [us-east-1]\n" +
				"      - regions: [us-gov-west-1]\n",
			want: []at{{6, 19}}, msg: "aws-us-gov",
		},
	})
}
