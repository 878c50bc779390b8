package deploy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/internal/crash"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// twoStages: staging bakes 10 minutes, then prod deploys.
const twoStages = header + `stages:
  - name: staging
    account: "444455556666"
    regions: [us-east-1, eu-west-1]
    bake: 10m
  - name: prod
    account: "777788889999"
    regions: [us-west-2]
`

// An interrupted bake leaves its stage failed, not succeeded, and its
// regions not done: the rerun bakes them whole before prod starts, and only
// a third run is a read-only unchanged one.
func TestInterruptedBakeIsBakedOnTheRerun(t *testing.T) {
	e := newEnv(t, twoStages)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.b.Alarms = func(step plan.Step, _ []string, call int) ([]string, error) {
		if step.Stage == "staging" && call == 3 {
			cancel() // Ctrl-C or SIGTERM, a few polls into the bake
		}
		return nil, nil
	}
	res := e.runCtx(ctx, "v1", e.plan())
	if res.ExitCode() != 1 || statuses(res)["prod/us-west-2"] != rollout.StatusPending {
		t.Fatalf("interrupted run: exit %d, %v", res.ExitCode(), statuses(res))
	}
	recs := e.b.Rollouts()
	if last := recs[len(recs)-1]; last.Stage != "staging" || last.Status != deploy.RolloutFailed {
		t.Fatalf("staging's record after an interrupted bake: %s %s, want failed", last.Stage, last.Status)
	}
	if n := len(e.b.CallsOf("baked")); n != 0 {
		t.Fatalf("%d regions recorded as baked by an interrupted bake", n)
	}

	e.b.Alarms = nil
	sleptBefore := sum(e.clock.Sleeps())
	calls := len(e.b.Calls())
	res = e.run("v1", e.plan())
	if res.ExitCode() != 0 {
		t.Fatalf("rerun: exit %d, %v", res.ExitCode(), statuses(res))
	}
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		if rr := region(t, res, "staging", r); rr.Status != rollout.StatusDeployed || !strings.Contains(rr.Error, "did not finish in an earlier run") {
			t.Errorf("staging/%s on the rerun = %+v, want baked again", r, rr)
		}
	}
	if baked := sum(e.clock.Sleeps()) - sleptBefore; baked < 10*time.Minute {
		t.Errorf("the rerun baked %s, want staging's whole 10m", baked)
	}
	// Nothing of prod before staging's bake is recorded.
	var lastBaked, firstProd int
	for i, c := range e.b.Calls()[calls:] {
		switch {
		case c.Op == "baked" && c.Stage == "staging":
			lastBaked = i
		case c.Op == "apply" && c.Stage == "prod" && firstProd == 0:
			firstProd = i
		case c.Op == "apply" && c.Stage == "staging":
			t.Errorf("the rerun applied %s again", c.Stack)
		}
	}
	if firstProd == 0 || lastBaked > firstProd {
		t.Errorf("prod applied at call %d, staging's bake recorded at %d: prod must wait for the bake", firstProd, lastBaked)
	}
	locks := len(e.b.CallsOf("lock"))
	if res := e.run("v1", e.plan()); res.ExitCode() != 0 || len(e.b.CallsOf("lock")) != locks {
		t.Errorf("third run: exit %d, %d locks; want a read-only unchanged rerun", res.ExitCode(), len(e.b.CallsOf("lock"))-locks)
	}
}

// A bake the halt flag stopped is not done either: once the flag is off,
// the rerun bakes those regions.
func TestHaltedBakeIsBakedOnTheRerun(t *testing.T) {
	e := newEnv(t, twoStages)
	halt := true
	start := e.clock.Now()
	e.gate.HaltFunc = func(rollout.GateRequest) (bool, string, error) {
		return halt && e.clock.Now().Sub(start) >= 2*time.Minute, "freeze", nil
	}
	if res := e.run("v1", e.plan()); res.ExitCode() != 3 {
		t.Fatalf("halted run: exit %d", res.ExitCode())
	}
	recs := e.b.Rollouts()
	if last := recs[len(recs)-1]; last.Status != deploy.RolloutHeld {
		t.Fatalf("staging's record after a halted bake: %s, want held", last.Status)
	}
	halt = false
	res := e.run("v1", e.plan())
	if res.ExitCode() != 0 || region(t, res, "staging", "us-east-1").Status != rollout.StatusDeployed ||
		region(t, res, "prod", "us-west-2").Status != rollout.StatusDeployed {
		t.Fatalf("rerun: exit %d, %v", res.ExitCode(), statuses(res))
	}
	if n := len(e.b.CallsOf("baked")); n != 3 {
		t.Errorf("%d bakes recorded, want 3 (staging's two, prod's one)", n)
	}
}

// --bake 0s is an explicit, loud skip: the regions count as baked.
func TestZeroBakeOverrideCountsAsBaked(t *testing.T) {
	e := newEnv(t, twoStages)
	zero := time.Duration(0)
	e.run("v1", e.plan(), func(r *deploy.Request) { r.BakeOverride = &zero })
	locks := len(e.b.CallsOf("lock"))
	if res := e.run("v1", e.plan()); res.ExitCode() != 0 || len(e.b.CallsOf("lock")) != locks {
		t.Errorf("rerun after --bake 0s: exit %d, %d locks; want unchanged", res.ExitCode(), len(e.b.CallsOf("lock"))-locks)
	}
}

// A long bake says every minute, at heartbeat level, that it goes on: how
// long is left and what it watches.
func TestLongBakeHasAHeartbeat(t *testing.T) {
	e := newEnv(t, twoStages)
	e.run("v1", e.plan("staging"))
	var beats []string
	for _, ev := range e.rec.Snapshot() {
		if ev.Kind == "Message" && ev.Level == rollout.LevelHeartbeat {
			beats = append(beats, ev.Text)
		}
	}
	if len(beats) < 8 || len(beats) > 10 || !strings.Contains(beats[0], "wave 1 baking: 9m") || !strings.Contains(beats[0], "left of 10m0s, 2 regions healthy, watching payments-staging-5xx") {
		t.Fatalf("%d heartbeats over a 10m bake: %q", len(beats), beats)
	}
}

// Ctrl-C says at once what the rollout waits for: the stack being
// cancelled, and how to stop waiting.
func TestInterruptSaysWhatItWaitsFor(t *testing.T) {
	e := newEnv(t, waves)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.b.ApplyHook = func(ctx context.Context, step plan.Step, a deploy.StackApply) error {
		if step.Region == "us-west-2" && a.Kind == naming.App {
			cancel()
			time.Sleep(100 * time.Millisecond) // CloudFormation rolling back
			return ctx.Err()
		}
		return nil
	}
	e.runCtx(ctx, "v1", e.plan())
	want := "interrupted: cancelling the update of payments-prod-app; waiting for CloudFormation to roll back — press Ctrl-C again to stop waiting and leave the lock for `gantry unlock`"
	for _, ev := range e.rec.Snapshot() {
		if ev.Kind == "Message" && ev.Ref.Region == "us-west-2" && ev.Text == want {
			return
		}
	}
	t.Errorf("no message %q", want)
}

// A panic in a region's goroutine is a bug: the rollout stops and cleans
// up as after a failure (lock released, stage recorded failed), and Run
// returns the panic, so the command exits with the crash code.
func TestPanicInARegionStopsTheRolloutAndIsReturned(t *testing.T) {
	e := newEnv(t, waves)
	e.b.ApplyHook = func(_ context.Context, step plan.Step, a deploy.StackApply) error {
		if step.Region == "eu-west-1" && a.Kind == naming.App {
			var m map[string]int
			m["boom"]++ // a nil map write panics
		}
		return nil
	}
	res, err := e.eng.Run(context.Background(), deploy.Request{Descriptor: e.d, Plan: e.plan(), Version: "v1", RolloutID: "r-p"})
	var p *crash.Panic
	if !errors.As(err, &p) {
		t.Fatalf("err %v, want the panic", err)
	}
	if res == nil || region(t, res, "prod", "eu-west-1").Status != rollout.StatusFailed || statuses(res)["later/us-east-1"] != rollout.StatusPending {
		t.Fatalf("result %v", statuses(res))
	}
	if e.b.Locked("prod") {
		t.Error("the lock is still held after a panic")
	}
	recs := e.b.Rollouts()
	if last := recs[len(recs)-1]; last.Stage != "prod" || last.Status != deploy.RolloutFailed {
		t.Errorf("prod's record after a panic: %+v", last)
	}
}
