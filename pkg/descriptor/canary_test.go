package descriptor

import (
	"strings"
	"testing"
	"time"
)

func TestCanaryDecodes(t *testing.T) {
	d, probs := parse(t, minimal+`  - name: prod
    account: "111122223333"
    regions: [us-east-1]
rollout:
  gate: g
  canary:
    steps: [5, 25, 50]
    stepBake: 2m
    stages: [prod]
    weightFlag: payments-canary
    compare:
      errorRateMargin: 1
      latencyFactor: 1.5
`)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	c := d.Rollout.Canary
	if c == nil || len(c.Steps) != 3 || c.Steps[2] != 50 || c.Bake() != 2*time.Minute || c.WeightFlag != "payments-canary" {
		t.Fatalf("canary %+v", c)
	}
	if *c.Compare.ErrorRateMargin != 1 || *c.Compare.LatencyFactor != 1.5 {
		t.Errorf("compare %v %v", *c.Compare.ErrorRateMargin, *c.Compare.LatencyFactor)
	}
	if d.CanaryFor("dev") != nil || d.CanaryFor("prod") != c {
		t.Errorf("CanaryFor: dev %v, prod %v; want only prod", d.CanaryFor("dev"), d.CanaryFor("prod"))
	}
	if sp := d.Pos.Lookup("rollout.canary.compare.latencyFactor"); sp.Line != 30 || sp.Column != 22 {
		t.Errorf("latencyFactor at %d:%d, want 30:22", sp.Line, sp.Column)
	}
}

func TestCanaryDefaults(t *testing.T) {
	d, probs := parse(t, minimal+"rollout:\n  canary:\n    steps: [10]\n")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if got := d.CanaryFor("dev").Bake(); got != DefaultStepBake {
		t.Errorf("stepBake default %s, want %s", got, DefaultStepBake)
	}
	if d.Rollout.Canary.Compare != nil {
		t.Error("compare set without being given")
	}
	d, _ = parse(t, minimal)
	if d.CanaryFor("dev") != nil {
		t.Error("a descriptor without rollout.canary has a canary")
	}
}

func TestCanaryBadValues(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"    steps: [10]\n    compare: {latencyFactor: \"1.5\"}\n", "must be a number, found the string \"1.5\"; remove the quotes"},
		{"    steps: [10]\n    compare: {latencyFactor: .nan}\n", "is not a finite number"},
		{"    steps: [10]\n    compare: {errorRateMargin: [1]}\n", "must be a number, found a list"},
		{"    steps: [ten]\n", "must be a whole number"},
		{"    stepBake: 5m\n", "missing the required key \"steps\""},
		{"    steps: [10]\n    weightflag: w\n", "did you mean \"weightFlag\"?"},
	} {
		_, probs := parse(t, minimal+"rollout:\n  canary:\n"+c.yaml)
		if len(probs) != 1 || !strings.Contains(probs[0].Message, c.want) {
			t.Errorf("%q: problems %v, want one containing %q", c.yaml, probs, c.want)
		}
	}
}
