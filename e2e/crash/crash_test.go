package crash_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/state"
)

// The soak's knobs.
const (
	defaultTrials = 20
	shortTrials   = 5 // with -short
	trialsEnv     = "GANTRY_CRASH_TRIALS"
	seedEnv       = "GANTRY_CRASH_SEED"
	// stackOp is how long every stack operation takes (through the proxy),
	// so that kills land while stacks are busy.
	stackOp = 1500 * time.Millisecond
	// bake is each wave's bake (--bake), so that kills land in bakes too.
	bake = "1s"
	// firstWindow is a guess at how long the first rollouts take. After
	// two trials the window is the median time a trial's killed run and
	// rerun took together: about one whole rollout on this machine, as
	// loaded as it is. Kill delays are drawn uniformly from [0, window).
	firstWindow = 10 * time.Second
)

// service is the soak's descriptor: a worker with a bucket (so every
// region has a data stack and an app stack), two stages in two accounts,
// three regions in two waves. A worker's app stack is smaller than a web
// service's (no load balancer rule), which halves a rollout's time on the
// emulator and so the soak's.
const service = "phoenix"

const descriptorText = `schemaVersion: 1
service: phoenix
team: e2e
description: gantry crash-and-resume soak
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/phoenix
compute:
  cpu: 256
  memory: 512
scaling:
  min: 1
  max: 2
  cpuTarget: 60
env:
  FILES_BUCKET: ${resources.files.bucket}
resources:
  files:
    type: s3
    versioning: true
stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1]
  - name: staging
    account: "444455556666"
    regions: [eu-west-1, us-west-2]
`

// target is one region of the descriptor's plan.
type target struct{ stage, account, region string }

func (g target) String() string { return g.stage + "/" + g.region }

func (g target) stack(kind string) string { return service + "-" + g.stage + "-" + kind }

// targets are the descriptor's regions in plan order; a stage's first
// region holds its state table.
func targets() []target {
	return []target{
		{"dev", "111122223333", "us-east-1"},
		{"staging", "444455556666", "eu-west-1"},
		{"staging", "444455556666", "us-west-2"},
	}
}

// stageTargets are the first region of each stage.
func stageTargets() []target {
	var out []target
	for _, g := range targets() {
		if !slices.ContainsFunc(out, func(o target) bool { return o.stage == g.stage }) {
			out = append(out, g)
		}
	}
	return out
}

// soak is the world of the test: the reset emulator, the proxy with its
// counter in front, and the descriptor.
type soak struct {
	t     *testing.T
	run   e2etest.Runner
	file  string
	count *executes
	truth *cloud // straight at the emulator
	// dataUpdated is each region's data stack's last update time, as the
	// first trial left it.
	dataUpdated map[string]string
}

// row is one trial, for the table.
type row struct {
	trial, version   string
	delay, window    time.Duration
	killedTook       time.Duration
	killed           string // "killed" or "finished" (the run ended before the kill)
	phase, phaseKind string
	busy             []string      // stacks mid-operation at the kill
	sinceOp          time.Duration // from the latest stack operation to the kill
	locks            int           // stages left locked by the killed run
	rerunCode        int
	rerunTook        time.Duration
	rerun            string // the rerun's summary
	execKilled, exec int    // executes by the killed run, by the rerun
	maxPerStack      int    // most executes of one stack for this version
	detail           string // which stacks each run executed, the rerun's regions
}

func TestCrashAndResume(t *testing.T) {
	trials := defaultTrials
	if testing.Short() {
		trials = shortTrials
	}
	trials = envInt(t, trialsEnv, trials)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(seedEnv); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", seedEnv, v, err)
		}
	}
	t.Logf("crash and resume: %d trials, seed %d (%s=%d draws the same kill points), stack operations %s, bake %s",
		trials, seed, seedEnv, seed, stackOp, bake)
	rng := rand.New(rand.NewPCG(seed, seed))

	e2etest.Emu.Reset(t)
	p := e2etest.NewProxy(t)
	count := newExecutes(p)
	srv := httptest.NewServer(count)
	t.Cleanup(srv.Close)
	s := &soak{
		t:     t,
		run:   e2etest.Runner{Endpoint: srv.URL, Timeout: 3 * time.Minute, Tail: 40, SignalCodes: true},
		file:  filepath.Join(t.TempDir(), service+".sd.yaml"),
		count: count,
		truth: newCloud(t, e2etest.Emu.Endpoint),
	}
	if err := os.WriteFile(s.file, []byte(descriptorText), 0o644); err != nil {
		t.Fatal(err)
	}
	boot := s.run.MustRun(t, 0, "bootstrap", s.file, "--demo-platform")
	t.Logf("bootstrap: %s", boot.Took.Round(time.Millisecond))
	p.SetStackDuration(stackOp)

	start := time.Now()
	var rows []row
	defer func() {
		logTable(t, rows, seed, time.Since(start))
		s.logLeftovers()
	}()
	// The seed fixes where in the window each kill falls: one kill in each
	// of trials equal slices of the window, the slices in a random order,
	// so that the early moments (before the lock) get their share too.
	order := rng.Perm(trials)
	for i := range trials {
		w := window(rows)
		at := (float64(order[i]) + rng.Float64()) / float64(trials)
		r := s.trial(i, fmt.Sprintf("1.0.%d", i), time.Duration(at*float64(w)))
		r.window = w
		rows = append(rows, r)
		if t.Failed() {
			t.Logf("stopping after trial %d: it failed (rerun with %s=%d)", i, seedEnv, seed)
			return
		}
	}
}

// window is how long a whole rollout takes here: nine tenths of the
// median of what the killed run and the rerun of the trials so far took
// together (a rerun costs a start and a look at every stack more than
// the rest of the rollout would), from the third trial on (the first
// creates the stacks and takes longer).
func window(rows []row) time.Duration {
	if len(rows) < 3 {
		return firstWindow
	}
	var took []time.Duration
	for _, r := range rows[1:] {
		took = append(took, r.killedTook+r.rerunTook)
	}
	slices.Sort(took)
	return took[len(took)/2] * 9 / 10
}

// trial deploys version, kills gantry after delay, breaks the locks the
// dead rollout left and reruns the same command; then checks the rerun,
// the counts and the stacks.
func (s *soak) trial(i int, version string, delay time.Duration) row {
	t := s.t
	t.Helper()
	args := []string{"deploy", s.file, "--version", version, "--bake", bake, "--output", "json"}
	r := row{trial: strconv.Itoa(i), version: version, delay: delay}
	before, _ := s.count.snapshot()

	killed, killedAt := s.killAfter(delay, args...)
	r.killed, r.killedTook = "killed", killed.Took
	r.phaseKind, r.phase = phase(killed.Stderr)
	if killed.Code >= 0 {
		r.killed = "finished"
		if killed.Code != 0 {
			t.Errorf("trial %d: the run ended (exit %d) before its kill at %s\n%s", i, killed.Code, delay, killed)
		}
	}
	if !s.count.settle(time.Minute) {
		t.Fatalf("trial %d: requests of the killed gantry still unanswered a minute after the kill", i)
	}
	if !killedAt.IsZero() {
		r.busy, r.sinceOp = s.count.busyAt(killedAt, stackOp)
	}
	mid, _ := s.count.snapshot()

	// The dead rollout's lease would hold its stage for 5 minutes: break
	// the locks it left, as an operator would.
	for _, g := range stageTargets() {
		lock, err := s.truth.store(g.account, g.region).Lock(s.truth.ctx(), service, g.stage)
		if err != nil {
			t.Fatalf("trial %d: reading the lock of %s: %v", i, g.stage, err)
		}
		if lock == nil {
			continue
		}
		r.locks++
		if r.killed == "finished" {
			t.Errorf("trial %d: a rollout that finished left the lock of %s: %+v", i, g.stage, lock)
		}
		s.run.MustRun(t, 0, "unlock", s.file, "--stage", g.stage, "--yes")
	}
	rerun := s.run.Run(t, args...)
	r.rerunCode, r.rerunTook = rerun.Code, rerun.Took
	after, unknown := s.count.snapshot()
	if len(unknown) > 0 {
		t.Errorf("trial %d: change sets executed that no CreateChangeSet made: %v", i, unknown)
	}
	r.execKilled, r.exec = sum(diff(mid, before)), sum(diff(after, mid))
	r.detail = fmt.Sprintf("killed run executed %s; rerun executed %s", names(diff(mid, before)), names(diff(after, mid)))
	if rerun.Code != 0 {
		t.Errorf("trial %d (%s killed at %s, during %s): the rerun exited %d, want 0\n%s", i, version, delay, r.phase, rerun.Code, rerun)
		return r
	}
	res := e2etest.ParseResult(t, rerun)
	r.rerun = res.Summary()
	var regions []string
	for _, rr := range res.Regions {
		regions = append(regions, rr.Key()+" "+rr.Status)
	}
	r.detail += "; rerun regions: " + strings.Join(regions, ", ")
	if res.Result != "succeeded" {
		t.Errorf("trial %d: the rerun's result is %s, want succeeded\n%s", i, res.Summary(), rerun)
	}
	for _, rr := range res.Regions {
		if rr.Status != "deployed" && rr.Status != "unchanged" {
			t.Errorf("trial %d: the rerun left %s %s: %s", i, rr.Key(), rr.Status, rr.Error)
		}
	}
	r.maxPerStack = s.checkExecutes(i, version, after, diff(after, before))
	s.checkStacks(i, version)
	return r
}

// killAfter runs gantry and sends it SIGKILL after delay, unless it ended
// first (the kill time is then zero). A killed run's Code is minus the
// signal.
func (s *soak) killAfter(delay time.Duration, args ...string) (e2etest.Run, time.Time) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), s.run.Timeout)
	defer cancel()
	cmd := s.run.Command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting gantry: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	var (
		err      error
		killedAt time.Time
	)
	select {
	case err = <-done:
	case <-timer.C:
		// gantry starts no children: the process is all there is to kill.
		killedAt = time.Now()
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err = <-done
	}
	res := e2etest.Run{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start), Tail: s.run.Tail}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Code = -int(ws.Signal())
		}
	default:
		s.t.Fatalf("gantry %s: %v", strings.Join(args, " "), err)
	}
	return res, killedAt
}

// logLeftovers logs the change sets killed runs left unexecuted. They
// are harmless and not asserted on: executing a change set deletes the
// stack's others (on AWS and in the emulator), so only those of a stack
// not executed since can be left.
func (s *soak) logLeftovers() {
	var left []string
	for _, g := range targets() {
		for _, kind := range []string{"data", "app"} {
			if n := s.truth.pendingChangeSets(g.account, g.region, g.stack(kind)); n > 0 {
				left = append(left, fmt.Sprintf("%s %s: %d", g, kind, n))
			}
		}
	}
	s.t.Logf("change sets left unexecuted by killed runs: %d stacks with some %v", len(left), left)
}

// checkExecutes checks that, for this version, every app stack was
// executed exactly once across the killed run and the rerun, and every
// data stack once ever. It returns the most executes of one stack in the
// trial.
func (s *soak) checkExecutes(i int, version string, all, trial map[stackVersion]int) int {
	s.t.Helper()
	most := 0
	for sv, n := range trial {
		most = max(most, n)
		if sv.Version != version && sv.Version != "" {
			s.t.Errorf("trial %d (%s): %s %s executed %d time(s) for version %q", i, version, sv.Region, sv.Stack, n, sv.Version)
		}
	}
	for _, g := range targets() {
		app := stackVersion{Region: g.region, Stack: g.stack("app"), Version: version}
		if n := trial[app]; n != 1 {
			s.t.Errorf("trial %d: %s %s executed %d times for %s across the killed run and the rerun, want exactly 1", i, g, app.Stack, n, version)
		}
		data := stackVersion{Region: g.region, Stack: g.stack("data")}
		if n := all[data]; n != 1 {
			s.t.Errorf("trial %d: %s %s executed %d times since the first trial, want exactly 1 (its template never changes)", i, g, data.Stack, n)
		}
	}
	return most
}

// checkStacks checks, straight at the emulator, that every stack is
// complete, each app stack on the version (tag and deployment record) and
// each data stack as it was first made; and that no lock is left.
func (s *soak) checkStacks(i int, version string) {
	s.t.Helper()
	if s.dataUpdated == nil {
		s.dataUpdated = map[string]string{}
	}
	for _, g := range targets() {
		app := s.truth.stack(g.account, g.region, g.stack("app"))
		if !complete(app.Status) || app.Tags[render.TagVersion] != version {
			s.t.Errorf("trial %d: %s %s is %s on version %q, want *_COMPLETE on %s", i, g, app.Name, app.Status, app.Tags[render.TagVersion], version)
		}
		data := s.truth.stack(g.account, g.region, g.stack("data"))
		if !complete(data.Status) || !data.TerminationProtection {
			s.t.Errorf("trial %d: %s %s is %s (termination protection %t), want *_COMPLETE and protected", i, g, data.Name, data.Status, data.TerminationProtection)
		}
		if first, ok := s.dataUpdated[g.String()]; ok && first != data.LastUpdated.String() {
			s.t.Errorf("trial %d: %s %s was updated (last %s, after the first trial %s)", i, g, data.Name, data.LastUpdated, first)
		}
		s.dataUpdated[g.String()] = data.LastUpdated.String()
		st := stageTarget(g.stage)
		dep, err := s.truth.store(st.account, st.region).LatestDeployment(s.truth.ctx(), service, g.stage, g.region)
		if err != nil || dep == nil || dep.Version != version {
			s.t.Errorf("trial %d: %s's latest recorded deployment is %s (%v), want %s (a rollback or an alarm restore works from it)", i, g, depVersion(dep), err, version)
		} else if dep.BakedAt.IsZero() {
			// Whatever the kill interrupted, a bake included, the rerun
			// baked the region before it called the rollout done.
			s.t.Errorf("trial %d: %s's deployment of %s is not recorded as baked after the rerun", i, g, version)
		}
	}
	for _, g := range stageTargets() {
		store := s.truth.store(g.account, g.region)
		if lock, err := store.Lock(s.truth.ctx(), service, g.stage); err != nil || lock != nil {
			s.t.Errorf("trial %d: the lock of %s after the rerun: %+v (%v), want none", i, g.stage, lock, err)
		}
		// gantry status reads this record: a "running" one with no lock
		// says the rollout stopped and must be run again.
		ro, err := store.LatestRollout(s.truth.ctx(), service, g.stage)
		if err != nil || ro == nil || ro.Status != "succeeded" {
			s.t.Errorf("trial %d: the latest rollout record of %s after the rerun: %s (%v), want one that succeeded (gantry status shows it)", i, g.stage, rolloutText(ro), err)
		}
	}
}

func stageTarget(stage string) target {
	for _, g := range stageTargets() {
		if g.stage == stage {
			return g
		}
	}
	panic("no stage " + stage)
}

// rolloutText is a rollout record, for messages.
func rolloutText(ro *state.Rollout) string {
	if ro == nil {
		return "none"
	}
	return fmt.Sprintf("%s of %s, %s", ro.ID, ro.Version, ro.Status)
}

// depVersion is a recorded deployment's version, for messages.
func depVersion(d *state.Deployment) string {
	if d == nil {
		return "none"
	}
	return d.Version
}

// complete says whether a stack status is a finished, successful one.
func complete(status string) bool {
	return status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE"
}

// phase tells from the killed run's last progress line what it was
// doing: its kind (for the summary) and the line's gist.
func phase(stderr string) (kind, gist string) {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	_, msg, _ := strings.Cut(lines[len(lines)-1], " ") // the timestamp
	ref, what, ok := strings.Cut(msg, ": ")
	if !ok || ref == "WARNING" {
		// Nothing yet, or the rollout's first lines: reading the stacks,
		// taking the lock.
		return "starting (checks, lock)", "starting: checks, lock"
	}
	ref, _, _ = strings.Cut(ref, " (wave")
	what = strings.TrimPrefix(strings.TrimPrefix(what, "WARNING: "), "ERROR: ")
	f := strings.Fields(what)
	switch {
	case what == "started":
		return "region check", ref + " started"
	case strings.HasPrefix(what, "deploying stack "):
		return "change set", ref + " " + kindOf(what) + " change set"
	case strings.HasPrefix(what, service+"-") && strings.HasSuffix(what, "_IN_PROGRESS"):
		return "stack operation", ref + " " + kindOf(f[0]) + " " + f[len(f)-1]
	case strings.HasPrefix(what, service+"-"):
		return "stack settled", ref + " " + kindOf(f[0]) + " " + f[len(f)-1]
	case strings.HasPrefix(what, "baking wave"):
		return "bake", ref + " bake"
	case strings.HasPrefix(what, "deployed"), strings.HasPrefix(what, "unchanged"):
		return "recording", ref + " " + f[0] + ", recording"
	case strings.HasPrefix(ref, "rollout "):
		return "finished", ref
	}
	return "other", ref + " " + what
}

func kindOf(s string) string {
	if strings.Contains(s, "-data") {
		return "data"
	}
	return "app"
}

func diff(a, b map[stackVersion]int) map[stackVersion]int {
	out := map[stackVersion]int{}
	for k, v := range a {
		if d := v - b[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// names lists the stacks of counts as region/stack, with counts above 1.
func names(m map[stackVersion]int) string {
	var out []string
	for sv, n := range m {
		name := sv.Region + "/" + strings.TrimPrefix(sv.Stack, service+"-")
		if n != 1 {
			name += fmt.Sprintf(" x%d", n)
		}
		out = append(out, name)
	}
	slices.Sort(out)
	if len(out) == 0 {
		return "nothing"
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func sum(m map[stackVersion]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// logTable logs one line per trial and a summary.
func logTable(t *testing.T, rows []row, seed uint64, took time.Duration) {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "trial\tversion\tkill at / window\trun\tdoing at the kill (last line)\tbusy (last op)\tlocks\trerun exit\trerun took\trerun result\texecutes killed/rerun/max")
	phases := map[string]int{}
	busy, finished, unlocked := 0, 0, 0
	round := func(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }
	for _, r := range rows {
		last := "-"
		switch {
		case r.killed != "killed" || r.sinceOp == 0:
		case r.sinceOp < 0:
			last = "in flight"
		default:
			last = round(r.sinceOp) + " before"
		}
		fmt.Fprintf(w, "%s\t%s\t%s / %s\t%s\t%s\t%d (%s)\t%d\t%d\t%s\t%s\t%d/%d/%d\n",
			r.trial, r.version, round(r.delay), round(r.window), r.killed, r.phase, len(r.busy), last, r.locks,
			r.rerunCode, round(r.rerunTook), r.rerun, r.execKilled, r.exec, r.maxPerStack)
		phases[r.phaseKind]++
		if len(r.busy) > 0 {
			busy++
		}
		if r.killed == "finished" {
			finished++
		} else if r.locks == 0 {
			unlocked++
		}
	}
	_ = w.Flush()
	for _, r := range rows {
		fmt.Fprintf(&b, "trial %s: %s\n", r.trial, r.detail)
	}
	var ps []string
	for _, k := range slices.Sorted(maps.Keys(phases)) {
		ps = append(ps, fmt.Sprintf("%s %d", k, phases[k]))
	}
	ok := "all passed"
	if t.Failed() {
		ok = "FAILED"
	}
	fmt.Fprintf(&b, "summary: %d trials in %s, %s (seed %d); kills with a stack mid-operation: %d; with no lock held: %d; runs that finished before their kill: %d; kills by what the run was doing: %s",
		len(rows), took.Round(time.Second), ok, seed, busy, unlocked, finished, strings.Join(ps, ", "))
	t.Logf("crash and resume trials\n%s", b.String())
}
