package lint

import "testing"

func TestGN621Patch(t *testing.T) {
	stages := "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
		"  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n"
	runRuleCases(t, "GN621", []ruleCase{
		{name: "applies", yaml: "patches:\n  - {stack: app, op: add, path: /Resources/Service/Properties/EnableExecuteCommand, value: true}\n"},
		{name: "missing target at the path's value", yaml: "patches:\n  - stack: app\n    op: remove\n    path: /Resources/Nope\n", want: []at{{4, 11}}, msg: `has no key "Nope"`},
		{name: "bad pointer", yaml: "patches:\n  - stack: app\n    op: add\n    path: Resources\n    value: 1\n", want: []at{{4, 11}}, msg: "must start with /"},
		{name: "from", yaml: "patches:\n  - stack: app\n    op: copy\n    from: /Nope\n    path: /Metadata\n", want: []at{{4, 11}}, msg: "from /Nope does not exist"},
		{name: "failed test at the value", yaml: "patches:\n  - stack: app\n    op: test\n    path: /Resources/Service/Properties/DesiredCount\n    value: 7\n", want: []at{{5, 12}}, msg: "test failed"},
		{name: "invalid result at the patch", yaml: "patches:\n  - stack: app\n    op: remove\n    path: /Resources/TaskRole\n", want: []at{{2, 5}}, msg: `Fn::GetAtt names "TaskRole"`},
		{name: "no data stack", yaml: "patches:\n  - {stack: data, op: add, path: /Metadata, value: {}}\n", want: []at{{2, 13}}, msg: `stack "data" is not rendered`},
		{name: "each failing patch", yaml: "patches:\n  - {stack: app, op: remove, path: /A}\n  - {stack: app, op: remove, path: /B}\n", want: []at{{2, 36}, {3, 36}}},
		{
			name: "only in the stage that adds it",
			yaml: stages + "    overrides:\n      patches:\n        - {stack: app, op: remove, path: /Nope}\n",
			want: []at{{10, 42}}, msg: "(in stage prod)",
		},
		{
			name: "a stage's override breaks a top-level test",
			yaml: "patches:\n  - {stack: app, op: test, path: /Resources/ScalableTarget/Properties/MaxCapacity, value: 4}\n" + stages +
				"    overrides:\n      scaling: {max: 6}\n",
			want: []at{{2, 91}}, msg: "(in stage prod)",
		},
	})
}
