package lint

import "testing"

func TestGN502OverrideType(t *testing.T) {
	const res = "resources:\n  cache:\n    type: redis\n"
	over := func(body string) string {
		return "stages:\n  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n    overrides:\n      resources:\n" + body
	}
	runRuleCases(t, "GN502", []ruleCase{
		{name: "settings only", yaml: res + over("        cache: {replicas: 2}\n")},
		{name: "same type", yaml: res + over("        cache: {type: redis}\n")},
		{name: "new type", yaml: res + over("        cache:\n          type: s3\n"), want: []at{{11, 11}}, msg: "from redis to s3"},
	})
}
