package deploy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

func (e *env) rollback(to string, mod ...func(*deploy.RollbackRequest)) (*rollout.Result, error) {
	e.t.Helper()
	req := deploy.RollbackRequest{Descriptor: e.d, Plan: e.plan("dev"), Stage: "dev", Region: "us-east-1", To: to, RolloutID: "rb-1"}
	for _, m := range mod {
		m(&req)
	}
	return e.eng.Rollback(context.Background(), req)
}

func TestRollbackGoesBackUnderTheLockAndJournals(t *testing.T) {
	e := newEnv(t, full)
	e.run("1.0.0", e.plan("dev"))
	e.run("1.1.0", e.plan("dev"))
	var asked deploy.RollbackTarget
	res, err := e.rollback("", func(r *deploy.RollbackRequest) {
		r.Confirm = func(_ context.Context, tg deploy.RollbackTarget) (bool, error) {
			if !e.b.Locked("dev") {
				t.Error("asked without holding the stage's lock")
			}
			asked = tg
			return true, nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if asked.From() != "1.1.0" || asked.To.Version != "1.0.0" {
		t.Fatalf("asked about %s → %v", asked.From(), asked.To)
	}
	if res.Result != rollout.Succeeded || res.RolloutID != "rb-1" || res.Regions[0].Status != rollout.StatusRolledBack {
		t.Fatalf("result %+v", res)
	}
	app := e.b.RegionOf(plan.Step{Stage: "dev", Region: "us-east-1"}).Stack(naming.Stack("payments", "dev", naming.App))
	if app.Tags[render.TagVersion] != "1.0.0" {
		t.Fatalf("app stack runs %s, want 1.0.0", app.Tags[render.TagVersion])
	}
	if e.b.Locked("dev") {
		t.Fatal("lock not released")
	}
	var steps []string
	for _, j := range e.b.Journal() {
		if j.Step == "rollback" || j.Step == "lock" || j.Step == "stage" {
			steps = append(steps, j.Step+":"+j.Status)
		}
	}
	if got := strings.Join(steps, " "); !strings.HasSuffix(got, "lock:taken rollback:started rollback:rolled-back stage:succeeded") {
		t.Fatalf("journal: %s", got)
	}
	recs := e.b.Rollouts()
	if last := recs[len(recs)-1]; last.RolloutID != "rb-1" || last.Status != deploy.RolloutSucceeded || last.Version != "1.0.0" {
		t.Fatalf("rollout record %+v", last)
	}
}

func TestRollbackDeclinedChangesNothing(t *testing.T) {
	e := newEnv(t, full)
	e.run("1.0.0", e.plan("dev"))
	e.run("1.1.0", e.plan("dev"))
	applies := len(e.b.CallsOf("apply"))
	_, err := e.rollback("1.0.0", func(r *deploy.RollbackRequest) {
		r.Confirm = func(context.Context, deploy.RollbackTarget) (bool, error) { return false, nil }
	})
	if !errors.Is(err, deploy.ErrRollbackCancelled) {
		t.Fatalf("err %v, want cancelled", err)
	}
	if len(e.b.CallsOf("apply")) != applies || e.b.Locked("dev") {
		t.Fatal("a declined rollback applied something or kept the lock")
	}
}

func TestRollbackToAVersionNeverDeployedListsTheRecordedOnes(t *testing.T) {
	e := newEnv(t, full)
	e.run("1.0.0", e.plan("dev"))
	e.run("1.1.0", e.plan("dev"))
	_, err := e.rollback("0.9.0")
	var nr *deploy.NotRecordedError
	if !errors.As(err, &nr) {
		t.Fatalf("err %v, want NotRecordedError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "version 0.9.0 was never deployed") || strings.Index(msg, "1.1.0") > strings.Index(msg, "1.0.0") {
		t.Fatalf("message: %s", msg)
	}
	if len(e.b.CallsOf("lock")) != 2 {
		t.Fatal("locked for a rollback that cannot happen")
	}
}

func TestRollbackToTheRunningVersionIsUnchangedWithoutTheLock(t *testing.T) {
	e := newEnv(t, full)
	e.run("1.0.0", e.plan("dev"))
	res, err := e.rollback("1.0.0", func(r *deploy.RollbackRequest) {
		r.Confirm = func(context.Context, deploy.RollbackTarget) (bool, error) { t.Error("asked"); return false, nil }
	})
	if err != nil || res.Regions[0].Status != rollout.StatusUnchanged {
		t.Fatalf("got %+v, %v", res, err)
	}
	if len(e.b.CallsOf("lock")) != 1 {
		t.Fatal("an unchanged rollback took the lock")
	}
}

func TestRollbackRefusedWhileLocked(t *testing.T) {
	e := newEnv(t, full)
	e.run("1.0.0", e.plan("dev"))
	e.run("1.1.0", e.plan("dev"))
	e.b.HoldLock("dev", "other-rollout")
	_, err := e.rollback("")
	if err == nil || !strings.Contains(err.Error(), "other-rollout") {
		t.Fatalf("err %v, want the holder named", err)
	}
}

func TestRollbackFailureIsAFailedResult(t *testing.T) {
	e := newEnv(t, full)
	e.run("1.0.0", e.plan("dev"))
	e.run("1.1.0", e.plan("dev"))
	e.b.ApplyHook = func(context.Context, plan.Step, deploy.StackApply) error { return errors.New("boom") }
	res, err := e.rollback("1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != rollout.Failed || res.Regions[0].Status != rollout.StatusFailed || !strings.Contains(res.Regions[0].Error, "boom") {
		t.Fatalf("result %+v", res)
	}
	recs := e.b.Rollouts()
	if recs[len(recs)-1].Status != deploy.RolloutFailed {
		t.Fatalf("record %+v", recs[len(recs)-1])
	}
}

// The sequence of issue 16: with 1.0.0, 1.1.0 and 1.2.0 deployed, rollback
// goes to 1.1.0, then to 1.0.0, then has nowhere older to go; it never goes
// forward to the bad 1.2.0. After --to 1.0.0 likewise.
func TestRollbackNeverGoesForward(t *testing.T) {
	e := newEnv(t, full)
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		e.run(v, e.plan("dev"))
		e.clock.Advance(time.Minute)
	}
	step := plan.Step{Stage: "dev", Region: "us-east-1"}
	running := func() string {
		return e.b.RegionOf(step).Stack(naming.Stack("payments", "dev", naming.App)).Tags[render.TagVersion]
	}
	for _, want := range []string{"1.1.0", "1.0.0"} {
		if _, err := e.rollback(""); err != nil {
			t.Fatal(err)
		}
		if running() != want {
			t.Fatalf("rollback went to %s, want %s", running(), want)
		}
		e.clock.Advance(time.Minute)
	}
	_, err := e.rollback("")
	var nr *deploy.NotRecordedError
	if !errors.As(err, &nr) || running() != "1.0.0" {
		t.Fatalf("a rollback from the oldest version: %v, running %s", err, running())
	}

	e.run("1.2.0", e.plan("dev"))
	e.clock.Advance(time.Minute)
	if _, err := e.rollback("1.0.0"); err != nil || running() != "1.0.0" {
		t.Fatalf("--to 1.0.0: %v, running %s", err, running())
	}
	e.clock.Advance(time.Minute)
	if _, err := e.rollback(""); !errors.As(err, &nr) || running() != "1.0.0" {
		t.Fatalf("after --to 1.0.0 the next rollback went to %s (%v), want nowhere", running(), err)
	}
}
