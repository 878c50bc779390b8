package lint

import "testing"

func TestGN503ResourceSettings(t *testing.T) {
	pg := func(extra string) string { return "resources:\n  db:\n    type: postgres\n" + extra }
	runRuleCases(t, "GN503", []ruleCase{
		{name: "defaults", yaml: pg("") + "  cache:\n    type: redis\n  files:\n    type: s3\n"},
		{name: "full postgres", yaml: pg("    version: \"16\"\n    class: db.r6g.large\n    storage: 100\n    backupDays: 35\n")},
		{name: "storage too small", yaml: pg("    storage: 5\n"), want: []at{{4, 14}}, msg: "below the 20 GiB"},
		{name: "storage too big", yaml: pg("    storage: 70000\n"), want: []at{{4, 14}}, msg: "above the 65536 GiB"},
		{name: "minor version", yaml: pg("    version: \"16.4\"\n"), want: []at{{4, 14}}, msg: "major version"},
		{name: "class without prefix", yaml: pg("    class: t4g.micro\n"), want: []at{{4, 12}}, msg: "not an RDS instance class"},
		{name: "backup days", yaml: pg("    backupDays: 40\n"), want: []at{{4, 17}}, msg: "0 to 35"},
		{name: "redis class", yaml: "resources:\n  c:\n    type: redis\n    class: db.t4g.micro\n", want: []at{{4, 12}}, msg: "ElastiCache node type"},
		{name: "redis replicas", yaml: "resources:\n  c:\n    type: redis\n    replicas: 6\n", want: []at{{4, 15}}, msg: "0 to 5"},
		{name: "s3 expiry", yaml: "resources:\n  f:\n    type: s3\n    expireDays: -1\n", want: []at{{4, 17}}, msg: "negative"},
		{
			name: "override storage",
			yaml: pg("") + "stages:\n  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"    overrides:\n      resources:\n        db: {storage: 10}\n",
			want: []at{{10, 23}}, msg: `in stage "prod"`,
		},
	})
}
