package lint

import "testing"

func TestGN309ApprovalBackups(t *testing.T) {
	const db = "resources:\n  db:\n    type: postgres\n"
	prod := func(extra string) string {
		return "stages:\n  - name: prod\n    account: \"777788889999\"\n    approval: true\n    regions: [us-east-1]\n" + extra
	}
	runRuleCases(t, "GN309", []ruleCase{
		{name: "default backups", yaml: db + prod("")},
		{name: "no approval", yaml: db + "    backupDays: 0\nstages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1]\n"},
		{name: "approval without backups", yaml: db + "    backupDays: 0\n" + prod(""), want: []at{{4, 5}}, msg: `stage "prod" needs approval but Postgres "db" keeps no automated backups`},
		{name: "approval with backups", yaml: db + "    backupDays: 1\n" + prod("")},
		{name: "backups in override", yaml: db + "    backupDays: 0\n" + prod("    overrides:\n      resources:\n        db: {backupDays: 7}\n")},
		{
			name: "override turns backups off",
			yaml: db + prod("    overrides:\n      resources:\n        db:\n          backupDays: 0\n"),
			want: []at{{12, 11}},
		},
		{name: "redis only", yaml: "resources:\n  cache:\n    type: redis\n" + prod("")},
	})
}
