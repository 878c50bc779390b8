package rollout_test

import (
	"fmt"
	"maps"
	"strings"
	"syscall"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/e2e/proxy"
)

// small is a small web service with one bucket (named files2, so a test
// can rename it to files-2: same CloudFormation logical ID, a new bucket
// name), followed by the given stages block.
func small(service, stages string) string {
	return fmt.Sprintf(`schemaVersion: 1
service: %[1]s
team: e2e
description: gantry e2e service %[1]s
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/%[1]s
compute:
  cpu: 256
  memory: 512
  port: 8080
  healthcheck: /healthz
scaling:
  min: 1
  max: 2
  cpuTarget: 60
routing:
  path: /%[1]s/*
env:
  FILES_BUCKET: ${resources.files2.bucket}
resources:
  files2:
    type: s3
    versioning: true
stages:
%[2]s`, service, stages)
}

// TestAlarmDuringBakeRestores deploys v1, then v2 with the descriptor's
// 20 s bake, and sets one region's rendered 5xx alarm to ALARM while the
// wave bakes: that region goes back to v1's exact stacks (rolled-back),
// the other region of the wave bakes on and stays on v2, and the rollout
// exits 1.
func TestAlarmDuringBakeRestores(t *testing.T) {
	e := newEnv(t)
	file := e.writeDescriptor("baker", small("baker", `  - name: staging
    account: "444455556666"
    regions: [us-east-1, eu-west-1]
    bake: 20s
`))
	e.bootstrap(file)
	c := newCloud(t)
	e.deploy(0, file, "1.0.0", "--bake", "0s")
	v1 := map[string]*stackInfo{}
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		v1[r] = c.mustStack(stagingAccount, r, appStack("baker", "staging"))
	}
	alarm := "baker-staging-5xx"
	if st := c.alarmState(stagingAccount, "eu-west-1", alarm); st == "" {
		t.Fatalf("the rendered alarm %s does not exist in %s eu-west-1", alarm, stagingAccount)
	}

	p := e.start("deploy", file, "--version", "2.0.0", "--output", "json")
	p.WaitStderr(90*time.Second, "staging", "baking wave 1")
	if got := c.mustStack(stagingAccount, "eu-west-1", appStack("baker", "staging")).Tags["gantry:version"]; got != "2.0.0" {
		t.Fatalf("eu-west-1 runs %q while the wave bakes, want 2.0.0", got)
	}
	bakeStart := time.Now()
	c.setAlarm(stagingAccount, "eu-west-1", alarm, cwtypes.StateValueAlarm)
	if st := c.alarmState(stagingAccount, "eu-west-1", alarm); st != cwtypes.StateValueAlarm {
		t.Fatalf("alarm %s is %q after SetAlarmState ALARM", alarm, st)
	}
	r := p.Wait()
	t.Logf("deploy 2.0.0 with a 20s bake: exit %d in %s; the bake started %s before the end (alarms are read every 15s)",
		r.Code, r.Took.Round(time.Millisecond), time.Since(bakeStart).Round(time.Millisecond))
	if r.Code != 1 {
		t.Fatalf("want exit 1\n%s", r)
	}
	res := parseResult(t, r)
	if res.Result != "failed" {
		t.Errorf("result %q, want failed", res.Result)
	}
	wantStatuses(t, res, map[string]string{"staging/eu-west-1": "rolled-back", "staging/us-east-1": "deployed"})
	rolled := res.Region(t, "staging", "eu-west-1")
	if !strings.Contains(rolled.Error, alarm) || !strings.Contains(rolled.Error, "1.0.0") {
		t.Errorf("eu-west-1 error %q does not name the alarm and the restored version", rolled.Error)
	}
	if !strings.Contains(r.Stderr, alarm) {
		t.Errorf("stderr does not name the alarm\n%s", e2etest.Tail(r.Stderr, 30))
	}

	back := c.mustStack(stagingAccount, "eu-west-1", appStack("baker", "staging"))
	old := v1["eu-west-1"]
	if back.Tags["gantry:version"] != "1.0.0" || back.Parameters["Version"] != "1.0.0" {
		t.Errorf("eu-west-1 after the restore: tag gantry:version %q, Version parameter %q, want 1.0.0",
			back.Tags["gantry:version"], back.Parameters["Version"])
	}
	if back.Template != old.Template || !maps.Equal(back.Parameters, old.Parameters) || !maps.Equal(back.Tags, old.Tags) {
		t.Errorf("eu-west-1's app stack is not v1's again: template same %v, parameters %v (v1 %v), tags %v (v1 %v)",
			back.Template == old.Template, back.Parameters, old.Parameters, back.Tags, old.Tags)
	}
	if got := c.mustStack(stagingAccount, "us-east-1", appStack("baker", "staging")); got.Tags["gantry:version"] != "2.0.0" {
		t.Errorf("us-east-1 runs %q, want 2.0.0 (its alarms stayed OK)", got.Tags["gantry:version"])
	}
}

// TestKillAndResume kills gantry with SIGKILL in the middle of a rollout
// (stack operations take 4 s through the proxy), after the first wave's
// region has finished. The killed rollout's lock is still held, so a rerun
// fails at once naming the holder; gantry unlock breaks it; the next rerun
// completes without redeploying the region that was done.
func TestKillAndResume(t *testing.T) {
	e := newEnv(t)
	file := e.writeDescriptor("phoenix", small("phoenix", `  - name: staging
    account: "444455556666"
    waves:
      - regions: [us-east-1]
      - regions: [eu-west-1]
`))
	e.bootstrap(file)
	c := newCloud(t)
	e.proxy.SetStackDuration(4 * time.Second)

	p := e.start("deploy", file, "--version", "1.0.0", "--bake", "0s", "--output", "json")
	p.WaitStderr(2*time.Minute, "staging/us-east-1 (wave 1): deployed")
	p.WaitStderr(30*time.Second, "staging/eu-west-1 (wave 2): started")
	pid := p.Pid()
	killed := p.Kill()
	t.Logf("killed gantry (pid %d) after %s: %d", pid, killed.Took.Round(time.Millisecond), killed.Code)
	if strings.TrimSpace(killed.Stdout) != "" {
		t.Errorf("a killed gantry printed a result: %s", killed.Stdout)
	}
	if v := c.mustStack(stagingAccount, "us-east-1", appStack("phoenix", "staging")).Tags["gantry:version"]; v != "1.0.0" {
		t.Fatalf("us-east-1 runs %q after the kill, want 1.0.0 (it had finished)", v)
	}
	if s := c.stack(stagingAccount, "eu-west-1", appStack("phoenix", "staging")); s != nil && s.Tags["gantry:version"] == "1.0.0" {
		t.Fatalf("eu-west-1's app stack was done before the kill; the kill came too late to test a resume")
	}

	// The lease of the killed rollout is still there, naming it.
	store := c.store(stagingAccount, "us-east-1")
	lock, err := store.Lock(ctx(t), "phoenix", "staging")
	if err != nil {
		t.Fatal(err)
	}
	holder := fmt.Sprintf("pid %d", pid)
	if lock == nil || lock.Expired || !strings.Contains(lock.Owner, holder) {
		t.Fatalf("lock after the kill = %+v, want a live lease held by %q", lock, holder)
	}

	// A rerun is refused at once by the lock, naming the holder.
	e.proxy.ResetCounts()
	res, r := e.deploy(1, file, "1.0.0", "--bake", "0s")
	wantStatuses(t, res, map[string]string{"*": "failed"})
	for _, rr := range res.Regions {
		if !strings.Contains(rr.Error, holder) || !strings.Contains(rr.Error, "gantry unlock") {
			t.Errorf("%s: error %q does not name the holder (%s) and gantry unlock", rr.Key(), rr.Error, holder)
		}
	}
	t.Logf("the rerun is refused: %s", res.Regions[0].Error)
	if !strings.Contains(r.Stderr, holder) {
		t.Errorf("stderr does not name the holder %q\n%s", holder, e2etest.Tail(r.Stderr, 20))
	}
	if n := cfnMutating(e.proxy.Counts()); n != "" {
		t.Errorf("the refused rerun changed stacks: %s", n)
	}

	unlock(t, e, c, file, "phoenix", "staging", stagingAccount, "us-east-1")

	e.proxy.ResetCounts()
	res, _ = e.deploy(0, file, "1.0.0", "--bake", "0s")
	wantStatuses(t, res, map[string]string{"staging/us-east-1": "unchanged", "staging/eu-west-1": "deployed"})
	byRegion := e.proxy.CountsByRegion()
	// The stage's state table lives in us-east-1: its writes (journal,
	// lock, records, eu-west-1's bake) are not changes to the region.
	stateWrites := byRegion["us-east-1"]["dynamodb:PutItem"] + byRegion["us-east-1"]["dynamodb:DeleteItem"] + byRegion["us-east-1"]["dynamodb:UpdateItem"]
	if n := total(proxy.Mutating(byRegion["us-east-1"])) - stateWrites; n != 0 {
		t.Errorf("the resumed rollout mutated us-east-1 (done before the kill): %s", formatOps(proxy.Mutating(byRegion["us-east-1"])))
	}
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		if v := c.mustStack(stagingAccount, r, appStack("phoenix", "staging")).Tags["gantry:version"]; v != "1.0.0" {
			t.Errorf("%s runs %q, want 1.0.0", r, v)
		}
	}
	if lock, err := store.Lock(ctx(t), "phoenix", "staging"); err != nil || lock != nil {
		t.Errorf("lock after the resumed rollout = %+v (%v), want none", lock, err)
	}
}

// unlock breaks a stage's lock with gantry unlock FILE --stage S --yes.
func unlock(t *testing.T, e *env, c *cloud, file, service, stage, account, region string) {
	t.Helper()
	r := e.mustRun(0, "unlock", file, "--stage", stage, "--yes")
	t.Logf("gantry unlock: %s", strings.TrimSpace(r.Stdout+" "+r.Stderr))
	if lock, err := c.store(account, region).Lock(ctx(t), service, stage); err != nil || lock != nil {
		t.Fatalf("lock after gantry unlock = %+v (%v), want none", lock, err)
	}
}

// cfnMutating lists the CloudFormation calls that change stacks.
func cfnMutating(counts map[string]int) string {
	var out []string
	for op, n := range proxy.Mutating(counts) {
		if strings.HasPrefix(op, "cloudformation:") {
			out = append(out, fmt.Sprintf("%s=%d", op, n))
		}
	}
	return strings.Join(out, ", ")
}

// TestConcurrentRolloutRefused starts a second rollout of a stage while a
// first one (made slow by 5 s stack operations) holds its lock: the second
// is refused at once, naming the holder, without touching a stack; the
// first finishes.
func TestConcurrentRolloutRefused(t *testing.T) {
	e := newEnv(t)
	file := e.writeDescriptor("twin", small("twin", `  - name: staging
    account: "444455556666"
    regions: [us-east-1]
`))
	e.bootstrap(file)
	c := newCloud(t)
	e.proxy.SetStackDuration(5 * time.Second)

	first := e.start("deploy", file, "--version", "1.0.0", "--bake", "0s", "--output", "json")
	first.WaitStderr(time.Minute, "staging/us-east-1 (wave 1): deploying stack twin-staging-data")
	holder := fmt.Sprintf("pid %d", first.Pid())

	// The second rollout goes through a proxy of its own, so that its
	// calls are counted apart from the first's.
	second, _, url := newProxy(t)
	r := gantryAt(t, url, "deploy", file, "--version", "1.0.1", "--bake", "0s", "--output", "json")
	t.Logf("second rollout: exit %d in %s; its calls: %s", r.Code, r.Took.Round(time.Millisecond), formatOps(second.Counts()))
	if r.Code != 1 {
		t.Fatalf("the second rollout: want exit 1\n%s", r)
	}
	if r.Took > 10*time.Second {
		t.Errorf("the second rollout took %s to be refused; a lock refusal should be at once", r.Took)
	}
	res := parseResult(t, r)
	wantStatuses(t, res, map[string]string{"*": "failed"})
	rr := res.Region(t, "staging", "us-east-1")
	if !strings.Contains(rr.Error, holder) || !strings.Contains(rr.Error, "locked") {
		t.Errorf("refusal %q does not say the stage is locked by %s", rr.Error, holder)
	}
	// Before its lock a stage looks, read-only, whether it is already done
	// (one DescribeStacks); it must not touch a stack.
	counts := second.Counts()
	for op := range counts {
		if strings.HasPrefix(op, "cloudformation:") && op != "cloudformation:DescribeStacks" {
			t.Errorf("the refused rollout called %s", op)
		}
	}
	// Its only write is the conditional lock write that was refused.
	for op, n := range proxy.Mutating(counts) {
		if op != "dynamodb:PutItem" || n > 1 {
			t.Errorf("the refused rollout made mutating call %s x%d; want at most the one refused lock write", op, n)
		}
	}

	fr := first.Wait()
	if fr.Code != 0 {
		t.Fatalf("the first rollout: want exit 0\n%s", fr)
	}
	wantStatuses(t, parseResult(t, fr), map[string]string{"*": "deployed"})
	if v := c.mustStack(stagingAccount, "us-east-1", appStack("twin", "staging")).Tags["gantry:version"]; v != "1.0.0" {
		t.Errorf("the stack runs %q, want the first rollout's 1.0.0", v)
	}
}

// TestTerminatedBakeIsBakedOnTheRerun sends SIGTERM (what a cancelled CI
// job sends) during staging's bake: the run ends failed and the stage's
// record says so; the retried pipeline's rerun bakes staging again, whole,
// before prod starts (issue 16: a bake is never skipped).
func TestTerminatedBakeIsBakedOnTheRerun(t *testing.T) {
	e := newEnv(t)
	file := e.writeDescriptor("oven", small("oven", `  - name: staging
    account: "444455556666"
    regions: [us-east-1]
  - name: prod
    account: "777788889999"
    regions: [us-west-2]
`))
	e.bootstrap(file)
	const bake = "6s"
	p := e.start("deploy", file, "--version", "1.0.0", "--bake", bake, "--output", "json")
	p.WaitStderr(2*time.Minute, "baking wave 1")
	term := p.Signal(syscall.SIGTERM)
	if term.Code != 1 {
		t.Fatalf("SIGTERM during the bake: exit %d, want 1\n%s", term.Code, e2etest.Tail(term.Stderr, 20))
	}
	c := newCloud(t)
	if s := c.stack("777788889999", "us-west-2", appStack("oven", "prod")); s != nil {
		t.Fatalf("prod was deployed by the interrupted run: %s", s.Status)
	}
	ro, err := c.store("444455556666", "us-east-1").LatestRollout(ctx(t), "oven", "staging")
	if err != nil || ro == nil || ro.Status != "failed" {
		t.Fatalf("staging's rollout record after SIGTERM in its bake: %+v (%v), want failed", ro, err)
	}

	start := time.Now()
	res, r := e.deploy(0, file, "1.0.0", "--bake", bake)
	wantStatuses(t, res, map[string]string{"*": "deployed"})
	if rr := res.Region(t, "staging", "us-east-1"); !strings.Contains(rr.Error, "did not finish in an earlier run") {
		t.Errorf("staging on the rerun: %+v, want it baked again", rr)
	}
	// staging's bake, then prod's: two whole bakes.
	if took := time.Since(start); took < 12*time.Second {
		t.Errorf("the rerun took %s: staging's bake was skipped", took)
	}
	bakeAt := strings.Index(r.Stderr, "staging/us-east-1 (wave 1): deployed")
	prodAt := strings.Index(r.Stderr, "prod/us-west-2 (wave 1): started")
	if bakeAt < 0 || prodAt < 0 || prodAt < bakeAt {
		t.Errorf("prod started before staging's bake\n%s", e2etest.Tail(r.Stderr, 30))
	}
}

// TestMissingRolloutAlarmStops: an alarm of rollout.alarms that does not
// exist (a typo) stops the rollout before anything changes, naming it;
// plan says it is missing; once it exists the rollout goes (issue 16).
func TestMissingRolloutAlarmStops(t *testing.T) {
	e := newEnv(t)
	file := e.writeDescriptor("sentry", small("sentry", `  - name: dev
    account: "111122223333"
    regions: [us-east-1]
rollout:
  alarms: [sentry-p99-latency]
`))
	e.mustRun(0, "bootstrap", file) // the state table only: no stand-in alarm
	e.proxy.ResetCounts()
	r := e.mustRun(2, "deploy", file, "--version", "1.0.0", "--bake", "0s")
	if !strings.Contains(r.Stderr, "dev/us-east-1: alarm sentry-p99-latency does not exist") {
		t.Errorf("the refusal does not name the alarm and region\n%s", e2etest.Tail(r.Stderr, 10))
	}
	if n := cfnMutating(e.proxy.Counts()); n != "" {
		t.Errorf("a refused rollout changed stacks: %s", n)
	}
	plan := gantryAt(t, e.url, "plan", file, "--stage", "dev", "--version", "1.0.0")
	if !strings.Contains(plan.Stdout, "missing alarms: sentry-p99-latency") {
		t.Errorf("plan does not say the alarm is missing\n%s", plan)
	}
	e.bootstrap(file) // --demo-platform: the platform and the alarm's stand-in
	res, _ := e.deploy(0, file, "1.0.0", "--bake", "1s")
	wantStatuses(t, res, map[string]string{"*": "deployed"})
}

// TestCtrlCSaysWhatItWaitsFor: Ctrl-C during a stack update says at once
// which update it cancels and that a second Ctrl-C stops waiting; the run
// then ends failed with the lock released. A second Ctrl-C right after
// the first ends the process at once, leaving the lock for gantry unlock
// (issue 16, item 7).
func TestCtrlCSaysWhatItWaitsFor(t *testing.T) {
	e := newEnv(t)
	file := e.writeDescriptor("brake", small("brake", `  - name: dev
    account: "111122223333"
    regions: [us-east-1]
`))
	e.bootstrap(file)
	e.deploy(0, file, "1.0.0", "--bake", "0s")
	e.proxy.SetStackDuration(4 * time.Second)

	p := e.start("deploy", file, "--version", "2.0.0", "--bake", "0s")
	p.WaitStderr(time.Minute, "deploying stack brake-dev-app")
	time.Sleep(500 * time.Millisecond)
	if err := syscall.Kill(p.Pid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.WaitStderr(10*time.Second, "interrupted: cancelling the update of brake-dev-app; waiting for CloudFormation to roll back — press Ctrl-C again to stop waiting and leave the lock for `gantry unlock`")
	r := p.Wait()
	if r.Code != 1 {
		t.Fatalf("after Ctrl-C: exit %d, want 1\n%s", r.Code, e2etest.Tail(r.Stderr, 20))
	}
	c := newCloud(t)
	if lock, err := c.store("111122223333", "us-east-1").Lock(ctx(t), "brake", "dev"); err != nil || lock != nil {
		t.Errorf("lock after one Ctrl-C: %+v (%v), want it released", lock, err)
	}

	p = e.start("deploy", file, "--version", "3.0.0", "--bake", "0s")
	p.WaitStderr(time.Minute, "deploying stack brake-dev-app")
	time.Sleep(500 * time.Millisecond)
	_ = syscall.Kill(p.Pid(), syscall.SIGINT)
	p.WaitStderr(10*time.Second, "interrupted: cancelling the update of brake-dev-app")
	start := time.Now()
	_ = syscall.Kill(p.Pid(), syscall.SIGINT)
	r = p.Wait()
	if r.Code != 130 || time.Since(start) > 3*time.Second || !strings.Contains(r.Stderr, "gantry unlock") {
		t.Fatalf("after a second Ctrl-C: exit %d in %s, want 130 at once naming gantry unlock\n%s", r.Code, time.Since(start), e2etest.Tail(r.Stderr, 10))
	}
	if lock, err := c.store("111122223333", "us-east-1").Lock(ctx(t), "brake", "dev"); err != nil || lock == nil {
		t.Errorf("lock after a second Ctrl-C: %+v (%v), want it left for gantry unlock", lock, err)
	}
}
