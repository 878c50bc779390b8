package deploy_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/deploytest"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// canaryDesc is a web service with a three-step canary in its one region.
const canaryDesc = `schemaVersion: 1
service: payments
team: pay
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments
compute: {cpu: 512, memory: 1024, port: 8080}
routing: {path: /payments/*}
scaling: {min: 4, max: 8}
resources:
  uploads: {type: s3}
rollout:
  halt: halt
  canary:
    steps: [5, 25, 50]
    stepBake: 5m
    weightFlag: payments-canary
    compare: {errorRateMargin: 1}
stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1]
`

const canaryApp = "payments-dev-app"

// canaryEnv is an env whose region already runs 1.0.0, deployed whole.
func canaryEnv(t *testing.T) (*env, *plan.Plan, *deploytest.Region) {
	t.Helper()
	e := newEnv(t, canaryDesc)
	p := e.plan()
	res := e.run("1.0.0", p)
	if res.Result != rollout.Succeeded || res.Regions[0].Canary != nil {
		t.Fatalf("first deploy: %s, canary %+v: want succeeded without a canary (nothing to compare with)", res.Summary(), res.Regions[0].Canary)
	}
	if !said(e, "no version runs here yet") {
		t.Error("the first deploy does not say why it ran no canary")
	}
	return e, p, e.b.RegionOf(p.Steps()[0])
}

// appApplies records the parameters of every app stack apply.
type appApplies struct {
	mu     sync.Mutex
	params []map[string]string
	tags   []map[string]string
}

func (a *appApplies) hook(e *env) {
	e.b.ApplyHook = func(_ context.Context, _ plan.Step, sa deploy.StackApply) error {
		if sa.Name == canaryApp {
			a.mu.Lock()
			a.params = append(a.params, maps.Clone(sa.Parameters))
			a.tags = append(a.tags, maps.Clone(sa.Tags))
			a.mu.Unlock()
		}
		return nil
	}
}

func (a *appApplies) weights() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, p := range a.params {
		out = append(out, p[render.ParamVersion]+"/"+p[render.ParamCanaryVersion]+"@"+p[render.ParamCanaryWeight]+"x"+p[render.ParamCanaryTasks])
	}
	return out
}

func TestCanaryPassesEveryStepAndPromotes(t *testing.T) {
	e, p, reg := canaryEnv(t)
	var applies appApplies
	applies.hook(e)
	start := e.clock.Now()
	var watched []string
	e.b.Alarms = func(_ plan.Step, names []string, _ int) ([]string, error) {
		watched = names
		return nil, nil
	}
	res := e.run("2.0.0", p)
	if res.Result != rollout.Succeeded || res.Regions[0].Status != rollout.StatusDeployed {
		t.Fatalf("%s: %+v", res.Summary(), res.Regions[0])
	}
	// Each step: the stable keeps 1.0.0, the canary 2.0.0 on its share of
	// the four tasks; then the promotion puts 2.0.0 everywhere.
	want := []string{"1.0.0/2.0.0@5x1", "1.0.0/2.0.0@25x1", "1.0.0/2.0.0@50x2", "2.0.0/2.0.0@0x0"}
	if got := applies.weights(); !slices.Equal(got, want) {
		t.Errorf("app stack applies %v, want %v", got, want)
	}
	if tg := applies.tags[1]; tg[deploy.TagCanaryStep] != "2/3" || tg[deploy.TagCanaryRollout] != "r-2.0.0" || tg[render.TagVersion] != "2.0.0" {
		t.Errorf("step 2 tags %v", tg)
	}
	final := reg.Stack(canaryApp)
	if _, ok := final.Tags[deploy.TagCanaryStep]; ok || final.Parameters[render.ParamCanaryWeight] != "0" {
		t.Errorf("after the promotion the stack still carries the canary: %v %v", final.Tags, final.Parameters)
	}
	c := res.Regions[0].Canary
	if c == nil || !c.Promoted || c.Step != 3 || c.Weight != 0 || c.StableVersion != "1.0.0" || c.Aborted != "" || len(c.Changes) != 4 {
		t.Fatalf("canary result %+v", c)
	}
	if took := e.clock.Now().Sub(start); took < 15*time.Minute {
		t.Errorf("three 5m steps took %s", took)
	}
	for _, a := range []string{"payments-dev-5xx", "payments-dev-canary-5xx", "payments-dev-canary-5xx-margin"} {
		if !slices.Contains(watched, a) {
			t.Errorf("the canary does not watch %s (watched %v)", a, watched)
		}
	}
	// Alarms are read every second: an abort starts within seconds.
	for _, d := range e.clock.Sleeps() {
		if d > deploy.DefaultCanaryPoll {
			t.Fatalf("a canary step slept %s between reads", d)
		}
	}
	if n := len(reg.Recorded()); n != 2 || reg.Recorded()[1].Version != "2.0.0" {
		t.Errorf("recorded %d deployments; want 1.0.0 then 2.0.0", n)
	}

	// A rerun of the finished canary rollout changes nothing.
	before := len(e.b.CallsOf("apply"))
	again := e.run("2.0.0", p)
	if again.Regions[0].Status != rollout.StatusUnchanged || len(e.b.CallsOf("apply")) != before || again.Regions[0].Canary != nil {
		t.Errorf("rerun: %+v, %d applies", again.Regions[0], len(e.b.CallsOf("apply"))-before)
	}
}

func TestCanaryAlarmAtStepTwoAborts(t *testing.T) {
	e, p, reg := canaryEnv(t)
	var applies appApplies
	// Step 2's update is held until the alarm it provokes has been read, as
	// on AWS, where the rule moves long before CloudFormation is done.
	var (
		updating25 atomic.Bool
		read       = make(chan struct{})
		once       sync.Once
		firingRead atomic.Int32
	)
	e.b.ApplyHook = func(_ context.Context, _ plan.Step, sa deploy.StackApply) error {
		if sa.Name == canaryApp && sa.Parameters[render.ParamCanaryWeight] == "25" {
			updating25.Store(true)
			<-read
		}
		applies.mu.Lock()
		defer applies.mu.Unlock()
		if sa.Name == canaryApp {
			applies.params = append(applies.params, maps.Clone(sa.Parameters))
		}
		return nil
	}
	e.b.Alarms = func(_ plan.Step, _ []string, _ int) ([]string, error) {
		if updating25.Load() {
			firingRead.Add(1)
			once.Do(func() { close(read) })
			return []string{"payments-dev-canary-5xx"}, nil
		}
		return nil, nil
	}
	res := e.run("2.0.0", p)
	rr := res.Regions[0]
	if res.Result != rollout.Failed || res.ExitCode() != 1 || rr.Status != rollout.StatusRolledBack {
		t.Fatalf("%s: %+v", res.Summary(), rr)
	}
	for _, w := range []string{"canary aborted: alarm payments-dev-canary-5xx in ALARM at step 2 of 3 (25%)", "traffic back on 1.0.0 in", "restored version 1.0.0"} {
		if !strings.Contains(rr.Error, w) {
			t.Errorf("error %q does not say %q", rr.Error, w)
		}
	}
	// The abort began at the first read that saw the alarm, during the
	// update: the traffic moved then, and again once the update ended.
	if n := firingRead.Load(); n != 1 {
		t.Errorf("the alarm was read in ALARM %d times before the abort, want 1", n)
	}
	if !said(e, "canary aborted during its step's update: alarm payments-dev-canary-5xx in ALARM at step 2 of 3 (25%)") {
		t.Error("the abort during the update is not said")
	}
	sw := reg.StableOnlyCalls()
	if len(sw) != 2 || sw[0].Rule != "rule/"+canaryApp || sw[0].CanaryService != "service/"+canaryApp+"/canary" || sw[1] != sw[0] {
		t.Errorf("direct aborts %+v, want two on the stack's rule and canary", sw)
	}
	c := rr.Canary
	if c == nil || c.Step != 2 || c.Weight != 0 || c.Promoted || c.AbortSeconds == nil || !strings.Contains(c.Aborted, "in ALARM") {
		t.Fatalf("canary result %+v", c)
	}
	final := reg.Stack(canaryApp)
	if final.Parameters[render.ParamVersion] != "1.0.0" || final.Parameters[render.ParamCanaryWeight] != "0" || final.Parameters[render.ParamCanaryTasks] != "0" || final.Tags[render.TagVersion] != "1.0.0" {
		t.Errorf("the stack is not back in line on 1.0.0: %v %v", final.Parameters, final.Tags)
	}
	if got := applies.weights(); !slices.Equal(got, []string{"1.0.0/2.0.0@5x1", "1.0.0/2.0.0@25x1", "1.0.0/1.0.0@0x0"}) {
		t.Errorf("applies %v", got)
	}
}

// An alarm that fires during a step's bake (not its update) aborts at the
// next read, with one direct move.
func TestCanaryAlarmDuringABakeAborts(t *testing.T) {
	e, p, reg := canaryEnv(t)
	var bakeStart time.Time
	e.b.Alarms = func(_ plan.Step, _ []string, _ int) ([]string, error) {
		if reg.Stack(canaryApp).Parameters[render.ParamCanaryWeight] != "5" {
			return nil, nil
		}
		if bakeStart.IsZero() {
			bakeStart = e.clock.Now()
		}
		if e.clock.Now().Sub(bakeStart) >= 2*time.Minute {
			return []string{"payments-dev-cpu"}, nil
		}
		return nil, nil
	}
	res := e.run("2.0.0", p)
	if rr := res.Regions[0]; rr.Status != rollout.StatusRolledBack || !strings.Contains(rr.Error, "alarm payments-dev-cpu in ALARM at step 1 of 3 (5%)") {
		t.Fatalf("%+v", rr)
	}
	if n := len(reg.StableOnlyCalls()); n != 1 {
		t.Errorf("%d direct moves, want 1", n)
	}
	var fired, aborted time.Time
	for _, j := range e.b.Journal() {
		if j.Step == "canary" && j.Status == "aborted" {
			aborted = j.Time
		}
	}
	fired = bakeStart.Add(2 * time.Minute)
	if d := aborted.Sub(fired); d < 0 || d > deploy.DefaultCanaryPoll {
		t.Errorf("the abort began %s after the alarm, want within %s", d, deploy.DefaultCanaryPoll)
	}
}

func TestCanaryHeldByWeightFlag(t *testing.T) {
	e, p, reg := canaryEnv(t)
	var release time.Time
	e.gate.WeightFunc = func(flag string, _ rollout.GateRequest) (int, string, error) {
		if flag != "payments-canary" {
			t.Errorf("weight flag %q", flag)
		}
		if !release.IsZero() && !e.clock.Now().Before(release) {
			return 100, "released", nil
		}
		return 25, "capped", nil
	}
	// Without --gate-wait the region is held at 25%, traffic split.
	res := e.run("2.0.0", p)
	rr := res.Regions[0]
	if res.Result != rollout.Held || rr.Status != rollout.StatusHeld || rr.Canary.Weight != 25 || rr.Canary.Step != 2 {
		t.Fatalf("%s: %+v %+v", res.Summary(), rr, rr.Canary)
	}
	if !strings.Contains(rr.Error, "canary held at 25% before step 3 of 3 (50%)") {
		t.Errorf("held because %q", rr.Error)
	}
	sp := deploy.SplitOf(mustCurrent(t, reg))
	if sp == nil || sp.Weight != 25 || sp.Step != 2 || sp.Stable != "1.0.0" || sp.Canary != "2.0.0" || sp.RolloutID != "r-2.0.0" {
		t.Fatalf("split %+v", sp)
	}
	// Run again with --gate-wait: it resumes at step 2 (the step the traffic is at), bakes it again, waits at 25% and
	// goes on once the flag allows more.
	release = e.clock.Now().Add(10 * time.Minute)
	res = e.run("2.0.0", p, func(r *deploy.Request) { r.GateWait = time.Hour; r.RolloutID = "r-2.0.0-again" })
	rr = res.Regions[0]
	if res.Result != rollout.Succeeded || !rr.Canary.Promoted {
		t.Fatalf("%s: %+v %+v", res.Summary(), rr, rr.Canary)
	}
	if !said(e, "resuming the canary at step 2 of 3 (25% on 2.0.0), where rollout r-2.0.0 stopped") {
		t.Error("the rerun does not say it resumes at step 2")
	}
	if !said(e, "step 3 of 3 (50%) is above weight flag payments-canary (25%") {
		t.Error("the wait does not say why")
	}
	if reg.Stack(canaryApp).Parameters[render.ParamVersion] != "2.0.0" {
		t.Error("not promoted")
	}
}

func TestCanaryWeightFlagZeroAborts(t *testing.T) {
	e, p, reg := canaryEnv(t)
	e.gate.WeightFunc = func(string, rollout.GateRequest) (int, string, error) {
		if s := reg.Stack(canaryApp); s.Parameters[render.ParamCanaryWeight] == "5" {
			return 0, "stop", nil
		}
		return 100, "go", nil
	}
	res := e.run("2.0.0", p)
	if rr := res.Regions[0]; rr.Status != rollout.StatusRolledBack || !strings.Contains(rr.Error, "weight flag payments-canary is 0") {
		t.Fatalf("%+v", rr)
	}
	if len(reg.StableOnlyCalls()) != 1 {
		t.Error("no direct abort")
	}
}

func TestCanaryHaltAndInterruptAbort(t *testing.T) {
	t.Run("halt", func(t *testing.T) {
		e, p, reg := canaryEnv(t)
		e.gate.HaltFunc = func(rollout.GateRequest) (bool, string, error) {
			return reg.Stack(canaryApp).Parameters[render.ParamCanaryWeight] == "25", "stop everything", nil
		}
		res := e.run("2.0.0", p)
		if rr := res.Regions[0]; rr.Status != rollout.StatusRolledBack || !strings.Contains(rr.Error, "halt flag is on") || res.ExitCode() != 1 {
			t.Fatalf("%s: %+v", res.Summary(), rr)
		}
	})
	t.Run("ctrl-c", func(t *testing.T) {
		e, p, reg := canaryEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e.b.Alarms = func(_ plan.Step, _ []string, _ int) ([]string, error) {
			if reg.Stack(canaryApp).Parameters[render.ParamCanaryWeight] == "5" {
				cancel()
			}
			return nil, nil
		}
		res := e.runCtx(ctx, "2.0.0", p)
		rr := res.Regions[0]
		if rr.Status != rollout.StatusRolledBack || !strings.Contains(rr.Error, "interrupted") || len(reg.StableOnlyCalls()) == 0 {
			t.Fatalf("%s: %+v", res.Summary(), rr)
		}
		if reg.Stack(canaryApp).Parameters[render.ParamCanaryWeight] != "0" {
			t.Error("the stack was not brought back in line after Ctrl-C")
		}
	})
}

func TestCanaryResumesAtTheStepAKilledRolloutReached(t *testing.T) {
	e, p, reg := canaryEnv(t)
	var applies appApplies
	applies.hook(e)
	// What a rollout killed during step 2 leaves: the stack split at 25%.
	s := reg.Stack(canaryApp)
	s.Parameters = maps.Clone(s.Parameters)
	maps.Copy(s.Parameters, render.CanaryParameters(e.d.SpecFor("dev"), "1.0.0", "2.0.0", 25))
	s.Tags[render.TagVersion], s.Tags[deploy.TagCanaryStep], s.Tags[deploy.TagCanaryRollout] = "2.0.0", "2/3", "r-killed"
	s.Tags[deploy.TagHash] = "split"
	reg.SetStack(*s)
	res := e.run("2.0.0", p)
	if res.Result != rollout.Succeeded {
		t.Fatalf("%s", res.Summary())
	}
	// Step 2 is baked again at its weight (no apply), then 3 and the promotion.
	if got := applies.weights(); !slices.Equal(got, []string{"1.0.0/2.0.0@50x2", "2.0.0/2.0.0@0x0"}) {
		t.Errorf("applies %v", got)
	}
	var baked []string
	for _, j := range e.b.Journal() {
		if j.Step == "canary" && j.Status == "baked" {
			baked = append(baked, j.Attrs["step"])
		}
	}
	if !slices.Equal(baked, []string{"2", "3"}) {
		t.Errorf("steps baked %v, want 2 then 3", baked)
	}
}

func mustCurrent(t *testing.T, reg *deploytest.Region) deploy.Current {
	t.Helper()
	cur, err := reg.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cur
}

// said reports whether the rollout showed a message containing text.
func said(e *env, text string) bool {
	for _, ev := range e.rec.Snapshot() {
		if ev.Kind == "Message" && strings.Contains(ev.Text, text) {
			return true
		}
	}
	return false
}

// A split left by a held canary is cleaned by gantry rollback: the traffic
// moves back directly, then the stable version's deployment is restored.
func TestRollbackEndsASplit(t *testing.T) {
	e, p, reg := canaryEnv(t)
	e.gate.WeightFunc = func(string, rollout.GateRequest) (int, string, error) { return 5, "capped", nil }
	if res := e.run("2.0.0", p); res.Result != rollout.Held {
		t.Fatalf("%s", res.Summary())
	}
	if sp := deploy.SplitOf(mustCurrent(t, reg)); sp == nil || sp.Weight != 5 {
		t.Fatalf("split %+v", sp)
	}
	res, err := e.rollback("")
	if err != nil {
		t.Fatal(err)
	}
	if res.Regions[0].Status != rollout.StatusRolledBack || res.Version != "1.0.0" {
		t.Fatalf("%+v", res)
	}
	if len(reg.StableOnlyCalls()) != 1 {
		t.Errorf("direct switches %d, want 1", len(reg.StableOnlyCalls()))
	}
	if sp := deploy.SplitOf(mustCurrent(t, reg)); sp != nil {
		t.Errorf("still split after the rollback: %+v", sp)
	}
	if !said(e, "the canary's 5% of traffic (2.0.0) is back on 1.0.0") {
		t.Error("the rollback does not say it moved the traffic")
	}
}

func TestPlanSaysWhichRegionsRunACanary(t *testing.T) {
	e, p, _ := canaryEnv(t)
	preview := func(version string) *deploy.CanaryPreview {
		t.Helper()
		pv, err := e.eng.Preview(context.Background(), deploy.PreviewRequest{Descriptor: e.d, Plan: p, Stage: "dev", Version: version})
		if err != nil || pv.Regions[0].Error != "" {
			t.Fatalf("preview: %v %s", err, pv.Regions[0].Error)
		}
		return pv.Regions[0].Canary
	}
	if c := preview("2.0.0"); c == nil || !c.Runs || c.StableVersion != "1.0.0" || c.StepBake != "5m0s" ||
		c.Why != "2.0.0 against 1.0.0 in steps of 5%, 25% and 50%, 5m0s each" || !slices.Contains(c.Alarms, "payments-dev-canary-5xx-margin") {
		t.Errorf("2.0.0: %+v", c)
	}
	if c := preview("1.0.0"); c == nil || c.Runs || !strings.Contains(c.Why, "the image does not change") {
		t.Errorf("1.0.0: %+v", c)
	}
	fresh := newEnv(t, canaryDesc)
	pv, err := fresh.eng.Preview(context.Background(), deploy.PreviewRequest{Descriptor: fresh.d, Plan: fresh.plan(), Stage: "dev", Version: "1.0.0"})
	if err != nil || pv.Regions[0].Canary == nil || pv.Regions[0].Canary.Runs || !strings.Contains(pv.Regions[0].Canary.Why, "no version runs here yet") {
		t.Errorf("first deploy: %+v %v", pv.Regions[0].Canary, err)
	}
}

// --bake replaces the step bakes too, loudly; every step still reads its
// alarms once before the next.
func TestCanaryBakeOverride(t *testing.T) {
	e, p, _ := canaryEnv(t)
	start := e.clock.Now()
	reads := 0
	e.b.Alarms = func(plan.Step, []string, int) ([]string, error) { reads++; return nil, nil }
	zero := time.Duration(0)
	res := e.run("2.0.0", p, func(r *deploy.Request) { r.BakeOverride = &zero })
	if res.Result != rollout.Succeeded || !res.Regions[0].Canary.Promoted {
		t.Fatalf("%s", res.Summary())
	}
	if took := e.clock.Now().Sub(start); took >= 5*time.Minute {
		t.Errorf("--bake 0s: the canary took %s", took)
	}
	if reads < 3 || !said(e, "(--bake 0s replaces the canary's stepBake 5m0s)") {
		t.Errorf("%d alarm reads; the override said: %v", reads, said(e, "--bake 0s replaces the canary's stepBake"))
	}
}
