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
	}
	stacks, params, ok := rg.apply(ctx, stackObserver{r.obs, rg.ref, started})
	if !ok || !rg.record(ctx, stacks, params) {
		return nil
	}
	if !slices.ContainsFunc(stacks, func(s rollout.StackResult) bool { return s.Action != rollout.ActionUnchanged }) {
		// The tags were stale but nothing in the stacks changed: there is
		// nothing new to bake.
		r.finish(ctx, j, rg.ref, rollout.StatusUnchanged, stacks, "")
		return nil
	}
	r.set(rg.ref, rollout.StatusDeployed, stacks, "")
	r.obs.StepChanged(rg.ref, rollout.StepWaiting, "")
	return &inBake{ref: rg.ref, step: step, reg: rg.reg, alarms: rg.pre.alarms}
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
		if r.recorded(ctx, rg.reg, step) {
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
		stepName := rollout.StepApp
		if s.Kind == naming.Data {
			stepName = rollout.StepData
		}
		rg.r.obs.StepChanged(rg.ref, stepName, s.Name)
		rg.j.region(rg.ref, string(stepName), "started", s.Name, nil)
		a := rg.r.stackApply(rg.step, s, rg.pre)
		out, err := rg.reg.Apply(ctx, a, obs)
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
		rg.log.Info("stack applied", "stack", s.Name, "action", out.Action, "changes", out.Changes, "stackStatus", out.Status)
		rg.j.region(rg.ref, string(stepName), out.Action, s.Name, map[string]string{
			"stack": s.Name, "stackStatus": out.Status, "changes": fmt.Sprint(out.Changes),
		})
		params[s.Name] = out.Parameters
	}
	return stacks, params, true
}

// record saves the exact templates and parameters deployed, so a restore
// or rollback finds them; a failure fails the region.
func (rg *regionRun) record(ctx context.Context, stacks []rollout.StackResult, params map[string]map[string]string) bool {
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
		return false
	}
	return true
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
