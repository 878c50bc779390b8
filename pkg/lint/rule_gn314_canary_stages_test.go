package lint

import "testing"

func TestGN314CanaryStages(t *testing.T) {
	runRuleCases(t, "GN314", []ruleCase{
		{name: "known", yaml: web + "rollout:\n  canary:\n    steps: [10]\n    stages: [dev]\n"},
		{name: "all stages", yaml: web + "rollout:\n  canary:\n    steps: [10]\n"},
		{name: "typo", yaml: web + "rollout:\n  canary:\n    steps: [10]\n    stages: [dev, dve]\n",
			want: []at{{10, 19}}, msg: `did you mean "dev"?`},
		{name: "unknown", yaml: web + "rollout:\n  canary:\n    steps: [10]\n    stages: [production]\n",
			want: []at{{10, 14}}, msg: "the stages are dev"},
		{name: "twice", yaml: web + "rollout:\n  canary:\n    steps: [10]\n    stages: [dev, dev]\n",
			want: []at{{10, 19}}, msg: "listed twice"},
	})
}
