package lint

import "testing"

func TestGN203Portless(t *testing.T) {
	runRuleCases(t, "GN203", []ruleCase{
		{name: "worker", yaml: "compute:\n  cpu: 256\n  memory: 512\n"},
		{name: "web", yaml: "compute:\n  cpu: 256\n  memory: 512\n  port: 80\n  healthcheck: /hc\nrouting:\n  path: /a/*\n"},
		{name: "worker with routing", yaml: "compute:\n  cpu: 256\n  memory: 512\nrouting:\n  path: /a/*\n", want: []at{{4, 1}}, msg: "`routing` is set but `compute.port` is not"},
		{name: "worker with healthcheck", yaml: "compute:\n  cpu: 256\n  memory: 512\n  healthcheck: /hc\n", want: []at{{4, 3}}, msg: "healthcheck"},
		{
			name: "override removes nothing but adds routing to a worker",
			yaml: "stages:\n  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"    overrides:\n      routing: {host: a.example.com}\n",
			want: []at{{6, 7}}, msg: `in stage "prod"`,
		},
	})
}
