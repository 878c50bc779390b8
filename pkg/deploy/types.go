package deploy

import (
	"context"
	"slices"
	"time"

	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// TagHash is the stack tag holding the template hash (see Hash). The other
// tags gantry sets are render.TagService, TagStage, TagTeam and TagVersion.
const TagHash = "gantry:hash"

// Rollout record statuses (RolloutRecord.Status).
const (
	RolloutRunning   = "running"
	RolloutHeld      = "held"
	RolloutFailed    = "failed"
	RolloutSucceeded = "succeeded"
)

// Backend reaches the AWS accounts and regions a rollout deploys to. The
// engine calls Region concurrently for the regions of a wave.
type Backend interface {
	// Records returns the stage's records in its state table: the lock's
	// holder and the latest rollout (what status and unlock read).
	Records(ctx context.Context, st plan.Stage) (Records, error)
	// Lock takes the stage's rollout lock (the state table in the stage's
	// account, in st.StateRegion) for rolloutID. When another rollout holds
	// it, the error says who and until when.
	Lock(ctx context.Context, st plan.Stage, rolloutID, version string) (Lock, error)
	// Region returns a handle on one (stage, region): the stage's account
	// (assuming its deploy role) in step.Region.
	Region(ctx context.Context, step plan.Step) (Region, error)
}

// InterruptionChecker is a Backend that can tell a stage whose latest
// rollout record still says running although no live lock holds it: a
// rollout that died (killed, crashed) before its last record. The engine
// then reruns such a stage under its lock even when every region is
// unchanged, so that the record ends and gantry status stops asking for a
// resume.
type InterruptionChecker interface {
	Interrupted(ctx context.Context, st plan.Stage) (bool, error)
}

// Lock is a held stage lock; while held it keeps itself alive (heartbeat)
// and is where the stage's journal and rollout record are written. The
// engine serialises its calls to Journal and SaveRollout, in journal order.
type Lock interface {
	// Release gives the lock up; called once, also when the rollout fails
	// or is held, with a context that is not cancelled.
	Release(ctx context.Context) error
	// Journal appends one entry to the rollout's journal.
	Journal(ctx context.Context, e JournalEntry) error
	// SaveRollout writes the rollout's current record (what `gantry
	// status` shows).
	SaveRollout(ctx context.Context, r RolloutRecord) error
}

// Region is one (stage, region) of a rollout. Each region's handle is used
// by one goroutine at a time, but handles of a wave are used in parallel.
type Region interface {
	// Current describes the app stack: one DescribeStacks call.
	Current(ctx context.Context) (Current, error)
	// Describe describes the region's stack of kind (the data stack, say).
	Describe(ctx context.Context, kind naming.StackKind) (Current, error)
	// Apply brings one stack to a.Template and a.Parameters with a.Tags:
	// change set; an empty one is deleted and reported as ActionUnchanged
	// (the tags are still brought up to date); stateful replacements or
	// deletions refused unless a.AllowDataLoss; execute; wait, streaming
	// stack events to obs. On failure the returned outcome says as much as
	// is known (final status, changes) beside the error.
	Apply(ctx context.Context, a StackApply, obs StackObserver) (StackOutcome, error)
	// AlarmsInAlarm returns which of the named CloudWatch alarms (metric
	// or composite) are in ALARM now. A named alarm that does not exist is
	// never a healthy one: the error is then a *MissingAlarmsError.
	AlarmsInAlarm(ctx context.Context, names []string) ([]string, error)
	// MissingAlarms returns which of the named alarms do not exist.
	MissingAlarms(ctx context.Context, names []string) ([]string, error)
	// SaveDeployment records the exact templates and parameters deployed.
	SaveDeployment(ctx context.Context, d Deployment) error
	// Previous returns the latest recorded deployment of a version other
	// than notVersion, or nil when there is none.
	Previous(ctx context.Context, notVersion string) (*Deployment, error)
	// MarkBaked records that d's bake finished at at.
	MarkBaked(ctx context.Context, d Deployment, at time.Time) error
	// Deployment returns the latest recorded deployment of version, or nil
	// when that version was never deployed here.
	Deployment(ctx context.Context, version string) (*Deployment, error)
	// Deployments lists the recorded deployments, newest first, without
	// their templates; a version deployed several times is there each time.
	Deployments(ctx context.Context) ([]DeploymentSummary, error)
	// Preview makes the change set Apply would make for a (the same
	// parameters, listener priority and data-loss judgement), reads it and
	// deletes it, with the empty stack a change set for a new stack leaves:
	// what a deploy would do, changing nothing.
	Preview(ctx context.Context, a StackApply) (StackPreview, error)
}

// StackObserver receives the events of a stack operation.
type StackObserver interface {
	StackEvent(e rollout.StackEvent)
}

// Current is what the app stack says about itself.
type Current struct {
	Exists bool
	// Status is the stack's status, e.g. UPDATE_COMPLETE.
	Status string
	// Version and Hash are the stack's gantry:version and gantry:hash tags.
	Version string
	Hash    string
	// Updated is when the stack last changed (zero when unknown).
	Updated time.Time
	// Parameters, Tags and Outputs are the stack's, when the backend reads
	// them (a canary's split lives in its parameters and tags; see Split).
	Parameters map[string]string
	Tags       map[string]string
	Outputs    map[string]string
}

// Complete reports whether the stack is in a state a rerun may skip:
// CREATE_COMPLETE or UPDATE_COMPLETE.
func (c Current) Complete() bool {
	return c.Exists && (c.Status == "CREATE_COMPLETE" || c.Status == "UPDATE_COMPLETE")
}

// StackApply is one stack to deploy.
type StackApply struct {
	Name string
	Kind naming.StackKind
	// Template is the template body (render's JSON encoding).
	Template []byte
	// Parameters are the values to pass; every other parameter keeps its
	// default. For a web app stack the backend adds ListenerRulePriority.
	Parameters map[string]string
	// Tags are the stack tags to set.
	Tags map[string]string
	// AllowDataLoss is what a change set may replace or delete of the
	// stateful resources (--allow-data-loss).
	AllowDataLoss DataLossConsent
	// Protect asks for termination protection and the stack policy that
	// denies replacing or deleting stateful resources (the data stack).
	Protect bool
}

// StackOutcome is what Apply did.
type StackOutcome struct {
	Name string
	Kind naming.StackKind
	// Action is ActionCreate, ActionUpdate or ActionUnchanged.
	Action string
	// Status is the stack's status afterwards.
	Status string
	// Changes is the number of resource changes in the change set.
	Changes int
	// DataLoss are the stateful resources the change replaced or deleted
	// with the consent of AllowDataLoss: said loudly, journaled.
	DataLoss []DataLossChange
	// Parameters are the parameter values actually passed, including any
	// the backend added (ListenerRulePriority); nil means a.Parameters.
	Parameters map[string]string
}

// Deployment is the exact templates and parameters deployed to one (stage,
// region) for one version, kept so a bake restore or `gantry rollback` can
// redeploy them byte for byte.
type Deployment struct {
	Service    string
	Stage      string
	Region     string
	Version    string
	Hash       string // the app stack's gantry:hash
	DeployedAt time.Time
	RolloutID  string
	// BakedAt is when its bake finished; zero means it did not (it was
	// interrupted, halted, or is still running), so a rerun bakes it.
	BakedAt time.Time
	Stacks  []DeployedStack // in deploy order: data, then app
}

// DeployedStack is one stack of a Deployment.
type DeployedStack struct {
	Name       string
	Kind       naming.StackKind
	Template   []byte
	Parameters map[string]string
}

// JournalEntry is one line of a rollout's journal.
type JournalEntry struct {
	Time   time.Time
	Stage  string
	Region string // "" for a stage-wide entry
	Wave   int    // 0 for a stage-wide entry
	// Step is lock, start, check, gate, halt, data, app, release, bake,
	// restore, done or stage.
	Step    string
	Status  string
	Message string
	Attrs   map[string]string
}

// RolloutRecord is a stage's rollout as `gantry status` shows it.
type RolloutRecord struct {
	RolloutID string
	Service   string
	Stage     string
	Version   string
	// Status is RolloutRunning, RolloutHeld, RolloutFailed or RolloutSucceeded.
	Status    string
	StartedAt time.Time
	UpdatedAt time.Time
	// Regions maps each region of the stage to its status so far.
	Regions map[string]rollout.Status
	// Reason says why the stage is held or failed.
	Reason string
	// RegionErrors says why a region is held, failed or rolled back.
	RegionErrors map[string]string
	// BakeOverride is the --bake given for this run, 0 when none.
	BakeOverride time.Duration
	// Owner is who ran it (user@host pid N), as the lock named them.
	Owner string
}

// Gate decides whether a region may start (the gate flag) and whether the
// rollout must stop (the halt flag). An error holds, failing closed.
type Gate interface {
	Check(ctx context.Context, req rollout.GateRequest) (rollout.Decision, error)
	// Halted reports whether the halt flag says stop, and why.
	Halted(ctx context.Context, req rollout.GateRequest) (bool, string, error)
}

// GateWatcher is an optional interface of a Gate whose flags can change
// (a reloaded flag file): Changed returns a channel closed at the next
// configuration change, so a --gate-wait reacts at once instead of at the
// next poll.
type GateWatcher interface {
	Changed() <-chan struct{}
}

// OpenGate is the gate of a descriptor that names no flags: always open,
// never halted.
type OpenGate struct{}

// Check implements Gate.
func (OpenGate) Check(context.Context, rollout.GateRequest) (rollout.Decision, error) {
	return rollout.Decision{Open: true, Reason: "no gate flag configured"}, nil
}

// Halted implements Gate.
func (OpenGate) Halted(context.Context, rollout.GateRequest) (bool, string, error) {
	return false, "", nil
}

// Approver approves stages marked `approval: true`.
type Approver interface {
	Approve(ctx context.Context, req ApprovalRequest) (bool, error)
}

// ApprovalRequest is what a stage's approval is asked about: the version,
// the account and regions, and (on demand: it makes the stage's change
// sets) what would change.
type ApprovalRequest struct {
	Stage   string
	Version string
	Account string
	Regions []string
	// Preview is the stage's plan: each region's change sets made, read
	// and deleted. Only a person being asked needs it.
	Preview func(ctx context.Context) (*Preview, error)
}

// ApproverFunc adapts a function to Approver.
type ApproverFunc func(ctx context.Context, req ApprovalRequest) (bool, error)

// Approve implements Approver.
func (f ApproverFunc) Approve(ctx context.Context, req ApprovalRequest) (bool, error) {
	return f(ctx, req)
}

// ApproveStages approves exactly the named stages (--approve STAGE).
func ApproveStages(stages ...string) Approver {
	return ApproverFunc(func(_ context.Context, req ApprovalRequest) (bool, error) {
		return slices.Contains(stages, req.Stage), nil
	})
}

// Clock tells the time and sleeps; tests use a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx is done.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
