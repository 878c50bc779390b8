package lint

import "testing"

func TestGN306ApprovalMultiAZ(t *testing.T) {
	const db = "resources:\n  db:\n    type: postgres\n"
	prod := func(extra string) string {
		return "stages:\n  - name: prod\n    account: \"777788889999\"\n    approval: true\n    regions: [us-east-1]\n" + extra
	}
	runRuleCases(t, "GN306", []ruleCase{
		{name: "no approval", yaml: db + "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1]\n"},
		{name: "approval without postgres", yaml: "resources:\n  cache:\n    type: redis\n" + prod("")},
		{name: "approval single AZ", yaml: db + prod(""), want: []at{{2, 3}}, msg: `stage "prod" needs approval but Postgres "db" is not multiAZ`},
		{name: "approval single AZ written", yaml: db + "    multiAZ: false\n" + prod(""), want: []at{{4, 5}}},
		{name: "multiAZ at top", yaml: db + "    multiAZ: true\n" + prod("")},
		{name: "multiAZ in override", yaml: db + prod("    overrides:\n      resources:\n        db: {multiAZ: true}\n")},
		{
			name: "override turns multiAZ off",
			yaml: db + "    multiAZ: true\n" + prod("    overrides:\n      resources:\n        db:\n          multiAZ: false\n"),
			want: []at{{13, 11}},
		},
	})
}
