package progress

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/rollout"
)

func canaryRegions() []rollout.RegionResult {
	secs := 0.42
	return []rollout.RegionResult{
		{Stage: "prod", Region: "us-east-1", Wave: 1, Status: rollout.StatusDeployed, Canary: &rollout.CanaryResult{
			Steps: 2, Step: 2, StableVersion: "1.0.0", Promoted: true,
			Changes: []rollout.WeightChange{{Step: 1, Weight: 5}, {Step: 2, Weight: 50}, {Step: 2, Weight: 0, Why: "promotion"}},
		}},
		{Stage: "prod", Region: "eu-west-1", Wave: 1, Status: rollout.StatusRolledBack, Error: "canary aborted: alarm x in ALARM", Canary: &rollout.CanaryResult{
			Steps: 2, Step: 2, StableVersion: "1.0.0", Aborted: "alarm x in ALARM", AbortSeconds: &secs,
			Changes: []rollout.WeightChange{{Step: 1, Weight: 5}, {Step: 2, Weight: 50}, {Step: 2, Weight: 0, Why: "abort"}},
		}},
		{Stage: "prod", Region: "us-west-2", Wave: 1, Status: rollout.StatusHeld, Canary: &rollout.CanaryResult{
			Steps: 2, Step: 1, Weight: 5, StableVersion: "1.0.0", Changes: []rollout.WeightChange{{Step: 1, Weight: 5}},
		}},
	}
}

// The step summary says each region's weights and how its canary ended.
func TestMarkdownCanary(t *testing.T) {
	md := Markdown(&rollout.Result{Service: "payments", Version: "2.0.0", Result: rollout.Failed, Regions: canaryRegions()})
	for _, want := range []string{
		"| prod | 1 | us-east-1 | ✅ deployed |  | canary 5% → 50% → 0% (promoted) |",
		"| prod | 1 | eu-west-1 | ↩️ rolled-back |  | canary 5% → 50% → 0% (aborted at step 2 of 2; traffic back on 1.0.0 in 0.4s); canary aborted: alarm x in ALARM |",
		"| prod | 1 | us-west-2 | ⏸️ held |  | canary 5% (at step 1 of 2: 5% on the new version, 95% on 1.0.0) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// The live view shows a region's canary step and weight; plain lines say
// each weight change (the engine's messages).
func TestCanaryProgress(t *testing.T) {
	var buf bytes.Buffer
	v := NewTTY(&buf, TTYOptions{Clock: newClock()})
	ref := rollout.Ref{Stage: "prod", Region: "us-east-1", Wave: 1}
	v.RolloutStarted(rollout.Start{Service: "payments", Version: "2.0.0", Regions: []rollout.Ref{ref}})
	v.RegionStarted(ref)
	buf.Reset()
	v.StepChanged(ref, rollout.StepCanary, "step 2/3: 25% on 2.0.0, baking 5m0s")
	v.Tick()
	if !strings.Contains(buf.String(), "canary  0s       step 2/3: 25% on 2.0.0, baking 5m0s") {
		t.Errorf("live view:\n%s", buf.String())
	}
	var plain bytes.Buffer
	p := NewPlain(&plain, newClock())
	p.Message(ref, 0, "canary step 2 of 3: 25% of traffic on 2.0.0 (1 task), 75% on 1.0.0")
	if !strings.Contains(plain.String(), "prod/us-east-1 (wave 1): canary step 2 of 3: 25% of traffic on 2.0.0") {
		t.Errorf("plain: %s", plain.String())
	}
}
