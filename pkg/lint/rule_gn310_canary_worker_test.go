package lint

import "testing"

// web is a web service's compute and routing, for fragments that need one.
const web = "compute:\n  cpu: 256\n  memory: 512\n  port: 8080\nrouting:\n  path: /p/*\n"

func TestGN310CanaryWorker(t *testing.T) {
	runRuleCases(t, "GN310", []ruleCase{
		{name: "no canary", yaml: ""},
		{name: "web", yaml: web + "rollout:\n  canary:\n    steps: [10]\n"},
		{name: "worker", yaml: "rollout:\n  canary:\n    steps: [10]\n", want: []at{{2, 3}}, msg: "no `compute.port` (a worker)"},
		{name: "worker outside the canary's stages", yaml: "rollout:\n  canary:\n    steps: [10]\n    stages: [prod]\n"},
		{name: "worker in one stage of two",
			yaml: "compute:\n  cpu: 256\n  memory: 512\nrollout:\n  canary:\n    steps: [10]\n" +
				"stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n    overrides:\n      compute: {port: 8080}\n      routing: {path: /p/*}\n",
			want: []at{{5, 3}}, msg: "in stage dev (a worker)"},
	})
}
