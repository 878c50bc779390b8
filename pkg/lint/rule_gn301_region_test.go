package lint

import "testing"

func TestGN301Region(t *testing.T) {
	stage := func(regions string) string {
		return "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: " + regions + "\n"
	}
	runRuleCases(t, "GN301", []ruleCase{
		{name: "commercial", yaml: stage("[us-east-1, eu-west-1, ap-southeast-2, il-central-1, mx-central-1]")},
		{name: "govcloud", yaml: stage("[us-gov-west-1, us-gov-east-1]")},
		{name: "china", yaml: stage("[cn-north-1, cn-northwest-1]")},
		{name: "typo", yaml: stage("[us-east1]"), want: []at{{4, 15}}, msg: `did you mean "us-east-1"?`},
		{name: "second entry", yaml: stage("[us-east-1, eu-wset-1]"), want: []at{{4, 26}}, msg: `did you mean "eu-west-1"?`},
		{name: "upper case", yaml: stage("[US-EAST-1]"), want: []at{{4, 15}}, msg: `"us-east-1"`},
		{name: "nothing close", yaml: stage("[mars-north-1]"), want: []at{{4, 15}}, msg: "use an AWS region code"},
		{
			name: "in waves",
			yaml: "stages:\n  - name: prod\n    account: \"111122223333\"\n    waves:\n      - regions: [us-west-2]\n" +
				"      - regions: [eu-central-1, ap-south-3]\n",
			want: []at{{6, 33}},
		},
	})
}
