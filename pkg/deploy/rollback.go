package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// RollbackRequest asks to put one region back on a recorded deployment.
type RollbackRequest struct {
	Descriptor *descriptor.Descriptor
	Plan       *plan.Plan
	Stage      string
	Region     string
	// To is the version to go back to; "" is the latest recorded
	// deployment of a version other than the one running now.
	To            string
	AllowDataLoss DataLossConsent
	// RolloutID identifies the rollback in the lock and journal; "" makes
	// one.
	RolloutID string
	// Confirm is asked under the stage's lock, once it is known what
	// changes; false or an error cancels with nothing changed. nil goes on.
	Confirm func(ctx context.Context, t RollbackTarget) (bool, error)
}

// RollbackTarget is what a rollback goes from and to.
type RollbackTarget struct {
	// Where is service/stage/region.
	Where   string
	Current Current
	To      *Deployment
}

// From names what the app stack runs now.
func (t RollbackTarget) From() string {
	switch {
	case !t.Current.Exists:
		return "nothing (no app stack)"
	case t.Current.Version == "":
		return "an untagged stack"
	}
	return t.Current.Version
}

// ErrRollbackCancelled is Rollback's error when Confirm said no.
var ErrRollbackCancelled = errors.New("rollback cancelled: nothing was changed")

// NotRecordedError is Rollback's error when there is no deployment to go
// back to; Recorded lists the recorded ones, newest first.
type NotRecordedError struct {
	Msg      string
	Where    string
	Account  string
	Recorded []DeploymentSummary
}

// maxListed bounds the versions the error lists.
const maxListed = 15

func (e *NotRecordedError) Error() string {
	if len(e.Recorded) == 0 {
		return fmt.Sprintf("%s; no deployment at all is recorded for %s in the state table of account %s", e.Msg, e.Where, e.Account)
	}
	seen := map[string]bool{}
	var lines []string
	more := 0
	for _, s := range e.Recorded {
		if seen[s.Version] {
			continue
		}
		seen[s.Version] = true
		if len(lines) == maxListed {
			more++
			continue
		}
		lines = append(lines, fmt.Sprintf("  %-20s last deployed %s", s.Version, s.DeployedAt.Format(time.RFC3339)))
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("  ... and %d older", more))
	}
	return fmt.Sprintf("%s; recorded versions, newest first:\n%s", e.Msg, strings.Join(lines, "\n"))
}

// Rollback redeploys a recorded deployment's exact templates in one
// (stage, region) under the stage's lock, journaled as a deploy is. It
// returns an error, having changed nothing, for an invalid request, a
// version not recorded (*NotRecordedError), a lock held by another
// rollout, or a cancelled confirmation; otherwise the Result says whether
// the restore succeeded.
func (e *Engine) Rollback(ctx context.Context, req RollbackRequest) (*rollout.Result, error) {
	rb, err := e.newRollback(req)
	if err != nil {
		return nil, err
	}
	reg, err := e.Backend.Region(ctx, rb.step)
	if err != nil {
		return nil, fmt.Errorf("reaching account %s in %s: %w", rb.step.Account, rb.step.Region, err)
	}
	t, err := rb.target(ctx, reg)
	if err != nil {
		return nil, err
	}
	res := &rollout.Result{Service: req.Descriptor.Service, Version: t.To.Version}
	if t.Current.Complete() && t.Current.Version == t.To.Version && t.Current.Hash == t.To.Hash {
		rb.obs.Message(rollout.Ref{}, slog.LevelInfo, fmt.Sprintf("%s already runs version %s, with the recorded templates: nothing to do", t.Where, t.To.Version))
		res.Result = rollout.Succeeded
		res.Regions = []rollout.RegionResult{{Stage: rb.ref.Stage, Region: rb.ref.Region, Wave: rb.ref.Wave, Status: rollout.StatusUnchanged}}
		return res, nil
	}
	lock, err := e.Backend.Lock(ctx, rb.st, rb.id, t.To.Version)
	if err != nil {
		return nil, fmt.Errorf("cannot roll back %s: %w", t.Where, err)
	}
	j := newJournal(lock, rb.st.Name, rb.clock, rb.obs, rb.log)
	defer rb.release(ctx, lock, j)
	if err := rb.confirm(ctx, reg, t); err != nil {
		return nil, err
	}
	res.RolloutID = rb.id
	rr := rb.restore(ctx, reg, t, j)
	res.Regions = []rollout.RegionResult{rr}
	res.Result = rollout.Succeeded
	if rr.Status == rollout.StatusFailed {
		res.Result = rollout.Failed
	}
	rb.obs.RegionDone(rb.ref, rr)
	rb.obs.RolloutDone(res)
	return res, nil
}

// rollback is the state of one Rollback.
type rollback struct {
	e     *Engine
	req   RollbackRequest
	st    plan.Stage
	step  plan.Step
	ref   rollout.Ref
	id    string
	clock Clock
	obs   rollout.Observer
	log   *slog.Logger
}

func (e *Engine) newRollback(req RollbackRequest) (*rollback, error) {
	if e.Backend == nil || req.Descriptor == nil || req.Plan == nil {
		return nil, errors.New("deploy: rollback needs a backend, a descriptor and a plan")
	}
	st, ok := req.Plan.Stage(req.Stage)
	if !ok {
		return nil, fmt.Errorf("deploy: stage %q is not in the plan", req.Stage)
	}
	rb := &rollback{e: e, req: req, st: st, clock: e.clock(), obs: e.observer(), log: e.logger(), id: req.RolloutID}
	found := false
	for _, s := range st.Steps() {
		if s.Region == req.Region {
			rb.step, found = s, true
		}
	}
	if !found {
		return nil, fmt.Errorf("deploy: stage %s does not deploy to %s", req.Stage, req.Region)
	}
	rb.ref = refOf(rb.step)
	if rb.id == "" {
		rb.id = rollout.NewID(rb.clock.Now())
	}
	return rb, nil
}

// target reads the app stack and finds the deployment to go back to: To's,
// or the latest of a version other than the one running now.
func (rb *rollback) target(ctx context.Context, reg Region) (RollbackTarget, error) {
	d := rb.req.Descriptor
	t := RollbackTarget{Where: d.Service + "/" + rb.step.Stage + "/" + rb.step.Region}
	var err error
	if t.Current, err = reg.Current(ctx); err != nil {
		return t, err
	}
	switch {
	case rb.req.To != "":
		if t.To, err = reg.Deployment(ctx, rb.req.To); err == nil && t.To == nil {
			err = rb.notRecorded(ctx, reg, t, fmt.Sprintf("version %s was never deployed to %s", rb.req.To, t.Where))
		}
	case !t.Current.Exists:
		err = rb.notRecorded(ctx, reg, t, fmt.Sprintf("%s has no app stack (%s), so there is no current version to go back from; name one with --to",
			t.Where, naming.Stack(d.Service, rb.step.Stage, naming.App)))
	default:
		if t.To, err = rb.before(ctx, reg, t.Current); err == nil && t.To == nil {
			err = rb.notRecorded(ctx, reg, t, fmt.Sprintf("no version was deployed to %s before the current one (%s): nothing to roll back to; name one with --to", t.Where, t.From()))
		}
	}
	return t, err
}

// before finds the deployment of the version deployed before the one
// running now, in the order the versions were first deployed: a rollback
// never goes forward to a version deployed after it, however often it is
// repeated. A restore records a deployment again under its original
// rollout, so the first record of each rollout is its deploy.
func (rb *rollback) before(ctx context.Context, reg Region, cur Current) (*Deployment, error) {
	list, err := reg.Deployments(ctx) // newest first
	if err != nil {
		return nil, err
	}
	var order []DeploymentSummary // oldest first, one per rollout
	seen := map[string]bool{}
	for _, d := range slices.Backward(list) {
		if !seen[d.RolloutID] {
			seen[d.RolloutID] = true
			order = append(order, d)
		}
	}
	at := -1
	for _, d := range list {
		if d.Version == cur.Version && d.Hash == cur.Hash {
			at = slices.IndexFunc(order, func(o DeploymentSummary) bool { return o.RolloutID == d.RolloutID })
			break
		}
	}
	if at < 0 {
		// Not deployed by gantry as it runs now: the latest other version.
		return reg.Previous(ctx, cur.Version)
	}
	for i := at - 1; i >= 0; i-- {
		if order[i].Version != cur.Version {
			return reg.Deployment(ctx, order[i].Version)
		}
	}
	return nil, nil
}

func (rb *rollback) notRecorded(ctx context.Context, reg Region, t RollbackTarget, msg string) error {
	list, err := reg.Deployments(ctx)
	if err != nil {
		return fmt.Errorf("%s (and listing the recorded versions failed: %w)", msg, err)
	}
	return &NotRecordedError{Msg: msg, Where: t.Where, Account: rb.step.Account, Recorded: list}
}

// confirm checks, under the lock, that the app stack is still what the
// rollback was decided on, then asks Confirm.
func (rb *rollback) confirm(ctx context.Context, reg Region, t RollbackTarget) error {
	now, err := reg.Current(ctx)
	if err != nil {
		return err
	}
	if now.Exists != t.Current.Exists || now.Version != t.Current.Version || now.Hash != t.Current.Hash {
		return fmt.Errorf("the app stack of %s changed (now %q) since the rollback was decided; nothing was done: run the rollback again", t.Where, now.Version)
	}
	if rb.req.Confirm == nil {
		return nil
	}
	ok, err := rb.req.Confirm(ctx, t)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRollbackCancelled, err)
	}
	if !ok {
		return ErrRollbackCancelled
	}
	return nil
}

// release ends the journal and gives the lock up, even when ctx is done.
func (rb *rollback) release(ctx context.Context, lock Lock, j *journal) {
	bg, cancel := detached(ctx)
	defer cancel()
	j.close()
	if err := lock.Release(bg); err != nil {
		rb.obs.Message(rollout.Ref{Stage: rb.st.Name}, slog.LevelWarn,
			fmt.Sprintf("releasing the rollout lock failed (it expires on its own; `gantry unlock` breaks it): %v", err))
	}
}

// restore journals and runs Restore, and gives the region's result.
func (rb *rollback) restore(ctx context.Context, reg Region, t RollbackTarget, j *journal) rollout.RegionResult {
	ref := rb.ref
	reason := fmt.Sprintf("rollback of %s from %s to %s", ref.Region, t.From(), t.To.Version)
	started := rb.clock.Now()
	record := func(status string, region rollout.Status, why string) {
		j.saveRollout(RolloutRecord{
			RolloutID: rb.id, Service: rb.req.Descriptor.Service, Stage: rb.st.Name, Version: t.To.Version, Status: status,
			StartedAt: started, UpdatedAt: rb.clock.Now(), Regions: map[string]rollout.Status{ref.Region: region}, Reason: why,
		})
	}
	j.entry(JournalEntry{Step: "lock", Status: "taken", Attrs: map[string]string{"version": t.To.Version, "command": "rollback"}})
	record(RolloutRunning, rollout.StatusPending, reason)
	rb.obs.Message(rollout.Ref{}, slog.LevelInfo, fmt.Sprintf("rolling back %s from %s to %s (recorded %s, rollout %s)",
		t.Where, t.From(), t.To.Version, t.To.DeployedAt.Format(time.RFC3339), rb.id))
	rb.obs.RegionStarted(ref)
	j.region(ref, "rollback", "started", fmt.Sprintf("from %s to %s", t.From(), t.To.Version), map[string]string{
		"fromVersion": t.Current.Version, "fromHash": t.Current.Hash, "version": t.To.Version, "hash": t.To.Hash,
		"recordedRollout": t.To.RolloutID, "allowDataLoss": rb.req.AllowDataLoss.String(),
	})
	if sp := SplitOf(t.Current); sp != nil {
		endSplit(ctx, reg, t.Current, sp, rb.obs, j, ref)
	}
	var running *Deployment
	if t.Current.Exists && t.Current.Version != "" {
		running, _ = reg.Deployment(ctx, t.Current.Version) // best effort: it only orders the stacks
	}
	outs, err := Restore(ctx, journaledRegion{Region: reg, ref: ref, obs: rb.obs, j: j}, t.To, RestoreOptions{
		Tags: BaseTags(rb.req.Descriptor, rb.st.Name), AllowDataLoss: rb.req.AllowDataLoss,
		Observer: stackObserver{rb.obs, ref, func() {}}, Now: rb.clock.Now(), Running: running,
	})
	rr := rollout.RegionResult{Stage: ref.Stage, Region: ref.Region, Wave: ref.Wave, Stacks: restoredStacks(outs)}
	if err != nil {
		rr.Status, rr.Error = rollout.StatusFailed, fmt.Sprintf("rolling back from %s to %s failed: %v", t.From(), t.To.Version, err)
		rb.obs.Message(ref, slog.LevelError, rr.Error)
		j.region(ref, "rollback", "failed", err.Error(), nil)
		record(RolloutFailed, rr.Status, rr.Error)
		j.entry(JournalEntry{Step: "stage", Status: RolloutFailed, Message: rr.Error})
		return rr
	}
	rr.Status, rr.Error = rollout.StatusRolledBack, fmt.Sprintf("rolled back from %s to %s", t.From(), t.To.Version)
	j.region(ref, "rollback", string(rollout.StatusRolledBack), rr.Error, map[string]string{"version": t.To.Version, "hash": t.To.Hash})
	record(RolloutSucceeded, rr.Status, "")
	j.entry(JournalEntry{Step: "stage", Status: RolloutSucceeded, Message: reason})
	return rr
}

// journaledRegion shows and journals each stack a restore applies.
type journaledRegion struct {
	Region
	ref rollout.Ref
	obs rollout.Observer
	j   *journal
}

func (r journaledRegion) Apply(ctx context.Context, a StackApply, so StackObserver) (StackOutcome, error) {
	step := rollout.StepApp
	if a.Kind == naming.Data {
		step = rollout.StepData
	}
	r.obs.StepChanged(r.ref, step, a.Name)
	r.j.region(r.ref, string(step), "started", a.Name, nil)
	out, err := r.Region.Apply(ctx, a, so)
	reportDataLoss(r.obs, r.j, r.ref, out.DataLoss)
	status, msg := out.Action, a.Name
	if err != nil {
		status, msg = "failed", err.Error()
	}
	r.j.region(r.ref, string(step), status, msg, map[string]string{"stack": a.Name, "stackStatus": out.Status, "changes": fmt.Sprint(out.Changes)})
	return out, err
}

// restoredStacks lists every stack a restore went through: restore, or
// unchanged when its change set was empty.
func restoredStacks(outs []StackOutcome) []rollout.StackResult {
	var stacks []rollout.StackResult
	for _, o := range outs {
		sr := stackResult(o)
		if o.Action != rollout.ActionUnchanged {
			sr.Action = rollout.ActionRestore
		}
		stacks = append(stacks, sr)
	}
	return stacks
}
