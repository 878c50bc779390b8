package lint

import "testing"

func TestGN311CanarySteps(t *testing.T) {
	runRuleCases(t, "GN311", []ruleCase{
		{name: "good", yaml: web + "rollout:\n  canary:\n    steps: [5, 25, 50]\n"},
		{name: "one step", yaml: web + "rollout:\n  canary:\n    steps: [99]\n"},
		{name: "empty", yaml: web + "rollout:\n  canary:\n    steps: []\n", want: []at{{9, 12}}, msg: "is empty"},
		{name: "down", yaml: web + "rollout:\n  canary:\n    steps: [25, 5, 50]\n", want: []at{{9, 17}}, msg: "not above the step before it (25)"},
		{name: "equal", yaml: web + "rollout:\n  canary:\n    steps: [5, 5]\n", want: []at{{9, 16}}},
		{name: "zero and hundred", yaml: web + "rollout:\n  canary:\n    steps:\n      - 0\n      - 50\n      - 100\n",
			want: []at{{10, 9}, {12, 9}}, msg: "is 0; a step is 1-99"},
		{name: "negative", yaml: web + "rollout:\n  canary:\n    steps: [-5, 10]\n", want: []at{{9, 13}}},
	})
}
