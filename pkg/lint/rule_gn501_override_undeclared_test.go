package lint

import "testing"

func TestGN501OverrideUndeclared(t *testing.T) {
	const res = "resources:\n  db:\n    type: postgres\n  cache:\n    type: redis\n"
	over := func(body string) string {
		return "stages:\n  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n    overrides:\n      resources:\n" + body
	}
	runRuleCases(t, "GN501", []ruleCase{
		{name: "declared", yaml: res + over("        db: {multiAZ: true}\n        cache: {replicas: 1}\n")},
		{name: "typo", yaml: res + over("        dbb: {multiAZ: true}\n"), want: []at{{12, 9}}, msg: `did you mean "db"?`},
		{name: "unrelated", yaml: res + over("        queue: {}\n"), want: []at{{12, 9}}, msg: "declared: cache, db"},
		{name: "no resources", yaml: over("        db: {multiAZ: true}\n"), want: []at{{7, 9}}, msg: "declare it under the top-level `resources:`", problems: true},
	})
}
