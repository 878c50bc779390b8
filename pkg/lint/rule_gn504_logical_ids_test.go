package lint

import "testing"

func TestGN504LogicalIDs(t *testing.T) {
	runRuleCases(t, "GN504", []ruleCase{
		{name: "distinct", yaml: "resources:\n  db:\n    type: postgres\n  user-db:\n    type: postgres\n  userdb:\n    type: redis\n"},
		{name: "hyphen before digit", yaml: "resources:\n  db1:\n    type: postgres\n  db-1:\n    type: redis\n", want: []at{{4, 3}}, msg: `as "db1" (line 2)`},
		{name: "later one reported", yaml: "resources:\n  a-1b:\n    type: s3\n  a1b:\n    type: s3\n", want: []at{{4, 3}}, msg: `"a1b" gives the same CloudFormation logical IDs (A1b…) as "a-1b"`},
	})
}
