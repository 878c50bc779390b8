package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/deploytest"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/progress"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

const header = `schemaVersion: 1
service: payments
team: pay
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments
compute: {cpu: 512, memory: 1024, port: 8080}
routing: {path: /payments/*}
resources:
  uploads: {type: s3}
rollout:
  alarms: [payments-p99-latency]
`

// full has three stages; prod has two waves, the second of four regions,
// two at a time.
const full = header + `stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1]
  - name: staging
    account: "444455556666"
    regions: [us-east-1, eu-west-1]
    bake: 10m
  - name: prod
    account: "777788889999"
    approval: true
    waves:
      - regions: [us-west-2]
        bake: 30m
      - regions: [eu-central-1, ap-southeast-2, ap-northeast-1, sa-east-1]
        maxParallel: 2
`

// waves has one stage of three waves and a stage after it.
const waves = header + `stages:
  - name: prod
    account: "777788889999"
    bake: 30m
    waves:
      - regions: [us-east-1, eu-west-1, us-west-2]
      - regions: [eu-central-1, ap-southeast-2]
      - regions: [ap-northeast-1]
  - name: later
    account: "111122223333"
    regions: [us-east-1]
`

type env struct {
	t     *testing.T
	d     *descriptor.Descriptor
	b     *deploytest.Backend
	clock *deploytest.Clock
	gate  *deploytest.Gate
	rec   *progress.Recorder
	eng   *deploy.Engine
}

func newEnv(t *testing.T, src string) *env {
	t.Helper()
	d, probs := descriptor.Parse("payments.sd.yaml", []byte(src))
	if len(probs) > 0 {
		t.Fatalf("descriptor: %v", probs)
	}
	e := &env{t: t, d: d, b: deploytest.NewBackend(d.Service), clock: deploytest.NewClock(), gate: &deploytest.Gate{}, rec: &progress.Recorder{}}
	e.b.RulePriority = "120"
	e.eng = &deploy.Engine{
		Backend: e.b, Gate: e.gate, Clock: e.clock, Observer: e.rec,
		Approver: deploy.ApproveStages("prod"),
		Logger:   slog.New(slog.DiscardHandler),
	}
	return e
}

func (e *env) plan(stages ...string) *plan.Plan {
	e.t.Helper()
	p, err := plan.Build(e.d, stages)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) run(version string, p *plan.Plan, mod ...func(*deploy.Request)) *rollout.Result {
	return e.runCtx(context.Background(), version, p, mod...)
}

func (e *env) runCtx(ctx context.Context, version string, p *plan.Plan, mod ...func(*deploy.Request)) *rollout.Result {
	e.t.Helper()
	req := deploy.Request{Descriptor: e.d, Plan: p, Version: version, RolloutID: "r-" + version}
	for _, m := range mod {
		m(&req)
	}
	res, err := e.eng.Run(ctx, req)
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	checkComplete(e.t, res, p)
	for _, st := range p.Stages {
		if e.b.Locked(st.Name) {
			e.t.Errorf("lock of %s still held after Run", st.Name)
		}
	}
	return res
}

// checkComplete asserts that every region of the plan is in the result
// exactly once, in plan order, with a valid status.
func checkComplete(t *testing.T, res *rollout.Result, p *plan.Plan) {
	t.Helper()
	steps := p.Steps()
	if len(res.Regions) != len(steps) {
		t.Fatalf("result has %d regions, plan %d", len(res.Regions), len(steps))
	}
	for i, s := range steps {
		rr := res.Regions[i]
		if rr.Stage != s.Stage || rr.Region != s.Region || rr.Wave != s.Wave {
			t.Errorf("region %d = %s/%s wave %d, want %s/%s wave %d", i, rr.Stage, rr.Region, rr.Wave, s.Stage, s.Region, s.Wave)
		}
		switch rr.Status {
		case rollout.StatusDeployed, rollout.StatusUnchanged, rollout.StatusFailed, rollout.StatusHeld, rollout.StatusRolledBack, rollout.StatusPending:
		default:
			t.Errorf("%s/%s has status %q", rr.Stage, rr.Region, rr.Status)
		}
	}
}

func statuses(res *rollout.Result) map[string]rollout.Status {
	out := map[string]rollout.Status{}
	for _, rr := range res.Regions {
		out[rr.Stage+"/"+rr.Region] = rr.Status
	}
	return out
}

func region(t *testing.T, res *rollout.Result, stage, reg string) rollout.RegionResult {
	t.Helper()
	for _, rr := range res.Regions {
		if rr.Stage == stage && rr.Region == reg {
			return rr
		}
	}
	t.Fatalf("no region %s/%s", stage, reg)
	return rollout.RegionResult{}
}

func wantStatuses(t *testing.T, res *rollout.Result, want map[string]rollout.Status) {
	t.Helper()
	if got := statuses(res); !maps.Equal(got, want) {
		t.Errorf("statuses:\n got %v\nwant %v", got, want)
	}
}

func sum(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s
}

func appliesOf(b *deploytest.Backend, stage string) []deploytest.Call {
	var out []deploytest.Call
	for _, c := range b.CallsOf("apply") {
		if stage == "" || c.Stage == stage {
			out = append(out, c)
		}
	}
	return out
}

func TestRolloutOrderAndRecord(t *testing.T) {
	e := newEnv(t, full)
	var (
		mu     sync.Mutex
		alarms = map[string][]string{}
	)
	e.b.Alarms = func(step plan.Step, names []string, _ int) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		alarms[step.Stage] = names
		return nil, nil
	}
	p := e.plan()
	res := e.run("v1", p)
	if res.Result != rollout.Succeeded || res.ExitCode() != 0 {
		t.Fatalf("result = %s (exit %d): %+v", res.Result, res.ExitCode(), res.Regions)
	}
	for _, rr := range res.Regions {
		if rr.Status != rollout.StatusDeployed {
			t.Errorf("%s/%s = %s %s", rr.Stage, rr.Region, rr.Status, rr.Error)
		}
		if len(rr.Stacks) != 2 || rr.Stacks[0].Kind != "data" || rr.Stacks[0].Action != "create" || rr.Stacks[1].Name != "payments-"+rr.Stage+"-app" {
			t.Errorf("%s/%s stacks = %+v", rr.Stage, rr.Region, rr.Stacks)
		}
	}

	// Stages in order, each inside its own lock; within a stage, waves in
	// order; within a region, data before app.
	stageOrder := map[string]int{"dev": 0, "staging": 1, "prod": 2}
	var (
		current   = -1
		lockedNow string
		waveOf    = map[string]int{}
		lastWave  int
		dataFirst = map[string]bool{}
	)
	for _, s := range p.Steps() {
		waveOf[s.Stage+"/"+s.Region] = s.Wave
	}
	for _, c := range e.b.Calls() {
		switch c.Op {
		case "lock":
			if lockedNow != "" {
				t.Errorf("lock of %s taken while %s is held", c.Stage, lockedNow)
			}
			lockedNow = c.Stage
			if stageOrder[c.Stage] <= current {
				t.Errorf("stage %s locked out of order", c.Stage)
			}
			current, lastWave = stageOrder[c.Stage], 0
		case "release":
			lockedNow = ""
		case "apply":
			if c.Stage != lockedNow {
				t.Errorf("apply in %s/%s outside its stage's lock (held: %q)", c.Stage, c.Region, lockedNow)
			}
			w := waveOf[c.Stage+"/"+c.Region]
			if w < lastWave {
				t.Errorf("apply in %s/%s (wave %d) after wave %d began", c.Stage, c.Region, w, lastWave)
			}
			lastWave = w
			k := c.Stage + "/" + c.Region
			if strings.HasSuffix(c.Stack, "-data") {
				dataFirst[k] = true
			} else if !dataFirst[k] {
				t.Errorf("app stack of %s before its data stack", k)
			}
		}
	}
	if n := len(e.b.CallsOf("lock")); n != 3 || len(e.b.CallsOf("release")) != 3 {
		t.Errorf("locks/releases = %d/%d, want 3/3", n, len(e.b.CallsOf("release")))
	}

	// Bakes: staging 10m, prod wave 1 30m, prod wave 2 none; polled every 15s.
	if got := sum(e.clock.Sleeps()); got != 40*time.Minute {
		t.Errorf("slept %s in all, want 40m of bake", got)
	}
	for _, d := range e.clock.Sleeps() {
		if d != 15*time.Second {
			t.Errorf("bake poll of %s, want 15s", d)
		}
	}
	want := []string{"payments-staging-5xx", "payments-staging-unhealthy-hosts", "payments-staging-cpu", "payments-p99-latency"}
	if !slices.Equal(alarms["staging"], want) {
		t.Errorf("staging alarms watched = %v, want %v", alarms["staging"], want)
	}
	if _, ok := alarms["dev"]; ok {
		t.Error("dev (no bake) read alarms")
	}

	// Tags, protection and the deployment record.
	reg := e.b.RegionOf(plan.Step{Stage: "prod", Region: "sa-east-1"})
	app, data := reg.Stack("payments-prod-app"), reg.Stack("payments-prod-data")
	hash, err := deploy.Hash(mustRender(t, e.d, "prod", "sa-east-1", "v1"))
	if err != nil {
		t.Fatal(err)
	}
	wantApp := map[string]string{"gantry:service": "payments", "gantry:stage": "prod", "gantry:team": "pay", "gantry:version": "v1", "gantry:hash": hash}
	if !maps.Equal(app.Tags, wantApp) {
		t.Errorf("app tags = %v, want %v", app.Tags, wantApp)
	}
	if _, ok := data.Tags["gantry:version"]; ok || data.Tags["gantry:hash"] == "" || data.Tags["gantry:hash"] == hash {
		t.Errorf("data tags = %v: want its own hash and no version", data.Tags)
	}
	if !data.Protected || app.Protected {
		t.Errorf("protected: data %v app %v; want data only", data.Protected, app.Protected)
	}
	deps := reg.Recorded()
	if len(deps) != 1 || deps[0].Version != "v1" || deps[0].Hash != hash || len(deps[0].Stacks) != 2 ||
		deps[0].Stacks[1].Parameters["ListenerRulePriority"] != "120" || deps[0].Stacks[1].Parameters["Version"] != "v1" {
		t.Errorf("deployment record = %+v", deps)
	}

	// The journal has every step of a region, the rollout record the end.
	var steps []string
	for _, j := range e.b.Journal() {
		if j.Stage == "prod" && j.Region == "sa-east-1" {
			steps = append(steps, j.Step+":"+j.Status)
		}
	}
	if want := []string{"check:changed", "gate:open", "data:started", "data:create", "app:started", "app:create", "bake:baked", "done:deployed"}; !slices.Equal(steps, want) {
		t.Errorf("journal of prod/sa-east-1 = %v, want %v", steps, want)
	}
	recs := e.b.Rollouts()
	last := recs[len(recs)-1]
	if last.Stage != "prod" || last.Status != deploy.RolloutSucceeded || last.Regions["sa-east-1"] != rollout.StatusDeployed || last.RolloutID != "r-v1" {
		t.Errorf("last rollout record = %+v", last)
	}

	// Gate requests carry the design's attributes.
	var gr rollout.GateRequest
	for _, g := range e.gate.Checks() {
		if g.Region == "sa-east-1" {
			gr = g
		}
	}
	wantGR := rollout.GateRequest{Service: "payments", Team: "pay", Stage: "prod", Region: "sa-east-1", Account: "777788889999", Version: "v1", RolloutID: "r-v1", Wave: 2}
	if gr != wantGR || gr.TargetingKey() != "payments/prod/sa-east-1" {
		t.Errorf("gate request = %+v", gr)
	}
	if len(e.gate.Halts()) < len(p.Steps()) {
		t.Errorf("halt flag evaluated %d times, want at least once per region", len(e.gate.Halts()))
	}
}

func mustRender(t *testing.T, d *descriptor.Descriptor, stage, reg, version string) []render.Stack {
	t.Helper()
	var account string
	for _, s := range d.Stages {
		if s.Name == stage {
			account = s.Account
		}
	}
	stacks, err := render.Render(d, render.Target{Stage: stage, Region: reg, Account: account, Version: version})
	if err != nil {
		t.Fatal(err)
	}
	return stacks
}

func TestRerunIsUnchanged(t *testing.T) {
	e := newEnv(t, full)
	p := e.plan()
	e.run("v1", p)
	applies, checks, sleeps := len(appliesOf(e.b, "")), len(e.gate.Checks()), len(e.clock.Sleeps())
	currents, locks, journal := len(e.b.CallsOf("current")), len(e.b.CallsOf("lock")), len(e.b.Journal())

	res := e.run("v1", p)
	if res.ExitCode() != 0 {
		t.Fatalf("rerun exit %d", res.ExitCode())
	}
	for _, rr := range res.Regions {
		if rr.Status != rollout.StatusUnchanged {
			t.Errorf("%s/%s = %s", rr.Stage, rr.Region, rr.Status)
		}
		if len(rr.Stacks) != 2 || rr.Stacks[1].Action != "unchanged" || rr.Stacks[1].Status != "CREATE_COMPLETE" {
			t.Errorf("%s/%s stacks = %+v", rr.Stage, rr.Region, rr.Stacks)
		}
	}
	if n := len(appliesOf(e.b, "")); n != applies {
		t.Errorf("rerun applied %d stacks", n-applies)
	}
	if n := len(e.b.CallsOf("current")) - currents; n != len(p.Steps()) {
		t.Errorf("rerun described %d app stacks, want one per region (%d)", n, len(p.Steps()))
	}
	if len(e.gate.Checks()) != checks {
		t.Error("rerun evaluated the gate for unchanged regions")
	}
	if len(e.clock.Sleeps()) != sleeps {
		t.Error("rerun baked unchanged regions")
	}
	// Read-only: no lock taken, nothing journaled.
	if n := len(e.b.CallsOf("lock")) - locks; n != 0 {
		t.Errorf("rerun took %d locks", n)
	}
	if n := len(e.b.Journal()) - journal; n != 0 {
		t.Errorf("rerun journaled %d entries", n)
	}

	// A new version updates the app stacks only.
	res = e.run("v2", p)
	for _, rr := range res.Regions {
		if rr.Status != rollout.StatusDeployed || rr.Stacks[0].Action != "unchanged" || rr.Stacks[1].Action != "update" {
			t.Errorf("v2 %s/%s = %s %+v", rr.Stage, rr.Region, rr.Status, rr.Stacks)
		}
	}
}

func TestIncompleteOrStaleStackIsRedeployed(t *testing.T) {
	e := newEnv(t, full)
	p := e.plan("dev")
	e.run("v1", p)
	reg := e.b.RegionOf(plan.Step{Stage: "dev", Region: "us-east-1"})
	app := reg.Stack("payments-dev-app")

	// Tags stale, templates equal: Apply runs, finds nothing to change, and
	// the region is unchanged (nothing to bake).
	stale := *app
	stale.Tags = maps.Clone(app.Tags)
	stale.Tags["gantry:hash"] = "old"
	reg.SetStack(stale)
	before := len(appliesOf(e.b, ""))
	res := e.run("v1", p)
	if rr := region(t, res, "dev", "us-east-1"); rr.Status != rollout.StatusUnchanged || len(appliesOf(e.b, "")) != before+2 {
		t.Errorf("stale tags: %s after %d applies", rr.Status, len(appliesOf(e.b, ""))-before)
	}
	if reg.Stack("payments-dev-app").Tags["gantry:hash"] != app.Tags["gantry:hash"] {
		t.Error("tags not brought up to date")
	}

	// Same tags, but the stack is not complete: redeployed.
	broken := *reg.Stack("payments-dev-app")
	broken.Status = "UPDATE_ROLLBACK_COMPLETE"
	reg.SetStack(broken)
	res = e.run("v1", p)
	if rr := region(t, res, "dev", "us-east-1"); rr.Status != rollout.StatusDeployed || rr.Stacks[1].Action != "update" {
		t.Errorf("incomplete stack: %+v", rr)
	}
}

func TestMaxParallel(t *testing.T) {
	e := newEnv(t, full)
	entered := make(chan string)
	release := make(chan struct{})
	e.b.ApplyHook = func(ctx context.Context, step plan.Step, _ deploy.StackApply) error {
		if step.Wave != 2 {
			return nil
		}
		select {
		case entered <- step.Region:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	p := e.plan("prod")
	done := make(chan *rollout.Result)
	go func() { done <- e.run("v1", p) }()

	recv := func() string {
		select {
		case r := <-entered:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no Apply entered: the wave does not run regions in parallel")
			return ""
		}
	}
	// Two regions deploy at once (4 regions × 2 stacks = 8 applies)...
	first := []string{recv(), recv()}
	slices.Sort(first)
	if !slices.Equal(first, []string{"ap-southeast-2", "eu-central-1"}) {
		t.Errorf("first two regions = %v, want the wave's first two", first)
	}
	// Let them go one at a time until every apply has entered.
	received, released := 2, 0
	for received < 8 {
		select {
		case <-entered:
			received++
		case release <- struct{}{}:
			released++
		case <-time.After(10 * time.Second):
			t.Fatalf("stuck after %d applies entered, %d released", received, released)
		}
	}
	for ; released < 8; released++ {
		release <- struct{}{}
	}
	res := <-done
	// ...and never more.
	if got := e.b.MaxInflight(); got != 2 {
		t.Errorf("max concurrent applies = %d, want 2", got)
	}
	if res.ExitCode() != 0 {
		t.Errorf("exit %d", res.ExitCode())
	}
}

// doneHook calls fn on every RegionDone.
type doneHook struct {
	rollout.Discard
	fn func(rollout.Ref, rollout.RegionResult)
}

func (h doneHook) RegionDone(ref rollout.Ref, rr rollout.RegionResult) { h.fn(ref, rr) }

func TestFailureLetsInFlightFinish(t *testing.T) {
	e := newEnv(t, waves)
	bFailed := make(chan struct{})
	var once sync.Once
	e.eng.Observer = progress.Multi(e.rec, doneHook{fn: func(ref rollout.Ref, rr rollout.RegionResult) {
		if ref.Region == "eu-west-1" && rr.Status == rollout.StatusFailed {
			once.Do(func() { close(bFailed) })
		}
	}})
	var entered sync.WaitGroup
	entered.Add(2)
	e.b.ApplyHook = func(ctx context.Context, step plan.Step, a deploy.StackApply) error {
		if a.Kind != naming.App || step.Wave != 1 {
			return nil
		}
		switch step.Region {
		case "eu-west-1":
			entered.Wait() // the others are in flight
			return errors.New("Resource handler returned message: \"ECS service did not stabilize\"")
		default:
			entered.Done()
			select {
			case <-bFailed: // finish only after the failure is known
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		}
	}
	res := e.run("v1", e.plan())
	wantStatuses(t, res, map[string]rollout.Status{
		"prod/us-east-1": "deployed", "prod/eu-west-1": "failed", "prod/us-west-2": "deployed",
		"prod/eu-central-1": "pending", "prod/ap-southeast-2": "pending", "prod/ap-northeast-1": "pending",
		"later/us-east-1": "pending",
	})
	if res.Result != rollout.Failed || res.ExitCode() != 1 {
		t.Errorf("result %s exit %d", res.Result, res.ExitCode())
	}
	failed := region(t, res, "prod", "eu-west-1")
	if !strings.Contains(failed.Error, "stack payments-prod-app: Resource handler returned message") {
		t.Errorf("error = %q", failed.Error)
	}
	if len(failed.Stacks) != 2 || failed.Stacks[1].Status != "ROLLBACK_COMPLETE" {
		t.Errorf("failed region stacks = %+v", failed.Stacks)
	}
	for _, c := range appliesOf(e.b, "") {
		if c.Stage == "later" || !slices.Contains([]string{"us-east-1", "eu-west-1", "us-west-2"}, c.Region) {
			t.Errorf("apply after the failure: %+v", c)
		}
	}
	if len(e.b.CallsOf("lock")) != 1 {
		t.Errorf("locks = %v, want prod's only", e.b.CallsOf("lock"))
	}
	// The deployed regions of the failed wave still bake: they are in flight.
	if got := sum(e.clock.Sleeps()); got != 30*time.Minute {
		t.Errorf("baked %s, want the wave's 30m", got)
	}
	recs := e.b.Rollouts()
	if last := recs[len(recs)-1]; last.Status != deploy.RolloutFailed || !strings.Contains(last.Reason, "prod/eu-west-1") {
		t.Errorf("rollout record = %+v", last)
	}
}

func TestFailureStopsQueuedRegions(t *testing.T) {
	src := strings.Replace(waves, "      - regions: [us-east-1, eu-west-1, us-west-2]\n", "      - regions: [us-east-1, eu-west-1, us-west-2]\n        maxParallel: 1\n", 1)
	e := newEnv(t, src)
	e.b.ApplyHook = func(_ context.Context, step plan.Step, a deploy.StackApply) error {
		if step.Region == "us-east-1" && a.Kind == naming.Data {
			return errors.New("boom")
		}
		return nil
	}
	res := e.run("v1", e.plan())
	wantStatuses(t, res, map[string]rollout.Status{
		"prod/us-east-1": "failed", "prod/eu-west-1": "pending", "prod/us-west-2": "pending",
		"prod/eu-central-1": "pending", "prod/ap-southeast-2": "pending", "prod/ap-northeast-1": "pending",
		"later/us-east-1": "pending",
	})
	if n := len(appliesOf(e.b, "")); n != 1 {
		t.Errorf("%d applies, want the failed data stack only", n)
	}
	if rr := region(t, res, "prod", "us-east-1"); len(rr.Stacks) != 1 || rr.Stacks[0].Kind != "data" {
		t.Errorf("stacks = %+v", rr.Stacks)
	}
	if len(e.clock.Sleeps()) != 0 {
		t.Error("baked a wave with nothing deployed")
	}
}

func TestAlarmDuringBakeRestores(t *testing.T) {
	e := newEnv(t, waves)
	p := e.plan("prod")
	if res := e.run("v1", p); res.ExitCode() != 0 {
		t.Fatalf("v1: %+v", res.Regions)
	}
	v1 := e.b.RegionOf(plan.Step{Stage: "prod", Region: "eu-west-1"}).Stack("payments-prod-app")

	e.b.Alarms = func(step plan.Step, names []string, call int) ([]string, error) {
		// eu-west-1's 5xx alarm fires at the second poll of v2's bake.
		if step.Region == "eu-west-1" && step.Wave == 1 && call >= 122 {
			return []string{names[0]}, nil
		}
		return nil, nil
	}
	sleeps := len(e.clock.Sleeps())
	res := e.run("v2", p)
	wantStatuses(t, res, map[string]rollout.Status{
		"prod/us-east-1": "deployed", "prod/eu-west-1": "rolled-back", "prod/us-west-2": "deployed",
		"prod/eu-central-1": "pending", "prod/ap-southeast-2": "pending", "prod/ap-northeast-1": "pending",
	})
	if res.ExitCode() != 1 {
		t.Errorf("exit %d, want 1", res.ExitCode())
	}
	rb := region(t, res, "prod", "eu-west-1")
	if want := "alarm payments-prod-5xx in ALARM during the bake; restored version v1"; rb.Error != want {
		t.Errorf("error = %q, want %q", rb.Error, want)
	}
	if len(rb.Stacks) != 2 || rb.Stacks[0].Action != "unchanged" || rb.Stacks[1].Action != "restore" {
		t.Errorf("stacks = %+v", rb.Stacks)
	}
	reg := e.b.RegionOf(plan.Step{Stage: "prod", Region: "eu-west-1"})
	now := reg.Stack("payments-prod-app")
	if now.Tags["gantry:version"] != "v1" || now.Tags["gantry:hash"] != v1.Tags["gantry:hash"] || string(now.Template) != string(v1.Template) || now.Parameters["Version"] != "v1" {
		t.Errorf("restored app stack: tags %v, Version %s", now.Tags, now.Parameters["Version"])
	}
	deps := reg.Recorded()
	if got := deps[len(deps)-1].Version; got != "v1" {
		t.Errorf("latest deployment after restore = %s, want v1 recorded again", got)
	}
	// The others were watched for the whole bake.
	if got := sum(e.clock.Sleeps()[sleeps:]); got != 30*time.Minute {
		t.Errorf("bake lasted %s, want 30m", got)
	}
	// A rerun of v2 redeploys the restored region only, after fixing.
	e.b.Alarms = nil
	res = e.run("v2", p)
	if st := statuses(res); st["prod/eu-west-1"] != "deployed" || st["prod/us-east-1"] != "unchanged" {
		t.Errorf("rerun after restore: %v", st)
	}
}

func TestAlarmWithNothingToRestore(t *testing.T) {
	e := newEnv(t, waves)
	e.b.Alarms = func(step plan.Step, _ []string, _ int) ([]string, error) {
		if step.Region == "us-west-2" {
			return []string{"payments-p99-latency", "payments-prod-cpu"}, nil
		}
		return nil, nil
	}
	res := e.run("v1", e.plan("prod"))
	rr := region(t, res, "prod", "us-west-2")
	if rr.Status != rollout.StatusFailed || !strings.Contains(rr.Error, "alarms payments-p99-latency and payments-prod-cpu in ALARM") || !strings.Contains(rr.Error, "nothing to restore") {
		t.Errorf("region = %+v", rr)
	}
	if res.ExitCode() != 1 {
		t.Errorf("exit %d", res.ExitCode())
	}
}

func TestAlarmReadErrorAtEndFails(t *testing.T) {
	e := newEnv(t, waves)
	e.b.Alarms = func(step plan.Step, _ []string, call int) ([]string, error) {
		if step.Region == "us-west-2" && call == 120 {
			return nil, errors.New("throttled")
		}
		return nil, nil
	}
	res := e.run("v1", e.plan("prod"))
	if rr := region(t, res, "prod", "us-west-2"); rr.Status != rollout.StatusFailed || !strings.Contains(rr.Error, "could not read the alarms at its end: throttled") {
		t.Errorf("region = %+v", rr)
	}
}

func TestHaltBetweenWaves(t *testing.T) {
	src := strings.Replace(waves, "    bake: 30m\n", "", 1)
	e := newEnv(t, src)
	e.gate.HaltFunc = func(req rollout.GateRequest) (bool, string, error) {
		return req.Wave >= 2, "incident INC-42", nil
	}
	res := e.run("v1", e.plan())
	wantStatuses(t, res, map[string]rollout.Status{
		"prod/us-east-1": "deployed", "prod/eu-west-1": "deployed", "prod/us-west-2": "deployed",
		"prod/eu-central-1": "held", "prod/ap-southeast-2": "held", "prod/ap-northeast-1": "pending",
		"later/us-east-1": "pending",
	})
	if res.Result != rollout.Held || res.ExitCode() != 3 {
		t.Errorf("result %s exit %d", res.Result, res.ExitCode())
	}
	if rr := region(t, res, "prod", "eu-central-1"); rr.Error != "halt flag is on: incident INC-42" {
		t.Errorf("held reason = %q", rr.Error)
	}
	for _, c := range appliesOf(e.b, "") {
		if c.Region != "us-east-1" && c.Region != "eu-west-1" && c.Region != "us-west-2" || c.Stage != "prod" {
			t.Errorf("apply after halt: %+v", c)
		}
	}
	recs := e.b.Rollouts()
	if last := recs[len(recs)-1]; last.Status != deploy.RolloutHeld {
		t.Errorf("rollout record status = %s", last.Status)
	}
}

func TestHaltDuringBake(t *testing.T) {
	e := newEnv(t, waves)
	start := e.clock.Now()
	e.gate.HaltFunc = func(req rollout.GateRequest) (bool, string, error) {
		return e.clock.Now().Sub(start) >= 5*time.Minute, "deploy freeze", nil
	}
	res := e.run("v1", e.plan())
	if got := sum(e.clock.Sleeps()); got != 5*time.Minute {
		t.Errorf("baked %s, want the bake stopped at 5m", got)
	}
	for _, r := range []string{"us-east-1", "eu-west-1", "us-west-2"} {
		rr := region(t, res, "prod", r)
		if rr.Status != rollout.StatusDeployed || rr.Error != "bake stopped after 5m0s of 30m0s: halt flag is on: deploy freeze" {
			t.Errorf("%s = %s %q", r, rr.Status, rr.Error)
		}
	}
	if st := statuses(res); st["prod/eu-central-1"] != "pending" || st["later/us-east-1"] != "pending" {
		t.Errorf("after the halt: %v", st)
	}
	if res.ExitCode() != 3 {
		t.Errorf("exit %d, want 3", res.ExitCode())
	}
}

func TestHaltEvaluationErrorHolds(t *testing.T) {
	e := newEnv(t, waves)
	e.gate.HaltFunc = func(rollout.GateRequest) (bool, string, error) { return false, "", errors.New("provider not ready") }
	res := e.run("v1", e.plan())
	if rr := region(t, res, "prod", "us-east-1"); rr.Status != rollout.StatusHeld || !strings.Contains(rr.Error, "provider not ready") {
		t.Errorf("region = %+v", rr)
	}
	if len(appliesOf(e.b, "")) != 0 || res.ExitCode() != 3 {
		t.Errorf("applies %d, exit %d", len(appliesOf(e.b, "")), res.ExitCode())
	}
}

func TestClosedGateHoldsOneRegion(t *testing.T) {
	e := newEnv(t, waves)
	e.gate.CheckFunc = func(req rollout.GateRequest) (rollout.Decision, error) {
		if req.Region == "eu-west-1" {
			return rollout.Decision{Reason: "EU freeze this week"}, nil
		}
		return rollout.Decision{Open: true, Reason: "targeting match"}, nil
	}
	res := e.run("v1", e.plan())
	wantStatuses(t, res, map[string]rollout.Status{
		"prod/us-east-1": "deployed", "prod/eu-west-1": "held", "prod/us-west-2": "deployed",
		"prod/eu-central-1": "pending", "prod/ap-southeast-2": "pending", "prod/ap-northeast-1": "pending",
		"later/us-east-1": "pending",
	})
	if rr := region(t, res, "prod", "eu-west-1"); rr.Error != "gate closed: EU freeze this week" {
		t.Errorf("reason = %q", rr.Error)
	}
	for _, c := range appliesOf(e.b, "") {
		if c.Region == "eu-west-1" {
			t.Error("held region applied")
		}
	}
	if res.ExitCode() != 3 {
		t.Errorf("exit %d", res.ExitCode())
	}
	// The deployed regions of the wave still bake.
	if got := sum(e.clock.Sleeps()); got != 30*time.Minute {
		t.Errorf("baked %s", got)
	}
	// Opened, a rerun deploys the held region and touches nothing else.
	e.gate.CheckFunc = nil
	before := len(appliesOf(e.b, ""))
	res = e.run("v1", e.plan("prod"))
	if st := statuses(res); st["prod/eu-west-1"] != "deployed" || st["prod/us-east-1"] != "unchanged" {
		t.Errorf("rerun: %v", st)
	}
	for _, c := range appliesOf(e.b, "")[before:] {
		if c.Region == "us-east-1" || c.Region == "us-west-2" {
			t.Errorf("rerun applied %s", c.Region)
		}
	}
}

func TestGateErrorFailsClosed(t *testing.T) {
	e := newEnv(t, waves)
	e.gate.CheckFunc = func(rollout.GateRequest) (rollout.Decision, error) {
		return rollout.Decision{Open: true}, errors.New("FLAG_NOT_FOUND: payments-deploy-gate")
	}
	res := e.run("v1", e.plan("prod"))
	rr := region(t, res, "prod", "us-east-1")
	if rr.Status != rollout.StatusHeld || !strings.Contains(rr.Error, "could not be evaluated") || !strings.Contains(rr.Error, "FLAG_NOT_FOUND") {
		t.Errorf("region = %+v", rr)
	}
	if len(appliesOf(e.b, "")) != 0 {
		t.Error("applied with a failing gate")
	}
}

func TestGateWaitOpens(t *testing.T) {
	e := newEnv(t, waves)
	start := e.clock.Now()
	e.gate.CheckFunc = func(req rollout.GateRequest) (rollout.Decision, error) {
		if req.Region == "eu-west-1" && e.clock.Now().Sub(start) < 35*time.Second {
			return rollout.Decision{Reason: "not yet"}, nil
		}
		return rollout.Decision{Open: true, Reason: "opened"}, nil
	}
	res := e.run("v1", e.plan("prod"), func(r *deploy.Request) { r.GateWait = 5 * time.Minute })
	if res.ExitCode() != 0 {
		t.Fatalf("exit %d: %+v", res.ExitCode(), res.Regions)
	}
	if rr := region(t, res, "prod", "eu-west-1"); rr.Status != rollout.StatusDeployed {
		t.Errorf("eu-west-1 = %+v", rr)
	}
	// Four gate polls of 10s, then three bakes of 30m.
	sl := e.clock.Sleeps()
	if !slices.Equal(sl[:4], []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second}) || sl[4] != 15*time.Second {
		t.Errorf("sleeps start %v", sl[:5])
	}
	var waited bool
	for _, ev := range e.rec.Snapshot() {
		if ev.Kind == "Message" && strings.Contains(ev.Text, "gate closed: not yet; waiting up to 5m0s") {
			waited = true
		}
	}
	if !waited {
		t.Error("no message about waiting for the gate")
	}
}

func TestGateWaitRunsOut(t *testing.T) {
	e := newEnv(t, waves)
	e.gate.CheckFunc = func(req rollout.GateRequest) (rollout.Decision, error) {
		if req.Region == "eu-west-1" {
			return rollout.Decision{Reason: "closed"}, nil
		}
		return rollout.Decision{Open: true}, nil
	}
	res := e.run("v1", e.plan("prod"), func(r *deploy.Request) { r.GateWait = time.Minute })
	if rr := region(t, res, "prod", "eu-west-1"); rr.Status != rollout.StatusHeld || rr.Error != "gate closed: closed (waited 1m0s)" {
		t.Errorf("eu-west-1 = %+v", rr)
	}
	var gateSleeps time.Duration
	for _, d := range e.clock.Sleeps() {
		if d != 15*time.Second {
			gateSleeps += d
		}
	}
	if gateSleeps != time.Minute {
		t.Errorf("waited %s for the gate, want 1m", gateSleeps)
	}
	if res.ExitCode() != 3 {
		t.Errorf("exit %d", res.ExitCode())
	}
}

func TestFailureEndsGateWait(t *testing.T) {
	e := newEnv(t, waves)
	failed := make(chan struct{})
	var once sync.Once
	e.eng.Observer = doneHook{fn: func(ref rollout.Ref, rr rollout.RegionResult) {
		if ref.Region == "us-west-2" && rr.Status == rollout.StatusFailed {
			once.Do(func() { close(failed) })
		}
	}}
	waiting := make(chan struct{})
	var checks int
	e.gate.CheckFunc = func(req rollout.GateRequest) (rollout.Decision, error) {
		if req.Region != "eu-west-1" {
			return rollout.Decision{Open: true}, nil
		}
		checks++ // one region's goroutine only
		if checks == 2 {
			close(waiting) // eu-west-1 is in its gate wait
			<-failed       // and stays there until us-west-2 has failed
		}
		return rollout.Decision{Reason: "EU freeze"}, nil
	}
	e.b.ApplyHook = func(ctx context.Context, step plan.Step, a deploy.StackApply) error {
		if step.Region == "us-west-2" && a.Kind == naming.App {
			<-waiting
			return errors.New("boom")
		}
		return nil
	}
	res := e.run("v1", e.plan("prod"), func(r *deploy.Request) { r.GateWait = time.Hour })
	rr := region(t, res, "prod", "eu-west-1")
	if rr.Status != rollout.StatusHeld || rr.Error != "gate closed: EU freeze" {
		t.Errorf("eu-west-1 = %+v; want held by its gate, the wait ended by the failure", rr)
	}
	if checks != 2 {
		t.Errorf("gate checked %d times, want no check after the failure", checks)
	}
	if res.ExitCode() != 1 {
		t.Errorf("exit %d", res.ExitCode())
	}
}

func TestApprovalMissingHolds(t *testing.T) {
	e := newEnv(t, full)
	e.eng.Approver = deploy.ApproverFunc(func(context.Context, deploy.ApprovalRequest) (bool, error) { return false, nil })
	res := e.run("v1", e.plan())
	for _, rr := range res.Regions {
		want := rollout.StatusDeployed
		if rr.Stage == "prod" {
			want = rollout.StatusHeld
			if rr.Error != "stage prod needs approval: run again with --approve prod" {
				t.Errorf("reason = %q", rr.Error)
			}
		}
		if rr.Status != want {
			t.Errorf("%s/%s = %s", rr.Stage, rr.Region, rr.Status)
		}
	}
	if res.ExitCode() != 3 {
		t.Errorf("exit %d", res.ExitCode())
	}
	// The stage is held under its lock, so it leaves a held rollout record
	// (what gantry status shows), and touches no stack.
	for _, c := range e.b.Calls() {
		if c.Stage == "prod" && !readOnlyOrLock(c.Op) {
			t.Errorf("call in prod without approval: %+v", c)
		}
	}
	if e.b.Locked("prod") {
		t.Error("prod's lock was not released")
	}
	var held bool
	for _, r := range e.b.Rollouts() {
		held = held || (r.Stage == "prod" && r.Status == deploy.RolloutHeld && strings.Contains(r.Reason, "--approve prod"))
	}
	if !held {
		t.Errorf("no held rollout record for prod: %+v", e.b.Rollouts())
	}

	e.eng.Approver = deploy.ApproverFunc(func(context.Context, deploy.ApprovalRequest) (bool, error) { return false, errors.New("EOF") })
	res = e.run("v1", e.plan("prod"))
	if rr := region(t, res, "prod", "us-west-2"); rr.Status != rollout.StatusHeld || !strings.Contains(rr.Error, "EOF") {
		t.Errorf("approval error: %+v", rr)
	}
	e.eng.Approver = nil
	if res := e.run("v1", e.plan("prod")); res.ExitCode() != 3 {
		t.Errorf("no approver: exit %d", res.ExitCode())
	}
}

// readOnlyOrLock: the calls a stage may make without approval: the
// read-only look at whether it is already done, and its lock.
func readOnlyOrLock(op string) bool {
	return op == "region" || op == "current" || op == "missing-alarms" || op == "lock" || op == "release"
}

func TestLockRefused(t *testing.T) {
	e := newEnv(t, full)
	e.b.LockErr = func(stage string) error {
		if stage == "staging" {
			return errors.New("held by alice@laptop (pid 4242, rollout r-9) until 10:32:00Z; if it is stale, run gantry unlock payments.sd.yaml --stage staging")
		}
		return nil
	}
	res := e.run("v1", e.plan())
	wantStatuses(t, res, map[string]rollout.Status{
		"dev/us-east-1": "deployed", "staging/us-east-1": "failed", "staging/eu-west-1": "failed",
		"prod/us-west-2": "pending", "prod/eu-central-1": "pending", "prod/ap-southeast-2": "pending",
		"prod/ap-northeast-1": "pending", "prod/sa-east-1": "pending",
	})
	if rr := region(t, res, "staging", "eu-west-1"); !strings.Contains(rr.Error, "alice@laptop") || len(rr.Stacks) != 0 {
		t.Errorf("staging = %+v", rr)
	}
	// Only the read-only look before the lock (is the stage already done?).
	for _, c := range e.b.Calls() {
		if (c.Stage == "staging" || c.Stage == "prod") && c.Op != "region" && c.Op != "current" && c.Op != "lock" && c.Op != "missing-alarms" {
			t.Errorf("call after the refused lock: %+v", c)
		}
	}
	if res.ExitCode() != 1 {
		t.Errorf("exit %d", res.ExitCode())
	}
}

func TestConcurrentRolloutRefused(t *testing.T) {
	e := newEnv(t, waves)
	p := e.plan("prod")
	inFlight, secondDone := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.b.ApplyHook = func(_ context.Context, step plan.Step, _ deploy.StackApply) error {
		if step.Region == "us-east-1" {
			once.Do(func() { close(inFlight) })
			<-secondDone
		}
		return nil
	}
	first := make(chan *rollout.Result)
	go func() { first <- e.run("v1", p) }()
	<-inFlight
	res, err := e.eng.Run(context.Background(), deploy.Request{Descriptor: e.d, Plan: p, Version: "v2", RolloutID: "r-2"})
	close(secondDone)
	if err != nil {
		t.Fatal(err)
	}
	if rr := region(t, res, "prod", "us-east-1"); rr.Status != rollout.StatusFailed || !strings.Contains(rr.Error, "locked by rollout r-v1") {
		t.Errorf("second rollout: %+v", rr)
	}
	if res.ExitCode() != 1 {
		t.Errorf("second exit %d", res.ExitCode())
	}
	if r := <-first; r.ExitCode() != 0 {
		t.Errorf("first rollout exit %d", r.ExitCode())
	}
	for _, c := range appliesOf(e.b, "") {
		if c.Version == "v2" {
			t.Errorf("the refused rollout applied %+v", c)
		}
	}
}

func TestBakeOverride(t *testing.T) {
	e := newEnv(t, full)
	one := time.Minute
	res := e.run("v1", e.plan("staging"), func(r *deploy.Request) { r.BakeOverride = &one })
	if got := sum(e.clock.Sleeps()); got != time.Minute {
		t.Errorf("baked %s, want the 1m override", got)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "--bake 1m0s") {
		t.Errorf("notes = %v", res.Notes)
	}
	var bake deploy.JournalEntry
	for _, j := range e.b.Journal() {
		if j.Step == "bake" && j.Status == "started" {
			bake = j
		}
	}
	if bake.Attrs["bakeOverride"] != "1m0s" || bake.Attrs["waveBake"] != "10m0s" || !strings.Contains(bake.Message, "--bake 1m0s replaces the wave's 10m0s") {
		t.Errorf("bake journal entry = %+v", bake)
	}
	recs := e.b.Rollouts()
	if recs[len(recs)-1].BakeOverride != time.Minute {
		t.Errorf("rollout record = %+v", recs[len(recs)-1])
	}
	var warned, started bool
	for _, ev := range e.rec.Snapshot() {
		if ev.Kind == "Message" && ev.Level == slog.LevelWarn && strings.Contains(ev.Text, "--bake") {
			warned = true
		}
		if ev.Kind == "RolloutStarted" && len(ev.Start.Notes) == 1 {
			started = true
		}
	}
	if !warned || !started {
		t.Errorf("override not shown loudly: warned %v, in start notes %v", warned, started)
	}

	zero := time.Duration(0)
	sleeps := len(e.clock.Sleeps())
	e.run("v2", e.plan("staging"), func(r *deploy.Request) { r.BakeOverride = &zero })
	if len(e.clock.Sleeps()) != sleeps {
		t.Error("--bake 0 still baked")
	}
}

func TestResultJSON(t *testing.T) {
	src := header + `stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1, eu-west-1]
    maxParallel: 1
`
	src = strings.Replace(src, "    regions: [us-east-1, eu-west-1]\n    maxParallel: 1\n", "    waves:\n      - regions: [us-east-1, eu-west-1]\n        maxParallel: 1\n", 1)
	e := newEnv(t, src)
	e.b.ApplyHook = func(_ context.Context, step plan.Step, a deploy.StackApply) error {
		if step.Region == "eu-west-1" && a.Kind == naming.App {
			return errors.New("boom")
		}
		return nil
	}
	res := e.run("1.2.3", e.plan())
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "service": "payments",
  "version": "1.2.3",
  "result": "failed",
  "regions": [
    {
      "stage": "dev",
      "region": "us-east-1",
      "wave": 1,
      "status": "deployed",
      "stacks": [
        {
          "name": "payments-dev-data",
          "kind": "data",
          "action": "create",
          "status": "CREATE_COMPLETE",
          "changes": 1
        },
        {
          "name": "payments-dev-app",
          "kind": "app",
          "action": "create",
          "status": "CREATE_COMPLETE",
          "changes": 1
        }
      ]
    },
    {
      "stage": "dev",
      "region": "eu-west-1",
      "wave": 1,
      "status": "failed",
      "stacks": [
        {
          "name": "payments-dev-data",
          "kind": "data",
          "action": "create",
          "status": "CREATE_COMPLETE",
          "changes": 1
        },
        {
          "name": "payments-dev-app",
          "kind": "app",
          "action": "update",
          "status": "ROLLBACK_COMPLETE",
          "changes": 1
        }
      ],
      "error": "stack payments-dev-app: boom"
    }
  ],
  "rolloutId": "r-1.2.3",
  "notes": []
}`
	if string(b) != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", b, want)
	}
}

func TestCancelMidRollout(t *testing.T) {
	base := runtime.NumGoroutine()
	e := newEnv(t, waves)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.b.ApplyHook = func(ctx context.Context, step plan.Step, a deploy.StackApply) error {
		if step.Region == "us-west-2" && a.Kind == naming.App {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	res := e.runCtx(ctx, "v1", e.plan(), func(r *deploy.Request) { r.GateWait = time.Hour })
	if res.ExitCode() != 1 {
		t.Errorf("exit %d", res.ExitCode())
	}
	if rr := region(t, res, "prod", "us-west-2"); rr.Status != rollout.StatusFailed || !strings.Contains(rr.Error, "context canceled") {
		t.Errorf("us-west-2 = %+v", rr)
	}
	if st := statuses(res); st["prod/eu-central-1"] != "pending" || st["later/us-east-1"] != "pending" {
		t.Errorf("statuses = %v", st)
	}
	if len(e.b.CallsOf("release")) != 1 {
		t.Error("lock not released after cancellation")
	}
	// No goroutine outlives Run.
	// (A goroutine past wg.Done may still be exiting: give it a moment.)
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > base && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Run, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func TestCurrentErrorFails(t *testing.T) {
	e := newEnv(t, waves)
	e.b.CurrentErr = func(step plan.Step) error {
		if step.Region == "eu-west-1" {
			return errors.New("AccessDenied")
		}
		return nil
	}
	res := e.run("v1", e.plan("prod"))
	if rr := region(t, res, "prod", "eu-west-1"); rr.Status != rollout.StatusFailed || rr.Error != "reading stack payments-prod-app: AccessDenied" {
		t.Errorf("region = %+v", rr)
	}
}

func TestRestoreHelper(t *testing.T) {
	e := newEnv(t, waves)
	p := e.plan("prod")
	e.run("v1", p)
	e.run("v2", p)
	reg := e.b.RegionOf(plan.Step{Stage: "prod", Region: "us-east-1"})
	v1 := reg.Recorded()[0]
	if v1.Version != "v1" {
		t.Fatalf("first deployment = %s", v1.Version)
	}
	outs, err := deploy.Restore(context.Background(), reg, &v1, deploy.RestoreOptions{Tags: deploy.BaseTags(e.d, "prod"), Now: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].Action != "unchanged" || outs[1].Action != "update" {
		t.Errorf("outcomes = %+v", outs)
	}
	app := reg.Stack("payments-prod-app")
	if app.Tags["gantry:version"] != "v1" || app.Tags["gantry:hash"] != v1.Hash || app.Parameters["ListenerRulePriority"] != "120" {
		t.Errorf("restored stack: %+v", app)
	}
	if !reg.Stack("payments-prod-data").Protected {
		t.Error("restored data stack not protected")
	}
	// A rerun of v1 now finds the region unchanged.
	if res := e.run("v1", p); statuses(res)["prod/us-east-1"] != "unchanged" {
		t.Errorf("after restore, v1 rerun: %v", statuses(res))
	}
	if _, err := deploy.Restore(context.Background(), reg, &deploy.Deployment{}, deploy.RestoreOptions{}); err == nil {
		t.Error("empty deployment: no error")
	}
}

func TestRunRejectsBadRequests(t *testing.T) {
	e := newEnv(t, waves)
	p := e.plan()
	for name, req := range map[string]deploy.Request{
		"no version":    {Descriptor: e.d, Plan: p},
		"no plan":       {Descriptor: e.d, Version: "v1"},
		"bad version":   {Descriptor: e.d, Plan: p, Version: "-bad"},
		"no descriptor": {Plan: p, Version: "v1"},
	} {
		if _, err := e.eng.Run(context.Background(), req); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	e.eng.Render = func(render.Target) ([]render.Stack, error) { return nil, fmt.Errorf("bad placeholder") }
	if _, err := e.eng.Run(context.Background(), deploy.Request{Descriptor: e.d, Plan: p, Version: "v1"}); err == nil || !strings.Contains(err.Error(), "bad placeholder") {
		t.Errorf("render error: %v", err)
	}
	if len(e.b.Calls()) != 0 {
		t.Errorf("calls on a bad request: %v", e.b.Calls())
	}
}

func TestObserverSeesEveryRegion(t *testing.T) {
	e := newEnv(t, waves)
	e.gate.CheckFunc = func(req rollout.GateRequest) (rollout.Decision, error) {
		return rollout.Decision{Open: req.Region != "us-west-2", Reason: "r"}, nil
	}
	res := e.run("v1", e.plan())
	done := map[string]rollout.Status{}
	var started *rollout.Start
	var final *rollout.Result
	for _, ev := range e.rec.Snapshot() {
		switch ev.Kind {
		case "RegionDone":
			if _, dup := done[ev.Ref.String()]; dup {
				t.Errorf("RegionDone twice for %s", ev.Ref)
			}
			done[ev.Ref.String()] = ev.Region.Status
		case "RolloutStarted":
			started = ev.Start
		case "RolloutDone":
			final = ev.Result
		}
	}
	if started == nil || len(started.Regions) != 7 || final == nil || final.Result != res.Result {
		t.Fatalf("start %v, final %v", started, final)
	}
	want := map[string]rollout.Status{"prod/us-east-1": "deployed", "prod/eu-west-1": "deployed", "prod/us-west-2": "held"}
	if !maps.Equal(done, want) {
		t.Errorf("RegionDone = %v, want %v", done, want)
	}
}

// TestRerunRecordsAnUnrecordedDeployment is a rollout killed after a
// region's stacks were on the new version but before its deployment was
// recorded: the rerun must not skip the region as unchanged without the
// record a restore or rollback needs. It records it (empty change sets,
// no gate: the stacks already run the version) and reports unchanged; the
// next rerun is read-only again.
func TestRerunRecordsAnUnrecordedDeployment(t *testing.T) {
	done := newEnv(t, full)
	p := done.plan()
	done.run("v1", p)

	e := newEnv(t, full)
	for _, c := range appliesOf(done.b, "") {
		step := stepOf(t, p, c.Stage, c.Region)
		e.b.RegionOf(step).SetStack(*done.b.RegionOf(step).Stack(c.Stack))
	}
	e.gate.CheckFunc = func(rollout.GateRequest) (rollout.Decision, error) {
		return rollout.Decision{Open: false, Reason: "closed"}, nil
	}
	res := e.run("v1", p)
	if res.ExitCode() != 0 {
		t.Fatalf("rerun exit %d: %v", res.ExitCode(), statuses(res))
	}
	for _, s := range p.Steps() {
		key := s.Stage + "/" + s.Region
		// The run that deployed the stacks died before its record, so
		// before its bake: the rerun records and bakes, nothing else.
		if rr := region(t, res, s.Stage, s.Region); rr.Status != rollout.StatusDeployed || !strings.Contains(rr.Error, "baking it now") ||
			slices.ContainsFunc(rr.Stacks, func(st rollout.StackResult) bool { return st.Action != rollout.ActionUnchanged }) {
			t.Errorf("%s = %+v, want deployed (baked), every stack unchanged", key, rr)
		}
		got, want := e.b.RegionOf(s).Recorded(), done.b.RegionOf(s).Recorded()
		if len(got) != 1 || got[0].Version != "v1" || got[0].Hash != want[0].Hash || !reflect.DeepEqual(got[0].Stacks, want[0].Stacks) {
			t.Errorf("%s: %d deployment(s) recorded, want one like the first rollout's (v1, hash %s, same stacks and parameters)", key, len(got), want[0].Hash)
		}
	}
	if n := len(e.gate.Checks()); n != 0 {
		t.Errorf("the gate was evaluated %d times for regions that only needed their record", n)
	}
	locks := len(e.b.CallsOf("lock"))
	if res := e.run("v1", p); res.ExitCode() != 0 || len(e.b.CallsOf("lock")) != locks {
		t.Errorf("the next rerun: exit %d, %d locks; want a read-only unchanged rerun", res.ExitCode(), len(e.b.CallsOf("lock"))-locks)
	}
}

func stepOf(t *testing.T, p *plan.Plan, stage, region string) plan.Step {
	t.Helper()
	for _, s := range p.Steps() {
		if s.Stage == stage && s.Region == region {
			return s
		}
	}
	t.Fatalf("no step %s/%s", stage, region)
	return plan.Step{}
}

// interrupted is a backend whose stages' last rollouts died (or not)
// before their last record.
type interrupted struct {
	*deploytest.Backend
	dead map[string]bool
}

func (b interrupted) Interrupted(_ context.Context, st plan.Stage) (bool, error) {
	return b.dead[st.Name], nil
}

// TestRerunClosesAnInterruptedRollout is a rollout killed after its last
// region was recorded but before the stage's last rollout record: the
// rerun finds every region unchanged, and still takes that stage's lock
// (and only that stage's) so that its rollout record ends.
func TestRerunClosesAnInterruptedRollout(t *testing.T) {
	e := newEnv(t, full)
	p := e.plan()
	e.run("v1", p)
	dead := p.Stages[len(p.Stages)-1].Name
	e.eng.Backend = interrupted{e.b, map[string]bool{dead: true}}
	locks, records, applies := len(e.b.CallsOf("lock")), len(e.b.Rollouts()), len(appliesOf(e.b, ""))

	res := e.run("v1", p)
	if res.ExitCode() != 0 {
		t.Fatalf("rerun exit %d: %v", res.ExitCode(), statuses(res))
	}
	for k, st := range statuses(res) {
		if st != rollout.StatusUnchanged {
			t.Errorf("%s = %s, want unchanged", k, st)
		}
	}
	if got := e.b.CallsOf("lock")[locks:]; len(got) != 1 || got[0].Stage != dead {
		t.Errorf("rerun locks = %+v, want only stage %s's", got, dead)
	}
	last := e.b.Rollouts()
	if len(last) == records || last[len(last)-1].Stage != dead || last[len(last)-1].Status != deploy.RolloutSucceeded {
		t.Errorf("rollout records after the rerun: %+v, want a succeeded one for %s", last[records:], dead)
	}
	if n := len(appliesOf(e.b, "")) - applies; n != 0 {
		t.Errorf("rerun applied %d stacks", n)
	}
}

// A wave's change sets are made while the wave before it deploys, and its
// turn uses them; the first wave of a stage makes its own.
func TestWavesArePreparedAhead(t *testing.T) {
	e := newEnv(t, waves)
	e.b.Preparing = true
	res := e.run("v1", e.plan())
	checkPrepared(t, e.b, "v1", map[string]bool{"us-east-1": false, "eu-west-1": false, "us-west-2": false,
		"eu-central-1": true, "ap-southeast-2": true, "ap-northeast-1": true}, naming.Data)
	if res.ExitCode() != 0 {
		t.Fatalf("exit %d", res.ExitCode())
	}
	// A new version: the data stacks are unchanged, so the app stacks'
	// change sets are made ahead too.
	before := len(e.b.Calls())
	e.run("v2", e.plan("prod"))
	checkPrepared(t, &callsFrom{e.b, before}, "v2", map[string]bool{"us-east-1": false, "eu-west-1": false, "us-west-2": false,
		"eu-central-1": true, "ap-southeast-2": true, "ap-northeast-1": true}, naming.Data, naming.App)
}

// callsFrom is a backend's calls from index from on.
type callsFrom struct {
	b    *deploytest.Backend
	from int
}

func (c *callsFrom) Calls() []deploytest.Call { return c.b.Calls()[c.from:] }

// checkPrepared checks, per region, that its applies of kinds used a
// change set made ahead (want true) or not, that a region was prepared
// only after every region of the wave before it had started applying, and
// that the stage's end discarded nothing left over.
func checkPrepared(t *testing.T, b interface{ Calls() []deploytest.Call }, version string, want map[string]bool, kinds ...naming.StackKind) {
	t.Helper()
	calls := b.Calls()
	firstApply := map[int]int{} // wave → index of the last region's first apply
	wave := map[string]int{"us-east-1": 1, "eu-west-1": 1, "us-west-2": 1, "eu-central-1": 2, "ap-southeast-2": 2, "ap-northeast-1": 3}
	seen := map[string]bool{}
	for i, c := range calls {
		if c.Op == "apply" && c.Stage == "prod" && !seen[c.Region] {
			seen[c.Region] = true
			firstApply[wave[c.Region]] = i
		}
	}
	for i, c := range calls {
		if c.Stage != "prod" {
			continue
		}
		switch c.Op {
		case "prepare":
			if !want[c.Region] {
				t.Errorf("%s (wave %d) prepared ahead", c.Region, wave[c.Region])
			}
			if prev := wave[c.Region] - 1; i < firstApply[prev] {
				t.Errorf("%s prepared (call %d) before wave %d was applying (call %d)", c.Region, i, prev, firstApply[prev])
			}
			if strings.HasSuffix(c.Stack, "-app") && c.Version != version { // data stacks carry no version
				t.Errorf("%s prepared version %s, want %s", c.Region, c.Version, version)
			}
		case "apply":
			k := naming.StackKind(strings.TrimPrefix(c.Stack, "payments-prod-"))
			if !slices.Contains(kinds, k) {
				continue
			}
			if got := c.Prepared == 1; got != want[c.Region] {
				t.Errorf("%s %s stack applied with a prepared change set = %v, want %v", c.Region, k, got, want[c.Region])
			}
		}
	}
	for _, c := range calls {
		if c.Op == "discard" && c.Prepared != 0 {
			t.Errorf("the stage's end discarded %d prepared change sets; all were used", c.Prepared)
		}
	}
}

// Change sets made ahead for regions that never get their turn are
// discarded when the stage ends.
func TestPreparedChangeSetsOfAStoppedRolloutAreDiscarded(t *testing.T) {
	e := newEnv(t, waves)
	e.b.Preparing = true
	release := make(chan struct{})
	e.b.ApplyHook = func(ctx context.Context, step plan.Step, a deploy.StackApply) error {
		if step.Region == "us-east-1" && a.Kind == naming.App {
			<-release
			return errors.New("boom")
		}
		return nil
	}
	go func() {
		// Fail wave 1 once wave 2 has been prepared.
		for {
			if len(e.b.CallsOf("prepare")) == 2 {
				close(release)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	res := e.run("v1", e.plan("prod"))
	if st := statuses(res); st["prod/eu-central-1"] != "pending" || st["prod/us-east-1"] != "failed" {
		t.Fatalf("statuses %v", st)
	}
	var discarded int
	for _, c := range e.b.CallsOf("discard") {
		discarded += c.Prepared
	}
	if discarded != 2 {
		t.Errorf("discarded %d prepared change sets, want wave 2's 2", discarded)
	}
	for _, c := range appliesOf(e.b, "prod") {
		if c.Region == "eu-central-1" || c.Region == "ap-southeast-2" {
			t.Errorf("stopped rollout applied %s", c.Region)
		}
	}
}

// A region whose gate is closed, or that the halt flag would stop, is not
// prepared ahead: a held region sees no change set.
func TestClosedOrHaltedRegionsAreNotPrepared(t *testing.T) {
	e := newEnv(t, waves)
	e.b.Preparing = true
	e.gate.CheckFunc = func(req rollout.GateRequest) (rollout.Decision, error) {
		return rollout.Decision{Open: req.Region != "eu-central-1", Reason: "test"}, nil
	}
	e.gate.HaltFunc = func(req rollout.GateRequest) (bool, string, error) {
		return req.Wave >= 3, "wave 3 frozen", nil
	}
	e.run("v1", e.plan("prod"))
	for _, c := range e.b.CallsOf("prepare") {
		if c.Region != "ap-southeast-2" {
			t.Errorf("prepared %s, whose flags hold it", c.Region)
		}
	}
	if len(e.b.CallsOf("prepare")) == 0 {
		t.Error("ap-southeast-2, open, was not prepared")
	}
}
