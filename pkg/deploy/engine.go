package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantryhq/gantry/internal/crash"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// Default poll intervals.
const (
	DefaultGatePoll = 10 * time.Second
	DefaultBakePoll = 15 * time.Second
)

// Engine runs rollouts. Only Backend is required.
type Engine struct {
	Backend Backend
	// Gate evaluates the gate and halt flags; nil is OpenGate.
	Gate Gate
	// Approver approves stages with `approval: true`; nil approves none.
	Approver Approver
	// Clock drives bake and gate polling; nil is SystemClock.
	Clock Clock
	// Render renders one (stage, region); nil is render.Render of the
	// request's descriptor.
	Render func(render.Target) ([]render.Stack, error)
	// Observer shows progress; nil discards it.
	Observer rollout.Observer
	// Logger gets structured logs of every decision; nil discards them.
	Logger *slog.Logger
	// ErrorText is how an error reads in a result a person sees (the AWS
	// SDK's chain shortened, say); the whole error goes to the debug log.
	// nil is err.Error().
	ErrorText func(error) string
	// GatePoll and BakePoll are the poll intervals of --gate-wait and of the
	// bake; zero means DefaultGatePoll and DefaultBakePoll.
	GatePoll time.Duration
	BakePoll time.Duration
	// CanaryPoll is how often a canary step reads its alarms and flags;
	// zero means DefaultCanaryPoll.
	CanaryPoll time.Duration
}

// Request is one rollout.
type Request struct {
	Descriptor *descriptor.Descriptor
	Plan       *plan.Plan
	// Version is the image tag to deploy.
	Version string
	// BakeOverride replaces every wave's bake time for this run (--bake).
	BakeOverride *time.Duration
	// GateWait is how long a closed gate is waited for (--gate-wait); 0
	// holds the region at once.
	GateWait time.Duration
	// AllowDataLoss is what change sets may replace or delete of the
	// stateful resources (--allow-data-loss): noted loudly for the run.
	AllowDataLoss DataLossConsent
	// RolloutID identifies the rollout in locks and the journal; "" makes one.
	RolloutID string
}

// Run executes the rollout. It returns an error, having touched nothing,
// when the request is invalid, a region cannot be rendered, or an alarm of
// rollout.alarms does not exist in a region (*MissingAlarmsError): a usage
// or input error, exit 2. Otherwise every outcome, failures included, is in
// the Result, whose ExitCode is 0, 1 or 3.
func (e *Engine) Run(ctx context.Context, req Request) (*rollout.Result, error) {
	r, err := e.newRun(req)
	if err != nil {
		return nil, err
	}
	if err := r.checkAlarms(ctx); err != nil {
		return nil, err
	}
	res := r.run(ctx)
	if p := r.crash(); p != nil {
		// The rollout stopped and cleaned up (lock, journal); the crash is
		// the command's error: a bug, never a verdict (exit 70).
		return res, p
	}
	return res, nil
}

type stopKind int

const (
	running stopKind = iota
	stopHeld
	stopFailed
	stopCanceled
)

// run is the state of one Run.
type run struct {
	e        *Engine
	req      Request
	d        *descriptor.Descriptor
	gate     Gate
	approver Approver
	clock    Clock
	obs      rollout.Observer
	log      *slog.Logger
	gatePoll time.Duration
	bakePoll time.Duration
	// canaryPoll is how often a canary step reads its alarms and flags.
	canaryPoll time.Duration
	id         string
	base       map[string]map[string]string // stage → base tags
	pre        map[key]*prepared

	mu         sync.Mutex
	inflight   map[rollout.Ref]string // region → the stack being applied
	crashed    *crash.Panic
	res        *rollout.Result
	index      map[key]int
	stop       stopKind
	stopReason string
	stopCh     chan struct{}
}

type key struct{ stage, region string }

// prepared is a region's rendered stacks, ready to deploy.
type prepared struct {
	stacks []DeployedStack
	hash   string
	alarms []string
}

func (e *Engine) newRun(req Request) (*run, error) {
	switch {
	case e.Backend == nil:
		return nil, errors.New("deploy: no backend")
	case req.Descriptor == nil:
		return nil, errors.New("deploy: no descriptor")
	case req.Plan == nil:
		return nil, errors.New("deploy: no plan")
	case req.Version == "":
		return nil, errors.New("deploy: no version given: pass --version")
	case req.Plan.Service != "" && req.Plan.Service != req.Descriptor.Service:
		return nil, fmt.Errorf("deploy: the plan is for %s, the descriptor for %s", req.Plan.Service, req.Descriptor.Service)
	case req.BakeOverride != nil && *req.BakeOverride < 0:
		return nil, fmt.Errorf("deploy: negative --bake %s", *req.BakeOverride)
	case req.GateWait < 0:
		return nil, fmt.Errorf("deploy: negative --gate-wait %s", req.GateWait)
	}
	r := &run{
		e: e, req: req, d: req.Descriptor,
		gate: e.Gate, approver: e.Approver, clock: e.clock(), obs: e.observer(), log: e.logger(),
		gatePoll: e.GatePoll, bakePoll: e.BakePoll,
		base: map[string]map[string]string{}, pre: map[key]*prepared{},
		index: map[key]int{}, stopCh: make(chan struct{}),
	}
	if r.gate == nil {
		r.gate = OpenGate{}
	}
	if r.approver == nil {
		r.approver = ApproveStages()
	}
	if r.gatePoll <= 0 {
		r.gatePoll = DefaultGatePoll
	}
	if r.bakePoll <= 0 {
		r.bakePoll = DefaultBakePoll
	}
	if r.canaryPoll = e.CanaryPoll; r.canaryPoll <= 0 {
		r.canaryPoll = DefaultCanaryPoll
	}
	r.id = req.RolloutID
	if r.id == "" {
		r.id = rollout.NewID(r.clock.Now())
	}
	r.log = r.log.With("service", r.d.Service, "version", req.Version, "rollout", r.id)

	r.res = &rollout.Result{Service: r.d.Service, Version: req.Version, RolloutID: r.id, Regions: []rollout.RegionResult{}}
	// Render every region first: a descriptor that cannot render stops the
	// rollout before any lock is taken or any stack touched.
	for _, st := range req.Plan.Stages {
		r.base[st.Name] = BaseTags(r.d, st.Name)
		alarms := r.alarmNames(st.Name)
		for _, step := range st.Steps() {
			pre, err := e.prepare(r.d, step, req.Version)
			if err != nil {
				return nil, err
			}
			pre.alarms = alarms
			k := key{step.Stage, step.Region}
			r.pre[k] = pre
			r.index[k] = len(r.res.Regions)
			r.res.Regions = append(r.res.Regions, rollout.RegionResult{Stage: step.Stage, Region: step.Region, Wave: step.Wave, Status: rollout.StatusPending})
		}
	}
	if req.BakeOverride != nil {
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("--bake %s replaces every wave's bake time for this run", *req.BakeOverride))
	}
	if req.AllowDataLoss.Any() {
		r.res.Notes = append(r.res.Notes, consentNote(req.AllowDataLoss))
	}
	return r, nil
}

// errorText is err as a result shows it; the whole chain is logged at
// debug level when it reads differently.
func (e *Engine) errorText(ctx context.Context, err error) string {
	if e.ErrorText == nil {
		return err.Error()
	}
	text := e.ErrorText(err)
	if text != err.Error() {
		e.logger().DebugContext(ctx, "error in full", "err", err.Error())
	}
	return text
}

// clock, observer and logger are the Engine's, or their defaults when nil
// (the system clock, no view, no log).
func (e *Engine) clock() Clock {
	if e.Clock == nil {
		return SystemClock{}
	}
	return e.Clock
}

func (e *Engine) observer() rollout.Observer {
	if e.Observer == nil {
		return rollout.Discard{}
	}
	return e.Observer
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// prepare renders, encodes and hashes one region's stacks for version.
func (e *Engine) prepare(d *descriptor.Descriptor, step plan.Step, version string) (*prepared, error) {
	t := render.Target{Stage: step.Stage, Region: step.Region, Account: step.Account, Version: version}
	var stacks []render.Stack
	var err error
	if e.Render != nil {
		stacks, err = e.Render(t)
	} else {
		stacks, err = render.Render(d, t)
	}
	if err == nil && len(stacks) == 0 {
		err = errors.New("no stacks")
	}
	var ds []DeployedStack
	if err == nil {
		ds, err = Encode(stacks)
	}
	if err != nil {
		return nil, fmt.Errorf("rendering %s/%s: %w", step.Stage, step.Region, err)
	}
	return &prepared{stacks: ds, hash: HashDeployed(ds)}, nil
}

// alarmNames are the alarms a stage's bake watches: the rendered 5xx,
// unhealthy-hosts and CPU alarms (CPU only for a worker) and the
// descriptor's rollout.alarms.
func (r *run) alarmNames(stage string) []string { return watchedAlarms(r.d, stage) }

// watchedAlarms are the alarms a stage's bakes watch: the service's, its
// scheduled jobs' failed-run alarms, and the descriptor's rollout.alarms.
func watchedAlarms(d *descriptor.Descriptor, stage string) []string {
	spec := d.SpecFor(stage)
	web := spec == nil || spec.Compute.Port != nil
	var out []string
	for _, kind := range naming.AlarmKinds(web) {
		out = append(out, naming.Alarm(d.Service, stage, kind))
	}
	if spec != nil {
		out = append(out, render.JobAlarms(d.Service, stage, spec)...)
	}
	for _, a := range d.Rollout.Alarms {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func (r *run) run(ctx context.Context) *rollout.Result {
	var refs []rollout.Ref
	for _, rr := range r.res.Regions {
		refs = append(refs, rr.Ref())
	}
	r.obs.RolloutStarted(rollout.Start{Service: r.d.Service, Version: r.req.Version, RolloutID: r.id, Regions: refs, Notes: r.res.Notes})
	// The observers show the notes with RolloutStarted.
	for _, n := range r.res.Notes {
		r.log.Warn(n)
	}
	r.log.Info("rollout started", "stages", len(r.req.Plan.Stages), "regions", len(refs))
	defer context.AfterFunc(ctx, r.interrupted)()
	for _, st := range r.req.Plan.Stages {
		if err := ctx.Err(); err != nil {
			r.halt(stopCanceled, "interrupted: "+err.Error())
		}
		if r.stopped() {
			break
		}
		r.stage(ctx, st)
	}
	res := r.result()
	r.log.Info("rollout finished", "result", res.Result, "summary", res.Summary())
	r.obs.RolloutDone(res)
	return res
}

// result is a copy of the result with its outcome.
func (r *run) result() *rollout.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := *r.res
	res.Regions = slices.Clone(r.res.Regions)
	var failed, held bool
	for _, rr := range res.Regions {
		switch rr.Status {
		case rollout.StatusFailed, rollout.StatusRolledBack:
			failed = true
		case rollout.StatusHeld:
			held = true
		}
	}
	switch {
	case failed || r.stop == stopFailed || r.stop == stopCanceled:
		res.Result = rollout.Failed
	case held || r.stop == stopHeld:
		res.Result = rollout.Held
	default:
		res.Result = rollout.Succeeded
	}
	return &res
}

// halt stops the rollout: no region starts after it. The first reason wins.
func (r *run) halt(kind stopKind, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != running {
		return
	}
	r.stop, r.stopReason = kind, reason
	close(r.stopCh)
	r.log.Warn("rollout stopping", "reason", reason)
}

func (r *run) stopped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stop != running
}

func (r *run) stopState() (stopKind, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stop, r.stopReason
}

// set records a region's status and returns a copy of its result.
func (r *run) set(ref rollout.Ref, status rollout.Status, stacks []rollout.StackResult, msg string) rollout.RegionResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	rr := &r.res.Regions[r.index[key{ref.Stage, ref.Region}]]
	rr.Status, rr.Stacks, rr.Error = status, stacks, msg
	out := *rr
	out.Stacks = slices.Clone(rr.Stacks)
	return out
}

func (r *run) get(ref rollout.Ref) rollout.RegionResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.res.Regions[r.index[key{ref.Stage, ref.Region}]]
	out.Stacks = slices.Clone(out.Stacks)
	return out
}

func refOf(s plan.Step) rollout.Ref {
	return rollout.Ref{Stage: s.Stage, Region: s.Region, Wave: s.Wave}
}

func (r *run) gateRequest(s plan.Step) rollout.GateRequest {
	return rollout.GateRequest{
		Service: r.d.Service, Team: r.d.Team, Stage: s.Stage, Region: s.Region,
		Account: s.Account, Version: r.req.Version, RolloutID: r.id, Wave: s.Wave,
	}
}

// unchanged reports whether a region's app stack already carries this
// version and template hash, complete.
func (r *run) unchanged(step plan.Step, cur Current) bool {
	pre := r.pre[key{step.Stage, step.Region}]
	return cur.Complete() && cur.Version == r.req.Version && cur.Hash == pre.hash
}

// recorded returns the region's latest recorded deployment when it is of
// this version and template hash, so that a restore or a rollback finds
// it; nil otherwise. Unreadable records count as missing.
func (r *run) recorded(ctx context.Context, reg Region, step plan.Step) *Deployment {
	d, err := reg.Previous(ctx, "") // no version is "": the latest of all
	if err != nil || d == nil || d.Version != r.req.Version || d.Hash != r.pre[key{step.Stage, step.Region}].hash {
		return nil
	}
	return d
}

func (r *run) unchangedStacks(step plan.Step, cur Current) []rollout.StackResult {
	var stacks []rollout.StackResult
	for _, s := range r.pre[key{step.Stage, step.Region}].stacks {
		sr := rollout.StackResult{Name: s.Name, Kind: string(s.Kind), Action: rollout.ActionUnchanged}
		if s.Kind == naming.App {
			sr.Status = cur.Status
		}
		stacks = append(stacks, sr)
	}
	return stacks
}

// alreadyDone reports a stage whose every region is unchanged without
// taking its lock, asking for approval or writing anything: an unchanged
// rerun is read-only, one describe call per region (and, in the stage's
// state table, its latest deployment record, and the stage's latest
// rollout record). It stops at the first region that needs work (or cannot
// be read); the normal path, under the lock, decides then.
func (r *run) alreadyDone(ctx context.Context, st plan.Stage) bool {
	steps := st.Steps()
	currents := make([]Current, len(steps))
	for i, step := range steps {
		reg, err := r.e.Backend.Region(ctx, step)
		if err != nil {
			return false
		}
		if currents[i], err = reg.Current(ctx); err != nil || !r.unchanged(step, currents[i]) {
			return false
		}
		// A region whose bake did not finish is not done: the normal path
		// bakes it again, under the lock.
		if d := r.recorded(ctx, reg, step); d == nil || d.BakedAt.IsZero() {
			return false
		}
	}
	if ic, ok := r.e.Backend.(InterruptionChecker); ok {
		if dead, err := ic.Interrupted(ctx, st); err != nil || dead {
			r.log.Info("stage unchanged, but its last rollout did not finish: taking the lock to close it", "stage", st.Name, "err", err)
			return false
		}
	}
	r.log.Info("stage unchanged: every region already runs this version", "stage", st.Name)
	for i, step := range steps {
		ref := refOf(step)
		r.obs.RegionStarted(ref)
		r.obs.RegionDone(ref, r.set(ref, rollout.StatusUnchanged, r.unchangedStacks(step, currents[i]), ""))
	}
	return true
}

// stage runs one stage: lock, approval, waves.
func (r *run) stage(ctx context.Context, st plan.Stage) {
	sref := rollout.Ref{Stage: st.Name}
	log := r.log.With("stage", st.Name)
	if r.alreadyDone(ctx, st) {
		return
	}
	lock, err := r.e.Backend.Lock(ctx, st, r.id, r.req.Version)
	if err != nil {
		reason := fmt.Sprintf("rollout lock of stage %s not taken: %v", st.Name, err)
		log.Error("lock refused", "err", err)
		r.obs.Message(sref, slog.LevelError, reason)
		r.stopStage(st, rollout.StatusFailed, stopFailed, reason)
		return
	}
	j := newJournal(lock, st.Name, r.clock, r.obs, log)
	defer r.endStage(ctx, st, lock, j, log)
	log.Info("lock taken", "stateRegion", st.StateRegion)
	j.entry(JournalEntry{Step: "lock", Status: "taken", Attrs: map[string]string{"version": r.req.Version}})
	j.saveRollout(r.record(st, j.started, RolloutRunning, ""))
	// Approval is asked under the lock, so that a stage held for it leaves
	// a held rollout record (gantry status shows it).
	if st.Approval && !r.approve(ctx, st, log) {
		return
	}
	r.waves(ctx, st, j)
}

// stopStage gives every region of a stage that never started the same
// status and reason, and stops the rollout.
func (r *run) stopStage(st plan.Stage, status rollout.Status, kind stopKind, reason string) {
	for _, s := range st.Steps() {
		r.obs.RegionDone(refOf(s), r.set(refOf(s), status, nil, reason))
	}
	r.halt(kind, reason)
}

// endStage writes the stage's last journal entry and rollout record and
// gives the lock up, even when ctx is done.
func (r *run) endStage(ctx context.Context, st plan.Stage, lock Lock, j *journal, log *slog.Logger) {
	bg, cancel := detached(ctx)
	defer cancel()
	status, reason := r.stageStatus(st)
	j.entry(JournalEntry{Step: "stage", Status: status, Message: reason})
	j.saveRollout(r.record(st, j.started, status, reason))
	j.close()
	if err := lock.Release(bg); err != nil {
		log.Warn("releasing the lock failed", "err", err)
		r.obs.Message(rollout.Ref{Stage: st.Name}, slog.LevelWarn, fmt.Sprintf("releasing the rollout lock failed (it expires on its own; `gantry unlock` breaks it): %v", err))
		return
	}
	log.Info("lock released")
}

// approve asks the Approver about a stage with approval: true; a stage not
// approved holds, and so does the rollout.
func (r *run) approve(ctx context.Context, st plan.Stage, log *slog.Logger) bool {
	ok, err := r.approver.Approve(ctx, r.approvalRequest(st))
	if ok && err == nil {
		r.obs.Message(rollout.Ref{Stage: st.Name}, slog.LevelInfo, "stage approved")
		return true
	}
	reason := fmt.Sprintf("stage %s needs approval: run again with --approve %s", st.Name, st.Name)
	if err != nil {
		reason = fmt.Sprintf("stage %s was not approved (%v): run again with --approve %s", st.Name, err, st.Name)
	}
	log.Warn("stage held", "reason", reason)
	r.obs.Message(rollout.Ref{Stage: st.Name}, slog.LevelWarn, reason)
	r.stopStage(st, rollout.StatusHeld, stopHeld, reason)
	return false
}

// approvalRequest describes a stage to whoever approves it.
func (r *run) approvalRequest(st plan.Stage) ApprovalRequest {
	req := ApprovalRequest{Stage: st.Name, Version: r.req.Version, Account: st.Account}
	for _, s := range st.Steps() {
		req.Regions = append(req.Regions, s.Region)
	}
	req.Preview = func(ctx context.Context) (*Preview, error) {
		return r.e.Preview(ctx, PreviewRequest{Descriptor: r.d, Plan: r.req.Plan, Stage: st.Name, Version: r.req.Version})
	}
	return req
}

// waves runs a stage's waves in order; each wave's change sets are made
// while the wave before it deploys.
func (r *run) waves(ctx context.Context, st plan.Stage, j *journal) {
	var next *ahead
	defer func() {
		next.stop()
		if d, ok := r.e.Backend.(PreparedDiscarder); ok {
			bg, cancel := detached(ctx)
			defer cancel()
			d.DiscardPrepared(bg)
		}
	}()
	for i, w := range st.Waves {
		if err := ctx.Err(); err != nil {
			r.halt(stopCanceled, "interrupted: "+err.Error())
		}
		if r.stopped() {
			return
		}
		next.wait()
		next = nil
		executing := newLatch(len(w.Steps))
		if i+1 < len(st.Waves) {
			next = r.prepareAhead(ctx, st.Waves[i+1], executing)
		}
		r.wave(ctx, j, st, w, executing)
	}
}

// stageStatus is the stage's rollout status from its regions.
func (r *run) stageStatus(st plan.Stage) (string, string) {
	kind, reason := r.stopState()
	if kind == stopCanceled {
		// An interrupted stage is not done, whatever its regions say: a
		// bake cut short leaves them deployed but not baked.
		return RolloutFailed, reason
	}
	var held, pending bool
	for _, s := range st.Steps() {
		switch r.get(refOf(s)).Status {
		case rollout.StatusFailed, rollout.StatusRolledBack:
			return RolloutFailed, reason
		case rollout.StatusHeld:
			held = true
		case rollout.StatusPending:
			pending = true
		}
	}
	switch {
	case held || kind == stopHeld:
		return RolloutHeld, reason
	case pending:
		return RolloutFailed, reason
	}
	return RolloutSucceeded, ""
}

// detached is a context for bookkeeping that must happen even when ctx is
// cancelled (releasing the lock, the last journal entries).
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// slots bounds how many regions of a wave deploy at once.
type slots chan struct{}

func (s slots) acquire(ctx context.Context, stop <-chan struct{}) bool {
	select {
	case s <- struct{}{}:
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}

func (s slots) release() { <-s }

// wave deploys a wave's regions, at most MaxParallel at once, then bakes.
func (r *run) wave(ctx context.Context, j *journal, st plan.Stage, w plan.Wave, executing *latch) {
	defer executing.open()
	r.log.Info("wave started", "stage", st.Name, "wave", w.Index, "regions", len(w.Steps), "maxParallel", w.Parallel())
	sem := make(slots, w.Parallel())
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		deployed []*inBake
	)
	for i, step := range w.Steps {
		if !sem.acquire(ctx, r.stopCh) {
			if err := ctx.Err(); err != nil {
				r.halt(stopCanceled, "interrupted: "+err.Error())
			}
			for _, s := range w.Steps[i:] {
				r.notStarted(ctx, j, s)
			}
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.guard(refOf(step))
			if b := r.region(ctx, j, step, sem, executing); b != nil {
				mu.Lock()
				deployed = append(deployed, b)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(deployed, func(a, b *inBake) int { return r.index[a.key()] - r.index[b.key()] })
	r.bake(ctx, j, st, w, deployed)
	for _, b := range deployed {
		if rr := r.get(b.ref); rr.Status == rollout.StatusDeployed {
			r.done(ctx, j, b.ref, rr)
		}
	}
	if !r.stopped() {
		for _, s := range w.Steps {
			if r.get(refOf(s)).Status == rollout.StatusHeld {
				r.halt(stopHeld, fmt.Sprintf("wave %d of stage %s has held regions", w.Index, st.Name))
				break
			}
		}
	}
}

// notStarted records a region the rollout stopped before: held when a hold
// (halt flag) stopped it, pending otherwise.
func (r *run) notStarted(ctx context.Context, j *journal, s plan.Step) {
	ref := refOf(s)
	kind, reason := r.stopState()
	if kind == stopHeld {
		rr := r.set(ref, rollout.StatusHeld, nil, reason)
		j.region(ref, "done", string(rollout.StatusHeld), reason, nil)
		r.obs.RegionDone(ref, rr)
		return
	}
	r.set(ref, rollout.StatusPending, nil, "")
}

// done reports a region's final result.
func (r *run) done(ctx context.Context, j *journal, ref rollout.Ref, rr rollout.RegionResult) {
	j.region(ref, "done", string(rr.Status), rr.Error, nil)
	r.log.Info("region done", "stage", ref.Stage, "region", ref.Region, "wave", ref.Wave, "status", rr.Status, "error", rr.Error)
	r.obs.RegionDone(ref, rr)
	if rr.Status != rollout.StatusUnchanged {
		// An unchanged region waits for the stage's last record: a rerun
		// of a finished rollout stays cheap.
		st, _ := r.req.Plan.Stage(ref.Stage)
		j.saveRollout(r.record(st, j.started, RolloutRunning, ""))
	}
}

// finish records and reports a region's final status.
func (r *run) finish(ctx context.Context, j *journal, ref rollout.Ref, status rollout.Status, stacks []rollout.StackResult, msg string) {
	r.done(ctx, j, ref, r.set(ref, status, stacks, msg))
}

// fail records a failed region and stops the rollout.
func (r *run) fail(ctx context.Context, j *journal, ref rollout.Ref, stacks []rollout.StackResult, err error) {
	msg := r.e.errorText(ctx, err)
	r.halt(stopFailed, ref.String()+": "+msg)
	r.obs.Message(ref, slog.LevelError, msg)
	r.finish(ctx, j, ref, rollout.StatusFailed, stacks, msg)
}

// joinNames is "a, b and c".
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// guard, deferred at the top of a rollout goroutine, turns a panic there
// into a stopped rollout: the region fails, nothing new starts, the
// stage's lock and journal are closed as after any failure, and Run
// returns the panic (the first one) as its error.
func (r *run) guard(ref rollout.Ref) {
	v := recover()
	if v == nil {
		return
	}
	p := crash.New(v)
	r.mu.Lock()
	if r.crashed == nil {
		r.crashed = p
	}
	r.mu.Unlock()
	r.log.Error("internal error", "panic", fmt.Sprint(p.Value), "stack", string(p.Stack))
	r.halt(stopFailed, p.Error())
	if ref.Region != "" {
		r.obs.RegionDone(ref, r.set(ref, rollout.StatusFailed, nil, p.Error()))
	}
}

func (r *run) crash() *crash.Panic {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.crashed
}

// applying marks a region's stack as being applied ("" when done), so an
// interruption can say what it waits for.
func (r *run) applying(ref rollout.Ref, stack string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight == nil {
		r.inflight = map[rollout.Ref]string{}
	}
	if stack == "" {
		delete(r.inflight, ref)
		return
	}
	r.inflight[ref] = stack
}

// interrupted says at once, on Ctrl-C or SIGTERM, what the rollout does
// now: stack operations in flight are cancelled and their rollback waited
// for (minutes on AWS), and how not to wait.
func (r *run) interrupted() {
	r.mu.Lock()
	inflight := maps.Clone(r.inflight)
	r.mu.Unlock()
	const again = "press Ctrl-C again to stop waiting and leave the lock for `gantry unlock`"
	if len(inflight) == 0 {
		r.obs.Message(rollout.Ref{}, slog.LevelWarn, "interrupted: no region starts now; regions in flight finish their step, then the lock is released — "+again)
		return
	}
	for _, ref := range slices.SortedFunc(maps.Keys(inflight), func(a, b rollout.Ref) int { return strings.Compare(a.String(), b.String()) }) {
		r.obs.Message(ref, slog.LevelWarn, fmt.Sprintf("interrupted: cancelling the update of %s; waiting for CloudFormation to roll back — %s", inflight[ref], again))
	}
}

// note adds a note to the result.
func (r *run) note(notes ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Notes = append(r.res.Notes, notes...)
}

// record is the stage's rollout record as it is now.
func (r *run) record(st plan.Stage, started time.Time, status, reason string) RolloutRecord {
	rec := RolloutRecord{
		RolloutID: r.id, Service: r.d.Service, Stage: st.Name, Version: r.req.Version,
		Status: status, StartedAt: started, UpdatedAt: r.clock.Now(), Regions: map[string]rollout.Status{}, Reason: reason,
	}
	if o := r.req.BakeOverride; o != nil {
		rec.BakeOverride = *o
	}
	for _, s := range st.Steps() {
		rr := r.get(refOf(s))
		rec.Regions[s.Region] = rr.Status
		if rr.Error != "" {
			if rec.RegionErrors == nil {
				rec.RegionErrors = map[string]string{}
			}
			rec.RegionErrors[s.Region] = rr.Error
		}
	}
	return rec
}
