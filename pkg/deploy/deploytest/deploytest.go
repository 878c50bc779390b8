// Package deploytest holds in-memory fakes of what the deploy engine talks
// to — a Backend whose regions keep stacks, tags and deployments in memory,
// a Gate, and a Clock whose Sleep returns at once after moving time on — so
// the engine and the commands built on it are tested without AWS and
// without sleeping.
package deploytest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// Clock is a fake deploy.Clock: Sleep moves the time on by d and returns at
// once (unless ctx is done). Time starts at 2025-01-01T00:00:00Z.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// NewClock returns a fake clock.
func NewClock() *Clock { return &Clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

// Now implements deploy.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep implements deploy.Clock.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	runtime.Gosched()
	return ctx.Err()
}

// Advance moves the time on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleeps returns every Sleep's duration so far.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// Call is one recorded backend call.
type Call struct {
	Op      string // lock, release, region, current, prepare, apply, alarms, save, previous, discard, records, break, journal, preview, release-task (Stack: the job)
	Stage   string
	Region  string
	Stack   string // apply: the stack name
	Version string // apply: the app stack's gantry:version tag; save: the version
	// Prepared: an apply that used a change set prepared ahead; a discard
	// of that many prepared change sets.
	Prepared int
	// RolloutID: the rollout whose journal a records' journal call wrote.
	RolloutID string
}

// Stack is a fake stack.
type Stack struct {
	Name       string
	Kind       naming.StackKind
	Status     string
	Template   []byte
	Parameters map[string]string
	Tags       map[string]string
	Protected  bool
	// Outputs are the stack's outputs (set by SetStack; Apply keeps them).
	Outputs map[string]string
	// Updated is when the stack last changed, by the backend's Clock.
	Updated time.Time
}

// Backend is an in-memory deploy.Backend. Its regions persist across runs,
// so a second Run sees what the first deployed. Set the hooks before a Run.
type Backend struct {
	// Service names the app stack Current reads: <service>-<stage>-app.
	Service string
	// LockErr, when it returns an error for a stage, refuses its lock.
	LockErr func(stage string) error
	// ApplyHook runs inside every Apply (counted as in flight) before the
	// stack changes; an error fails the Apply, leaving the stack rolled
	// back. It may block, e.g. on a channel.
	ApplyHook func(ctx context.Context, step plan.Step, a deploy.StackApply) error
	// Alarms returns which of names are in ALARM for a step's region; call
	// counts AlarmsInAlarm calls for that region, from 1.
	Alarms func(step plan.Step, names []string, call int) ([]string, error)
	// DataLoss returns the stateful resources an Apply of a would replace
	// or delete; those a.AllowDataLoss does not allow refuse the Apply.
	DataLoss func(step plan.Step, a deploy.StackApply) []deploy.DataLossChange
	// Missing returns which of names do not exist in a step's region; nil
	// means every alarm exists.
	Missing func(step plan.Step, names []string) []string
	// CurrentErr, when it returns an error, fails Current for the step.
	CurrentErr func(step plan.Step) error
	// RulePriority, when set, is added to web app stacks' parameters as
	// ListenerRulePriority, as the real backend does.
	RulePriority string
	// Preparing makes regions deploy.Preparers and the backend a
	// deploy.PreparedDiscarder.
	Preparing bool
	// RecordsErr, when it returns an error for a stage, fails Records
	// (deploy.ErrNoStateTable wrapped, say).
	RecordsErr func(stage string) error
	// PreviewErr, when it returns an error, fails Preview for the step.
	PreviewErr func(step plan.Step, a deploy.StackApply) error
	// Clock stamps stacks and locks; nil is the real clock.
	Clock deploy.Clock
	// Release runs a release task in a step's region (see release.go); nil
	// runs every one with exit code 0.
	Release func(ctx context.Context, step plan.Step, t deploy.ReleaseTask) (deploy.TaskOutcome, error)
	// RunJob runs a job once (gantry run) in a step's region; nil exits 0.
	RunJob func(ctx context.Context, step plan.Step, r deploy.JobRun) (deploy.TaskOutcome, error)
	// StableOnlyErr fails every direct abort (deploy.TrafficSwitch).
	StableOnlyErr error

	mu          sync.Mutex
	prepared    map[string]string // stage/region/stack → the version prepared
	regions     map[string]*Region
	locked      map[string]string // stage → rollout ID
	calls       []Call
	inflight    int
	maxInflight int
	journal     []deploy.JournalEntry
	rollouts    []deploy.RolloutRecord
	released    map[string]string // stage/region/version/job → rollout ID of its success
}

// NewBackend returns an empty backend for service.
func NewBackend(service string) *Backend {
	return &Backend{Service: service, regions: map[string]*Region{}, locked: map[string]string{}}
}

func (b *Backend) record(c Call) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, c)
}

// Calls returns every call so far, in order.
func (b *Backend) Calls() []Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

// CallsOf returns the calls of one kind.
func (b *Backend) CallsOf(op string) []Call {
	var out []Call
	for _, c := range b.Calls() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// MaxInflight is the most Apply calls that ran at the same time.
func (b *Backend) MaxInflight() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.maxInflight
}

// Inflight is how many Apply calls run now.
func (b *Backend) Inflight() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inflight
}

// Journal returns every journal entry written.
func (b *Backend) Journal() []deploy.JournalEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.journal)
}

// Rollouts returns every rollout record saved.
func (b *Backend) Rollouts() []deploy.RolloutRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.rollouts)
}

// Locked reports whether a stage's lock is held.
func (b *Backend) Locked(stage string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.locked[stage]
	return ok
}

// Lock implements deploy.Backend.
func (b *Backend) Lock(_ context.Context, st plan.Stage, rolloutID, version string) (deploy.Lock, error) {
	if b.LockErr != nil {
		if err := b.LockErr(st.Name); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if holder, ok := b.locked[st.Name]; ok {
		return nil, fmt.Errorf("stage %s is locked by rollout %s", st.Name, holder)
	}
	b.locked[st.Name] = rolloutID
	b.calls = append(b.calls, Call{Op: "lock", Stage: st.Name, Version: version})
	return &lock{b: b, stage: st.Name}, nil
}

type lock struct {
	b        *Backend
	stage    string
	released bool
}

func (l *lock) Release(context.Context) error {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	if l.released {
		return fmt.Errorf("lock of %s released twice", l.stage)
	}
	l.released = true
	delete(l.b.locked, l.stage)
	l.b.calls = append(l.b.calls, Call{Op: "release", Stage: l.stage})
	return nil
}

func (l *lock) Journal(_ context.Context, e deploy.JournalEntry) error {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	if l.released {
		return fmt.Errorf("journal written after release")
	}
	l.b.journal = append(l.b.journal, e)
	return nil
}

func (l *lock) SaveRollout(_ context.Context, r deploy.RolloutRecord) error {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	if l.released {
		return fmt.Errorf("rollout saved after release")
	}
	r.Regions = maps.Clone(r.Regions)
	l.b.rollouts = append(l.b.rollouts, r)
	return nil
}

// Region implements deploy.Backend.
func (b *Backend) Region(_ context.Context, step plan.Step) (deploy.Region, error) {
	b.record(Call{Op: "region", Stage: step.Stage, Region: step.Region})
	if b.Preparing {
		return preparingRegion{b.RegionOf(step)}, nil
	}
	return b.RegionOf(step), nil
}

// preparingRegion is a Region that is also a deploy.Preparer.
type preparingRegion struct{ *Region }

// Prepare implements deploy.Preparer: it remembers what was prepared; an
// Apply of the same stack and version takes it.
func (p preparingRegion) Prepare(_ context.Context, a deploy.StackApply) (bool, error) {
	r, b := p.Region, p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Op: "prepare", Stage: r.step.Stage, Region: r.step.Region, Stack: a.Name, Version: a.Tags[render.TagVersion]})
	if b.prepared == nil {
		b.prepared = map[string]string{}
	}
	b.prepared[r.step.Stage+"/"+r.step.Region+"/"+a.Name] = a.Tags[render.TagVersion]
	s := r.stacks[a.Name]
	return s != nil && bytes.Equal(s.Template, a.Template) && maps.Equal(s.Parameters, a.Parameters), nil
}

// DiscardPrepared implements deploy.PreparedDiscarder.
func (b *Backend) DiscardPrepared(context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Op: "discard", Prepared: len(b.prepared)})
	clear(b.prepared)
}

// RegionOf returns the fake region of a step, creating it.
func (b *Backend) RegionOf(step plan.Step) *Region {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := step.Stage + "/" + step.Region
	r := b.regions[k]
	if r == nil {
		r = &Region{b: b, step: step, stacks: map[string]*Stack{}}
		b.regions[k] = r
	}
	return r
}

// Region is a fake (stage, region).
type Region struct {
	b           *Backend
	step        plan.Step
	alarmCalls  int
	stacks      map[string]*Stack
	deployments []deploy.Deployment
	// stableOnly are the targets of every direct abort, in order.
	stableOnly []deploy.CanaryTargets
}

// Stack returns a copy of a stack, or nil.
func (r *Region) Stack(name string) *Stack {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	s := r.stacks[name]
	if s == nil {
		return nil
	}
	c := *s
	c.Tags, c.Parameters = maps.Clone(s.Tags), maps.Clone(s.Parameters)
	return &c
}

// SetStack puts a stack in place, as if deployed outside the engine.
func (r *Region) SetStack(s Stack) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.stacks[s.Name] = &s
}

// Recorded returns the recorded deployments, oldest first.
func (r *Region) Recorded() []deploy.Deployment {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return slices.Clone(r.deployments)
}

// Current implements deploy.Region.
func (r *Region) Current(context.Context) (deploy.Current, error) {
	r.b.record(Call{Op: "current", Stage: r.step.Stage, Region: r.step.Region})
	if r.b.CurrentErr != nil {
		if err := r.b.CurrentErr(r.step); err != nil {
			return deploy.Current{}, err
		}
	}
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	s := r.stacks[naming.Stack(r.b.Service, r.step.Stage, naming.App)]
	if s == nil {
		return deploy.Current{}, nil
	}
	return deploy.Current{Exists: true, Status: s.Status, Version: s.Tags[render.TagVersion], Hash: s.Tags[deploy.TagHash], Updated: s.Updated,
		Parameters: maps.Clone(s.Parameters), Tags: maps.Clone(s.Tags), Outputs: maps.Clone(s.Outputs)}, nil
}

// Apply implements deploy.Region.
func (r *Region) Apply(ctx context.Context, a deploy.StackApply, obs deploy.StackObserver) (deploy.StackOutcome, error) {
	b := r.b
	b.mu.Lock()
	call := Call{Op: "apply", Stage: r.step.Stage, Region: r.step.Region, Stack: a.Name, Version: a.Tags[render.TagVersion]}
	k := r.step.Stage + "/" + r.step.Region + "/" + a.Name
	if v, ok := b.prepared[k]; ok {
		delete(b.prepared, k)
		if v == call.Version {
			call.Prepared = 1
		}
	}
	b.calls = append(b.calls, call)
	b.inflight++
	b.maxInflight = max(b.maxInflight, b.inflight)
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.inflight--
		b.mu.Unlock()
	}()
	out := deploy.StackOutcome{Name: a.Name, Kind: a.Kind}
	params := maps.Clone(a.Parameters)
	if b.RulePriority != "" && a.Kind == naming.App {
		params["ListenerRulePriority"] = b.RulePriority
	}
	out.Parameters = params
	if b.ApplyHook != nil {
		if err := b.ApplyHook(ctx, r.step, a); err != nil {
			b.mu.Lock()
			defer b.mu.Unlock()
			out.Status = "ROLLBACK_COMPLETE"
			if s := r.stacks[a.Name]; s != nil {
				s.Status = "UPDATE_ROLLBACK_COMPLETE"
				out.Status = s.Status
			} else {
				r.stacks[a.Name] = &Stack{Name: a.Name, Kind: a.Kind, Status: out.Status}
			}
			out.Action, out.Changes = rollout.ActionUpdate, 1
			obs.StackEvent(rollout.StackEvent{Stack: a.Name, LogicalID: a.Name, Type: "AWS::CloudFormation::Stack", Status: out.Status, Reason: err.Error()})
			return out, err
		}
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	if b.DataLoss != nil {
		lossy := b.DataLoss(r.step, a)
		if err := deploy.RefuseDataLoss(a.Name, lossy, a.AllowDataLoss); err != nil {
			return out, err
		}
		out.DataLoss = lossy
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := r.stacks[a.Name]
	switch {
	case s != nil && (s.Status == "CREATE_COMPLETE" || s.Status == "UPDATE_COMPLETE") &&
		bytes.Equal(s.Template, a.Template) && maps.Equal(s.Parameters, params):
		out.Action, out.Status = rollout.ActionUnchanged, s.Status
		s.Tags = maps.Clone(a.Tags) // an empty change set still brings tags up to date
		return out, nil
	case s == nil || s.Status == "ROLLBACK_COMPLETE":
		out.Action, out.Status = rollout.ActionCreate, "CREATE_COMPLETE"
	default:
		out.Action, out.Status = rollout.ActionUpdate, "UPDATE_COMPLETE"
	}
	out.Changes = 1
	r.stacks[a.Name] = &Stack{
		Name: a.Name, Kind: a.Kind, Status: out.Status, Template: bytes.Clone(a.Template),
		Parameters: params, Tags: maps.Clone(a.Tags), Protected: a.Protect, Updated: b.now(), Outputs: outputs(a.Name, params),
	}
	obs.StackEvent(rollout.StackEvent{Stack: a.Name, LogicalID: a.Name, Type: "AWS::CloudFormation::Stack", Status: out.Status})
	return out, nil
}

// AlarmsInAlarm implements deploy.Region.
func (r *Region) AlarmsInAlarm(_ context.Context, names []string) ([]string, error) {
	r.b.mu.Lock()
	r.alarmCalls++
	call := r.alarmCalls
	r.b.calls = append(r.b.calls, Call{Op: "alarms", Stage: r.step.Stage, Region: r.step.Region})
	r.b.mu.Unlock()
	var firing []string
	var err error
	if r.b.Alarms != nil {
		firing, err = r.b.Alarms(r.step, names, call)
	}
	if err == nil && r.b.Missing != nil {
		if missing := r.b.Missing(r.step, names); len(missing) > 0 {
			err = &deploy.MissingAlarmsError{Names: missing}
		}
	}
	return firing, err
}

// MissingAlarms implements deploy.Region.
func (r *Region) MissingAlarms(_ context.Context, names []string) ([]string, error) {
	r.b.record(Call{Op: "missing-alarms", Stage: r.step.Stage, Region: r.step.Region})
	if r.b.Missing == nil {
		return nil, nil
	}
	return r.b.Missing(r.step, names), nil
}

// SaveDeployment implements deploy.Region.
func (r *Region) SaveDeployment(_ context.Context, d deploy.Deployment) error {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.b.calls = append(r.b.calls, Call{Op: "save", Stage: r.step.Stage, Region: r.step.Region, Version: d.Version})
	r.deployments = append(r.deployments, d)
	return nil
}

// Previous implements deploy.Region.
func (r *Region) Previous(_ context.Context, notVersion string) (*deploy.Deployment, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.b.calls = append(r.b.calls, Call{Op: "previous", Stage: r.step.Stage, Region: r.step.Region})
	for i := len(r.deployments) - 1; i >= 0; i-- {
		if d := r.deployments[i]; d.Version != notVersion {
			return &d, nil
		}
	}
	return nil, nil
}

// Gate is a fake deploy.Gate driven by functions; nil functions are open
// and not halted. It records every request.
type Gate struct {
	CheckFunc func(req rollout.GateRequest) (rollout.Decision, error)
	HaltFunc  func(req rollout.GateRequest) (bool, string, error)
	// WeightFunc answers a canary's weight flag; nil allows 100.
	WeightFunc func(flag string, req rollout.GateRequest) (int, string, error)

	mu      sync.Mutex
	checks  []rollout.GateRequest
	halts   []rollout.GateRequest
	weights []rollout.GateRequest
}

// Check implements deploy.Gate.
func (g *Gate) Check(_ context.Context, req rollout.GateRequest) (rollout.Decision, error) {
	g.mu.Lock()
	g.checks = append(g.checks, req)
	g.mu.Unlock()
	if g.CheckFunc == nil {
		return rollout.Decision{Open: true, Reason: "open"}, nil
	}
	return g.CheckFunc(req)
}

// Halted implements deploy.Gate.
func (g *Gate) Halted(_ context.Context, req rollout.GateRequest) (bool, string, error) {
	g.mu.Lock()
	g.halts = append(g.halts, req)
	g.mu.Unlock()
	if g.HaltFunc == nil {
		return false, "", nil
	}
	return g.HaltFunc(req)
}

// Checks returns every gate request so far.
func (g *Gate) Checks() []rollout.GateRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.checks)
}

// Halts returns every halt request so far.
func (g *Gate) Halts() []rollout.GateRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.halts)
}
