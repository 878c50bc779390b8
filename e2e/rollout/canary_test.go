package rollout_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/e2e/proxy"
	"github.com/gantryhq/gantry/internal/emulatortest"
	"github.com/gantryhq/gantry/pkg/render"
)

// checkout is a web service whose one region runs a three-step canary with
// short step bakes, the halt flag, a weight flag and the error-rate compare
// alarm. (With latencyFactor too its app template passes CloudFormation's
// 51,200-byte inline limit, which needs the artifacts bucket upload; the
// latency alarm is deployed by the emulator's CanaryTest.)
const checkout = `schemaVersion: 1
service: checkout
team: payments-platform
image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout
compute: {cpu: 256, memory: 512, port: 8080, healthcheck: /healthz}
scaling: {min: 4, max: 8}
routing: {path: /checkout/*}
rollout:
  halt: checkout-halt
  canary:
    steps: [5, 25, 50]
    stepBake: 2s
    weightFlag: checkout-canary
    compare: {errorRateMargin: 1}
stages:
  - name: dev
    account: "123456789012"
    regions: [us-east-1]
`

const checkoutApp = "checkout-dev-app"

// canaryFlags is the flag file: halt off, the canary's weight flag at max.
func canaryFlags(max int) string {
	return `{"flags": {
  "checkout-halt": {"state": "ENABLED", "defaultVariant": "off", "variants": {"on": true, "off": false}},
  "checkout-canary": {"state": "ENABLED", "defaultVariant": "max", "variants": {"max": ` + strconv.Itoa(max) + `}}
}}`
}

// canaryWorld is a reset emulator whose checkout region runs 1.0.0,
// deployed whole (a first deploy has nothing to compare a canary with).
type canaryWorld struct {
	*env
	c           *cloud
	file, flags string
}

func newCanaryWorld(t *testing.T) *canaryWorld {
	t.Helper()
	e := newEnv(t)
	w := &canaryWorld{env: e, file: filepath.Join(e.tmp, "checkout.sd.yaml"), flags: filepath.Join(e.tmp, "flags.json")}
	if err := os.WriteFile(w.file, []byte(checkout), 0o644); err != nil {
		t.Fatal(err)
	}
	w.setFlag(100)
	e.bootstrap(w.file)
	w.c = newCloud(t)
	res, r := w.deploy(0, "1.0.0")
	if rr := res.Region(t, "dev", "us-east-1"); rr.Status != "deployed" || rr.Canary != nil || !strings.Contains(r.Stderr, "no version runs here yet") {
		t.Fatalf("first deploy: %+v\n%s", rr, r)
	}
	return w
}

func (w *canaryWorld) setFlag(max int) {
	w.t.Helper()
	// Written whole and renamed, as an editor saves: the watcher never
	// reads half a file.
	tmp := w.flags + ".tmp"
	if err := os.WriteFile(tmp, []byte(canaryFlags(max)), 0o644); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Rename(tmp, w.flags); err != nil {
		w.t.Fatal(err)
	}
}

func (w *canaryWorld) args(version string, extra ...string) []string {
	return append([]string{"deploy", w.file, "--version", version, "--output", "json", "--flags", "file:" + w.flags}, extra...)
}

func (w *canaryWorld) deploy(code int, version string, extra ...string) (*result, run) {
	w.t.Helper()
	r := w.mustRun(code, w.args(version, extra...)...)
	return parseResult(w.t, r), r
}

// split is the listener rule's weights and the canary's desired tasks, as
// elbv2 and ECS show them.
type split struct{ stable, canary, tasks int }

func (w *canaryWorld) split() split {
	w.t.Helper()
	app := w.c.mustStack(emulatortest.Account, "us-east-1", checkoutApp)
	cfg := w.c.cfg(emulatortest.Account, "us-east-1")
	rules, err := elbv2.NewFromConfig(cfg).DescribeRules(ctx(w.t), &elbv2.DescribeRulesInput{RuleArns: []string{app.Outputs["ListenerRuleArn"]}})
	if err != nil || len(rules.Rules) != 1 || len(rules.Rules[0].Actions) != 1 || rules.Rules[0].Actions[0].ForwardConfig == nil {
		w.t.Fatalf("the listener rule of %s: %v %+v", checkoutApp, err, rules)
	}
	var s split
	for _, g := range rules.Rules[0].Actions[0].ForwardConfig.TargetGroups {
		switch aws.ToString(g.TargetGroupArn) {
		case app.Outputs["StableTargetGroupArn"]:
			s.stable = int(aws.ToInt32(g.Weight))
		case app.Outputs["CanaryTargetGroupArn"]:
			s.canary = int(aws.ToInt32(g.Weight))
		}
	}
	svc, err := ecs.NewFromConfig(cfg).DescribeServices(ctx(w.t), &ecs.DescribeServicesInput{
		Cluster: aws.String(app.Outputs[render.OutputCluster]), Services: []string{app.Outputs["CanaryServiceArn"]}})
	if err != nil || len(svc.Services) != 1 {
		w.t.Fatalf("the canary service: %v", err)
	}
	s.tasks = int(svc.Services[0].DesiredCount)
	return s
}

// watchWeights records every distinct canary weight the listener rule
// shows until stop is called.
func (w *canaryWorld) watchWeights() (stop func() []int) {
	var (
		mu   sync.Mutex
		seen []int
		done = make(chan struct{})
		end  = make(chan struct{})
	)
	go func() {
		defer close(end)
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			app := w.c.stack(emulatortest.Account, "us-east-1", checkoutApp)
			if app == nil || app.Outputs["ListenerRuleArn"] == "" {
				continue
			}
			cfg := w.c.cfg(emulatortest.Account, "us-east-1")
			rules, err := elbv2.NewFromConfig(cfg).DescribeRules(ctx(w.t), &elbv2.DescribeRulesInput{RuleArns: []string{app.Outputs["ListenerRuleArn"]}})
			if err != nil || len(rules.Rules) != 1 || rules.Rules[0].Actions[0].ForwardConfig == nil {
				continue
			}
			for _, g := range rules.Rules[0].Actions[0].ForwardConfig.TargetGroups {
				if aws.ToString(g.TargetGroupArn) == app.Outputs["CanaryTargetGroupArn"] {
					mu.Lock()
					if n := int(aws.ToInt32(g.Weight)); len(seen) == 0 || seen[len(seen)-1] != n {
						seen = append(seen, n)
					}
					mu.Unlock()
				}
			}
		}
	}()
	return func() []int {
		close(done)
		<-end
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

func (w *canaryWorld) setAlarm(name string, state cwtypes.StateValue) {
	w.t.Helper()
	cw := cloudwatch.NewFromConfig(w.c.cfg(emulatortest.Account, "us-east-1"))
	if _, err := cw.SetAlarmState(ctx(w.t), &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: state, StateReason: aws.String("e2e")}); err != nil {
		w.t.Fatal(err)
	}
}

// TestCanaryPassesAndPromotes: every step's weight reaches the listener
// rule in order, the canary runs its share of tasks, and the promotion
// leaves the stable service on the new version with all the traffic; a
// rerun changes nothing.
func TestCanaryPassesAndPromotes(t *testing.T) {
	w := newCanaryWorld(t)
	stop := w.watchWeights()
	res, r := w.deploy(0, "2.0.0")
	seen := stop()
	rr := res.Region(t, "dev", "us-east-1")
	c := rr.Canary
	if rr.Status != "deployed" || c == nil || !c.Promoted || c.Step != 3 || c.Weight != 0 || c.StableVersion != "1.0.0" {
		t.Fatalf("%+v %+v\n%s", rr, c, r)
	}
	// 1.0.0's stack already has the canary's parts, at 0%; the first poll
	// may come after the first step.
	seen = slices.DeleteFunc(seen, func(n int) bool { return n == 0 })
	if want := []int{5, 25, 50}; !slices.Equal(seen, want) && !slices.Equal(seen, want[1:]) {
		t.Errorf("canary weights seen on the listener rule %v, want %v then 0", seen, want)
	}
	for _, line := range []string{"canary step 1 of 3: 5% of traffic on 2.0.0 (1 task), 95% on 1.0.0",
		"canary step 2 of 3: 25% of traffic on 2.0.0 (1 task)", "canary step 3 of 3: 50% of traffic on 2.0.0 (2 tasks)", "every canary step passed: promoting 2.0.0"} {
		if !strings.Contains(r.Stderr, line) {
			t.Errorf("stderr does not say %q\n%s", line, e2etest.Tail(r.Stderr, 30))
		}
	}
	if s := w.split(); s != (split{100, 0, 0}) {
		t.Errorf("after the promotion: %+v, want all traffic on stable and no canary task", s)
	}
	app := w.c.mustStack(emulatortest.Account, "us-east-1", checkoutApp)
	if app.Parameters["Version"] != "2.0.0" || app.Tags["gantry:version"] != "2.0.0" || app.Tags["gantry:canary-step"] != "" {
		t.Errorf("app stack after the promotion: %v %v", app.Parameters, app.Tags)
	}

	// A rerun of the finished canary rollout is unchanged: no call that
	// changes anything.
	w.proxy.ResetCounts()
	again, _ := w.deploy(0, "2.0.0")
	if rr := again.Region(t, "dev", "us-east-1"); rr.Status != "unchanged" || rr.Canary != nil {
		t.Errorf("rerun: %+v", rr)
	}
	if m := proxy.Mutating(w.proxy.Counts()); len(m) > 0 {
		t.Errorf("the rerun made mutating calls: %s", formatOps(m))
	}
}

// TestCanaryAbortedByAnAlarmAtStepTwo: an alarm in ALARM at step 2, while
// that step's stack update still runs, puts all traffic back on the stable
// service within 5 s, scales the canary to zero, restores the stable
// version and fails the rollout.
func TestCanaryAbortedByAnAlarmAtStepTwo(t *testing.T) {
	w := newCanaryWorld(t)
	// Stack operations take 4 s, as CloudFormation takes minutes: the rule
	// gives the canary its 25% while step 2's update still runs, and the
	// alarm fires then.
	w.proxy.SetStackDuration(4 * time.Second)
	p := w.start(w.args("2.0.0")...)
	p.WaitStderr(time.Minute, "canary step 1 of 3: 5% of traffic")
	deadline := time.Now().Add(time.Minute)
	for w.split().canary != 25 {
		if time.Now().After(deadline) {
			t.Fatal("step 2 never gave the canary 25%")
		}
		time.Sleep(20 * time.Millisecond)
	}
	fired := time.Now()
	w.setAlarm("checkout-dev-canary-5xx-margin", cwtypes.StateValueAlarm)
	for w.split().canary != 0 {
		if time.Since(fired) > 10*time.Second {
			t.Fatal("the canary still has traffic 10s after its alarm fired")
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(fired)
	t.Logf("alarm to canary weight 0: %s", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("the abort took %s from the alarm to weight 0, want at most 5s", took)
	}
	r := p.Wait()
	if r.Code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.Code, r)
	}
	rr := parseResult(t, r).Region(t, "dev", "us-east-1")
	if rr.Status != "rolled-back" || rr.Canary == nil || rr.Canary.Step != 2 || rr.Canary.Weight != 0 || rr.Canary.AbortSeconds == nil ||
		!strings.Contains(rr.Error, "alarm checkout-dev-canary-5xx-margin in ALARM at step 2 of 3 (25%)") || !strings.Contains(rr.Error, "traffic back on 1.0.0 in") {
		t.Errorf("%+v %+v", rr, rr.Canary)
	}
	if !strings.Contains(r.Stderr, "all traffic back on 1.0.0") || !strings.Contains(r.Stderr, "canary aborted during its step's update") {
		t.Errorf("stderr does not say the abort began during step 2's update and print its time\n%s", e2etest.Tail(r.Stderr, 20))
	}
	if s := w.split(); s != (split{100, 0, 0}) {
		t.Errorf("after the abort: %+v", s)
	}
	app := w.c.mustStack(emulatortest.Account, "us-east-1", checkoutApp)
	if app.Parameters["Version"] != "1.0.0" || app.Parameters["CanaryWeight"] != "0" || app.Tags["gantry:version"] != "1.0.0" {
		t.Errorf("the stack is not back in line on 1.0.0: %v %v", app.Parameters, app.Tags)
	}
}

// TestCanaryHeldByTheWeightFlag: a weight flag of 25 holds the canary at
// 25% before its 50% step, saying so, while the rollout waits; editing the
// flag file releases it and the canary promotes.
func TestCanaryHeldByTheWeightFlag(t *testing.T) {
	w := newCanaryWorld(t)
	w.setFlag(25)
	p := w.start(w.args("2.0.0", "--gate-wait", "3m")...)
	p.WaitStderr(time.Minute, "step 3 of 3 (50%) is above weight flag checkout-canary (25%")
	for range 3 {
		if s := w.split(); s.canary != 25 || s.stable != 75 {
			t.Fatalf("while held: %+v, want 75/25", s)
		}
		time.Sleep(500 * time.Millisecond)
	}
	w.setFlag(100)
	p.WaitStderr(30*time.Second, "weight flag checkout-canary allows 100%: step 3 of 3 goes on")
	r := p.Wait()
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r)
	}
	rr := parseResult(t, r).Region(t, "dev", "us-east-1")
	if rr.Canary == nil || !rr.Canary.Promoted {
		t.Fatalf("%+v", rr)
	}
	if s := w.split(); s != (split{100, 0, 0}) {
		t.Errorf("after the promotion: %+v", s)
	}
}

// TestCanaryKilledMidStepResumes: a rollout killed (kill -9) at step 2
// leaves the traffic split, which gantry status shows with the rollout in
// charge; once its lock is broken, the same command resumes at step 2.
func TestCanaryKilledMidStepResumes(t *testing.T) {
	w := newCanaryWorld(t)
	p := w.start(w.args("2.0.0")...)
	p.WaitStderr(time.Minute, "canary step 2 of 3: 25% of traffic")
	if r := p.Kill(); r.Code != -int(syscall.SIGKILL) {
		t.Fatalf("kill: exit %d", r.Code)
	}
	st := w.mustRun(0, "status", w.file, "--output", "json")
	var status struct {
		Stages []struct {
			Regions []struct {
				Canary *struct {
					Version, StableVersion, RolloutID string
					Weight, Step                      int
				} `json:"canary"`
			} `json:"regions"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(st.Stdout), &status); err != nil {
		t.Fatal(err)
	}
	sc := status.Stages[0].Regions[0].Canary
	if sc == nil || sc.Weight != 25 || sc.Step != 2 || sc.Version != "2.0.0" || sc.StableVersion != "1.0.0" || sc.RolloutID == "" {
		t.Fatalf("status of the split: %+v\n%s", sc, st.Stdout)
	}
	if s := w.split(); s.canary != 25 || s.tasks != 1 {
		t.Fatalf("after the kill: %+v", s)
	}
	w.mustRun(0, "unlock", w.file, "--stage", "dev", "--yes")
	res, r := w.deploy(0, "2.0.0")
	if !strings.Contains(r.Stderr, "resuming the canary at step 2 of 3 (25% on 2.0.0), where rollout "+sc.RolloutID+" stopped") {
		t.Errorf("the rerun does not say it resumes at step 2\n%s", e2etest.Tail(r.Stderr, 30))
	}
	c := res.Region(t, "dev", "us-east-1").Canary
	if c == nil || !c.Promoted || len(c.Changes) != 2 || c.Changes[0].Weight != 50 {
		t.Errorf("resumed canary %+v: want step 3 (50%%) then the promotion, step 2 not applied again", c)
	}
	if s := w.split(); s != (split{100, 0, 0}) {
		t.Errorf("after the resume: %+v", s)
	}
}

// TestCanarySplitLeftHeldIsCleanedByRollback: a canary held by its weight
// flag without --gate-wait leaves its region split (exit 3); status shows
// it and gantry rollback puts all traffic back on the stable version.
func TestCanarySplitLeftHeldIsCleanedByRollback(t *testing.T) {
	w := newCanaryWorld(t)
	w.setFlag(5)
	res, _ := w.deploy(3, "2.0.0")
	if rr := res.Region(t, "dev", "us-east-1"); rr.Status != "held" || rr.Canary == nil || rr.Canary.Weight != 5 {
		t.Fatalf("%+v", rr)
	}
	if s := w.split(); s.canary != 5 {
		t.Fatalf("held: %+v", s)
	}
	st := w.mustRun(0, "status", w.file)
	if !strings.Contains(st.Stdout, "traffic split: 5% on 2.0.0, canary step 1 of 3, 95% on 1.0.0") {
		t.Errorf("status text:\n%s", st.Stdout)
	}
	rb := w.mustRun(0, "rollback", w.file, "--stage", "dev", "--region", "us-east-1")
	if !strings.Contains(rb.Stderr+rb.Stdout, "is back on 1.0.0") {
		t.Errorf("rollback does not say it moved the traffic\n%s", rb)
	}
	if s := w.split(); s != (split{100, 0, 0}) {
		t.Errorf("after the rollback: %+v", s)
	}
	if st := w.mustRun(0, "status", w.file, "--output", "json"); strings.Contains(st.Stdout, `"canary"`) {
		t.Errorf("status still shows a split:\n%s", st.Stdout)
	}
}
