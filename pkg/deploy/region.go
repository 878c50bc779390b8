package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// inBake is a region deployed in this run, waiting for its wave's bake.
type inBake struct {
	ref    rollout.Ref
	step   plan.Step
	reg    Region
	alarms []string
	// dep is the recorded deployment the bake vouches for (MarkBaked).
	dep Deployment
}

func (b *inBake) key() key { return key{b.ref.Stage, b.ref.Region} }

// region runs one region up to and including its stacks; it returns the
// region when it was deployed and so must be baked. It holds a slot of sem
// on entry and gives it back.
func (r *run) region(ctx context.Context, j *journal, step plan.Step, sem slots, executing *latch) *inBake {
	var once sync.Once
	started := func() { once.Do(executing.done) }
	defer started()
	holding := true
	defer func() {
		if holding {
			sem.release()
		}
	}()
	if r.stopped() || ctx.Err() != nil {
		r.notStarted(ctx, j, step)
		return nil
	}
	rg := &regionRun{r: r, j: j, step: step, ref: refOf(step), pre: r.pre[key{step.Stage, step.Region}],
		log: r.log.With("stage", step.Stage, "region", step.Region, "wave", step.Wave)}
	r.obs.RegionStarted(rg.ref)
	recordOnly, ok := rg.check(ctx)
	if !ok {
		return nil
	}
	if rg.unbaked != nil {
		return rg.bakeAgain()
	}
	if !recordOnly {
		if open, reason := r.waitGate(ctx, j, step, sem, &holding); !open {
			if reason == "" {
				r.notStarted(ctx, j, step)
				return nil
			}
			rg.log.Warn("region held", "reason", reason)
			r.finish(ctx, j, rg.ref, rollout.StatusHeld, nil, reason)
			return nil
		}
		rg.canary = rg.planCanary(ctx)
	}
	stacks, params, ok := rg.apply(ctx, stackObserver{r.obs, rg.ref, started})
	if !ok {
		return nil
	}
	dep, ok := rg.record(ctx, stacks, params)
	if !ok {
		return nil
	}
	note := ""
	if !slices.ContainsFunc(stacks, func(s rollout.StackResult) bool { return s.Action != rollout.ActionUnchanged }) {
		if !recordOnly {
			// The tags were stale but nothing in the stacks changed: there
			// is nothing new to bake.
			rg.markBaked(ctx, dep)
			r.finish(ctx, j, rg.ref, rollout.StatusUnchanged, stacks, "")
			return nil
		}
		// The run that deployed these stacks died before it recorded them,
		// so before their bake too.
		note = "deployed by an earlier run that stopped before its bake: baking it now"
	}
	r.set(rg.ref, rollout.StatusDeployed, stacks, note)
	r.obs.StepChanged(rg.ref, rollout.StepWaiting, "")
	return &inBake{ref: rg.ref, step: step, reg: rg.reg, alarms: rg.pre.alarms, dep: dep}
}

// markBaked records that dep's bake finished (or that it had nothing to
// bake). A failure is a warning: the rerun then bakes the region again,
// which is the safe side.
func (rg *regionRun) markBaked(ctx context.Context, dep Deployment) {
	now := rg.r.clock.Now()
	if err := rg.reg.MarkBaked(ctx, dep, now); err != nil {
		rg.log.Warn("recording the bake failed", "err", err)
		rg.r.obs.Message(rg.ref, slog.LevelWarn, fmt.Sprintf("recording the bake failed (a rerun bakes this region again): %v", err))
		return
	}
	rg.j.region(rg.ref, "bake", "baked", "version "+dep.Version, map[string]string{"version": dep.Version, "hash": dep.Hash})
}

// bakeAgain sends a region whose stacks are done but whose bake did not
// finish in an earlier run (interrupted, halted) to this wave's bake, with
// no gate (nothing changes) and nothing applied: a bake is never skipped.
func (rg *regionRun) bakeAgain() *inBake {
	r, d := rg.r, rg.unbaked
	note := fmt.Sprintf("the bake of version %s did not finish in an earlier run (rollout %s): baking it again", d.Version, d.RolloutID)
	rg.log.Warn("region deployed but not baked: baking it again", "deployedBy", d.RolloutID)
	rg.j.region(rg.ref, "check", "unbaked", note, map[string]string{"deployedBy": d.RolloutID, "hash": d.Hash})
	r.obs.Message(rg.ref, slog.LevelWarn, note)
	r.set(rg.ref, rollout.StatusDeployed, r.unchangedStacks(rg.step, rg.cur), note)
	r.obs.StepChanged(rg.ref, rollout.StepWaiting, "")
	return &inBake{ref: rg.ref, step: rg.step, reg: rg.reg, alarms: rg.pre.alarms, dep: *d}
}

// regionRun is one region's way through a rollout.
type regionRun struct {
	r    *run
	j    *journal
	step plan.Step
	ref  rollout.Ref
	pre  *prepared
	log  *slog.Logger
	reg  Region
	cur  Current
	// unbaked is the region's recorded deployment of this version when its
	// bake never finished.
	unbaked *Deployment
	// canary, when set, runs the canary's steps before the app stack is
	// applied (its promotion).
	canary *canaryRun
}

// check reaches the region and reads its app stack. It finishes the region
// and returns false when there is nothing to do (or it cannot be read);
// recordOnly says the stacks are done but their deployment is not
// recorded.
func (rg *regionRun) check(ctx context.Context) (recordOnly, ok bool) {
	r, step, ref := rg.r, rg.step, rg.ref
	var err error
	if rg.reg, err = r.e.Backend.Region(ctx, step); err != nil {
		r.fail(ctx, rg.j, ref, nil, fmt.Errorf("reaching account %s in %s: %w", step.Account, step.Region, err))
		return false, false
	}
	app := rg.pre.stacks[len(rg.pre.stacks)-1]
	r.obs.StepChanged(ref, rollout.StepCheck, app.Name)
	if rg.cur, err = rg.reg.Current(ctx); err != nil {
		r.fail(ctx, rg.j, ref, nil, fmt.Errorf("reading stack %s: %w", app.Name, err))
		return false, false
	}
	// A rollout killed between a region's last stack and its deployment
	// record leaves the stacks on this version with nothing recorded: the
	// region only needs its record (its empty change sets give the exact
	// parameters), not the gate.
	if r.unchanged(step, rg.cur) {
		if d := r.recorded(ctx, rg.reg, step); d != nil {
			if d.BakedAt.IsZero() {
				rg.unbaked = d
				return false, true
			}
			rg.log.Info("region unchanged", "hash", rg.pre.hash)
			r.finish(ctx, rg.j, ref, rollout.StatusUnchanged, r.unchangedStacks(step, rg.cur), "")
			return false, false
		}
		recordOnly = true
		rg.log.Warn("region runs this version but its deployment is not recorded (an interrupted rollout?): recording it", "hash", rg.pre.hash)
	}
	rg.j.region(ref, "check", "changed", "", map[string]string{
		"stackStatus": rg.cur.Status, "deployedVersion": rg.cur.Version, "deployedHash": rg.cur.Hash, "hash": rg.pre.hash,
		"recordOnly": fmt.Sprint(recordOnly),
	})
	return recordOnly, true
}

// apply applies the region's stacks in order, data first; a failure fails
// the region and returns false.
func (rg *regionRun) apply(ctx context.Context, obs StackObserver) ([]rollout.StackResult, map[string]map[string]string, bool) {
	var stacks []rollout.StackResult
	params := map[string]map[string]string{}
	for _, s := range rg.pre.stacks {
		if s.Kind == naming.App && rg.canary != nil && !rg.canary.run(ctx, obs, stacks) {
			return stacks, nil, false
		}
		stepName := rollout.StepApp
		if s.Kind == naming.Data {
			stepName = rollout.StepData
		}
		rg.r.obs.StepChanged(rg.ref, stepName, s.Name)
		rg.j.region(rg.ref, string(stepName), "started", s.Name, nil)
		a := rg.r.stackApply(rg.step, s, rg.pre)
		rg.r.applying(rg.ref, s.Name)
		out, err := rg.reg.Apply(ctx, a, obs)
		rg.r.applying(rg.ref, "")
		out = fillOutcome(out, a)
		if out.Action == "" {
			// A backend that failed before it knew: the app stack's
			// existence is the best guess for both.
			out.Action = rollout.ActionCreate
			if rg.cur.Exists {
				out.Action = rollout.ActionUpdate
			}
		}
		stacks = append(stacks, stackResult(out))
		if err != nil {
			rg.j.region(rg.ref, string(stepName), "failed", err.Error(), map[string]string{"stack": s.Name, "stackStatus": out.Status})
			rg.r.fail(ctx, rg.j, rg.ref, stacks, fmt.Errorf("stack %s: %w", s.Name, err))
			return stacks, nil, false
		}
		rg.r.note(reportDataLoss(rg.r.obs, rg.j, rg.ref, out.DataLoss)...)
		rg.log.Info("stack applied", "stack", s.Name, "action", out.Action, "changes", out.Changes, "stackStatus", out.Status)
		rg.j.region(rg.ref, string(stepName), out.Action, s.Name, map[string]string{
			"stack": s.Name, "stackStatus": out.Status, "changes": fmt.Sprint(out.Changes),
		})
		params[s.Name] = out.Parameters
		// Release tasks run once their stack is applied, before the app's.
		if s.Kind == naming.Release && !rg.releaseTasks(ctx, stacks) {
			return stacks, nil, false
		}
	}
	return stacks, params, true
}

// record saves the exact templates and parameters deployed, so a restore
// or rollback finds them; a failure fails the region.
func (rg *regionRun) record(ctx context.Context, stacks []rollout.StackResult, params map[string]map[string]string) (Deployment, bool) {
	r := rg.r
	dep := Deployment{
		Service: r.d.Service, Stage: rg.step.Stage, Region: rg.step.Region, Version: r.req.Version,
		Hash: rg.pre.hash, DeployedAt: r.clock.Now(), RolloutID: r.id,
	}
	for _, s := range rg.pre.stacks {
		if p := params[s.Name]; p != nil {
			s.Parameters = p
		}
		dep.Stacks = append(dep.Stacks, s)
	}
	if err := rg.reg.SaveDeployment(ctx, dep); err != nil {
		r.fail(ctx, rg.j, rg.ref, stacks, fmt.Errorf("deployed, but recording the deployment failed (a restore or rollback cannot find this version): %w", err))
		return dep, false
	}
	return dep, true
}

func stackResult(o StackOutcome) rollout.StackResult {
	return rollout.StackResult{Name: o.Name, Kind: string(o.Kind), Action: o.Action, Status: o.Status, Changes: o.Changes}
}

// stackObserver binds stack events to their region.
type stackObserver struct {
	obs rollout.Observer
	ref rollout.Ref
	// started is called on every event: the region is executing.
	started func()
}

func (s stackObserver) StackEvent(e rollout.StackEvent) {
	s.started()
	s.obs.StackEvent(s.ref, e)
}
