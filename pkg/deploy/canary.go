package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// Stack tags of an app stack whose traffic is split by a canary: the step
// it is at ("2/3") and the rollout in charge of it. Set with each step's
// weight, in the same stack update, and dropped by the promotion or the
// restore that ends the split, so a rollout killed mid-canary resumes at
// the step the traffic is really at.
const (
	TagCanaryStep    = "gantry:canary-step"
	TagCanaryRollout = "gantry:canary-rollout"
)

// DefaultCanaryPoll is how often a canary step reads its alarms and flags:
// an abort starts within about this long of an alarm's change (the issue's
// bound is 5 s).
const DefaultCanaryPoll = time.Second

// abortTimeout bounds an abort's restore, which runs on a context of its
// own: a Ctrl-C that asked for the abort must not also cancel it.
const abortTimeout = 30 * time.Minute

// Split is a canary's traffic split as the app stack records it.
type Split struct {
	// Stable is the stable service's version, Canary the canary's.
	Stable, Canary string
	// Weight is the canary's percent of the traffic.
	Weight int
	// Step and Steps are where the canary is (0 when not recorded).
	Step, Steps int
	// RolloutID is the rollout in charge of it.
	RolloutID string
}

// SplitOf reads the app stack's split: nil when the stack has no canary or
// all its traffic is on one version.
func SplitOf(c Current) *Split {
	w, err := strconv.Atoi(c.Parameters[render.ParamCanaryWeight])
	if !c.Exists || err != nil {
		return nil
	}
	s := &Split{Stable: c.Parameters[render.ParamVersion], Canary: c.Parameters[render.ParamCanaryVersion], Weight: w, RolloutID: c.Tags[TagCanaryRollout]}
	if w == 0 && s.Canary == s.Stable {
		return nil
	}
	if a, b, ok := strings.Cut(c.Tags[TagCanaryStep], "/"); ok {
		s.Step, _ = strconv.Atoi(a)
		s.Steps, _ = strconv.Atoi(b)
	}
	return s
}

// CanaryTargets are what an abort moves directly: the listener rule, its
// two target groups, and the canary's ECS service and cluster.
type CanaryTargets struct {
	Rule, StableGroup, CanaryGroup, CanaryService, Cluster string
}

// targetsOf reads the targets from the app stack's outputs.
func targetsOf(c Current) (CanaryTargets, bool) {
	t := CanaryTargets{
		Rule: c.Outputs[render.OutputListenerRule], StableGroup: c.Outputs[render.OutputStableTargetGroup],
		CanaryGroup: c.Outputs[render.OutputCanaryTargetGroup], CanaryService: c.Outputs[render.OutputCanaryService],
		Cluster: c.Outputs[render.OutputCluster],
	}
	return t, t.known()
}

// known reports whether the targets name what an abort must move.
func (t CanaryTargets) known() bool {
	return t.Rule != "" && t.StableGroup != "" && t.CanaryGroup != ""
}

// TrafficSwitch is a Region that can put a canary's traffic back on the
// stable service at once, outside CloudFormation: the abort's first move,
// seconds where a stack update takes minutes.
type TrafficSwitch interface {
	// StableOnly sets the listener rule's weights to stable 100, canary 0
	// (one call) and scales the canary service to zero tasks.
	StableOnly(ctx context.Context, t CanaryTargets) error
}

// WeightGate is a Gate that evaluates a canary's weight flag: an integer,
// the most percent of a region's traffic the canary may take now.
type WeightGate interface {
	Weight(ctx context.Context, flag string, req rollout.GateRequest) (weight int, why string, err error)
}

// canaryRun is one region's canary: steps of weight, each baked, before
// the app stack's promotion.
type canaryRun struct {
	rg     *regionRun
	c      *descriptor.Canary
	spec   *descriptor.Spec
	app    DeployedStack
	stable string
	prev   *Deployment
	alarms []string
	start  int // the step to start at (a resume)

	targets CanaryTargets
	weight  int  // the canary's weight now
	applied bool // the app stack carries a step of this canary
	res     rollout.CanaryResult
	// lastWhy is the last weight-flag or wait message shown, so a poll
	// repeats nothing.
	lastWhy string
	// began is when an abort began (its trouble noticed), switchNote what
	// its direct traffic switch said; both empty before one.
	began      time.Time
	switchNote string
}

// planCanary decides whether the region runs a canary and from which
// step; nil deploys the app stack at once, as without one.
func (rg *regionRun) planCanary(ctx context.Context) *canaryRun {
	r := rg.r
	c := r.d.CanaryFor(rg.step.Stage)
	if c == nil {
		return nil
	}
	skip := func(msg string) *canaryRun {
		r.obs.Message(rg.ref, slog.LevelInfo, msg)
		rg.j.region(rg.ref, "canary", "skipped", msg, nil)
		return nil
	}
	if !rg.cur.Exists {
		return skip("no canary: no version runs here yet to compare one with, so the region is deployed whole")
	}
	stable := rg.cur.Parameters[render.ParamVersion]
	if stable == "" {
		stable = rg.cur.Version
	}
	if stable == r.req.Version {
		return nil // the image does not change: nothing to canary (a promotion to finish, or a template change)
	}
	prev, err := rg.reg.Deployment(ctx, stable)
	if err != nil || prev == nil {
		return skip(fmt.Sprintf("no canary: the stable version %s has no recorded deployment for an abort to go back to, so the region is deployed whole", stable))
	}
	cr := &canaryRun{rg: rg, c: c, spec: r.d.SpecFor(rg.step.Stage), app: rg.pre.stacks[len(rg.pre.stacks)-1], stable: stable, prev: prev}
	cr.alarms = append(slices.Clone(rg.pre.alarms), render.CanaryAlarmNames(r.d.Service, rg.step.Stage, c)...)
	cr.res = rollout.CanaryResult{Steps: len(c.Steps), StableVersion: stable, Changes: []rollout.WeightChange{}}
	// A stack that already has the canary's parts names them: an abort
	// during the first step's update can move the traffic at once.
	cr.targets, _ = targetsOf(rg.cur)
	if sp := SplitOf(rg.cur); sp != nil && sp.Canary == r.req.Version && sp.Step >= 1 && sp.Step <= len(c.Steps) {
		cr.start, cr.weight, cr.applied = sp.Step-1, sp.Weight, true
		cr.res.Step, cr.res.Weight = sp.Step, sp.Weight
		msg := fmt.Sprintf("resuming the canary at step %d of %d (%d%% on %s), where rollout %s stopped: the step bakes again", sp.Step, len(c.Steps), sp.Weight, r.req.Version, orUnknown(sp.RolloutID))
		r.obs.Message(rg.ref, slog.LevelWarn, msg)
		rg.j.region(rg.ref, "canary", "resumed", msg, map[string]string{"step": strconv.Itoa(sp.Step), "weight": strconv.Itoa(sp.Weight), "stoppedRollout": sp.RolloutID})
	}
	r.setCanary(rg.ref, &cr.res)
	return cr
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// run takes the canary through its steps; true means every step baked
// and the app stack may be promoted. Otherwise the region is finished
// (rolled back, held or failed) with stacks as its stacks so far.
func (cr *canaryRun) run(ctx context.Context, obs StackObserver, stacks []rollout.StackResult) bool {
	r := cr.rg.r
	level, override := slog.LevelInfo, ""
	if o := r.req.BakeOverride; o != nil {
		level, override = slog.LevelWarn, fmt.Sprintf(" (--bake %s replaces the canary's stepBake %s)", *o, cr.c.Bake())
	}
	r.obs.Message(cr.rg.ref, level, fmt.Sprintf("canary of %s against %s: steps %s, %s each%s, watching the alarms %s; %s",
		r.req.Version, cr.stable, percents(cr.c.Steps), cr.bake(), override, strings.Join(cr.alarms, ", "), cr.flagNote()))
	for i := cr.start; i < len(cr.c.Steps); i++ {
		if !cr.runStep(ctx, obs, stacks, i) {
			return false
		}
	}
	cr.res.Promoted = true
	cr.change(len(cr.c.Steps), 0, "promotion")
	r.obs.Message(cr.rg.ref, slog.LevelInfo, fmt.Sprintf("every canary step passed: promoting %s (the stable service takes it, all traffic returns to it, the canary goes to zero tasks)", r.req.Version))
	cr.rg.j.region(cr.rg.ref, "canary", "promoting", r.req.Version, map[string]string{"steps": strconv.Itoa(len(cr.c.Steps))})
	return true
}

// bake is each step's bake: stepBake, or --bake, which replaces every
// bake time of the run.
func (cr *canaryRun) bake() time.Duration {
	if o := cr.rg.r.req.BakeOverride; o != nil {
		return *o
	}
	return cr.c.Bake()
}

// flagNote names the flags a step reads.
func (cr *canaryRun) flagNote() string {
	parts := []string{"the halt flag"}
	if cr.c.WeightFlag != "" {
		parts = append(parts, "the weight flag "+cr.c.WeightFlag)
	}
	return joinNames(parts)
}

// percents is "5%, 25% and 50%".
func percents(steps []int) string {
	out := make([]string, len(steps))
	for i, w := range steps {
		out[i] = strconv.Itoa(w) + "%"
	}
	return joinNames(out)
}

// change records a weight change in the result.
func (cr *canaryRun) change(step, weight int, why string) {
	cr.res.Step, cr.res.Weight = max(cr.res.Step, step), weight
	cr.res.Changes = append(cr.res.Changes, rollout.WeightChange{Time: cr.rg.r.clock.Now(), Step: step, Weight: weight, Why: why})
	cr.rg.r.setCanary(cr.rg.ref, &cr.res)
}

// stepState is where a step is: waiting for the weight flag, or baking
// since a time.
type stepState struct {
	waitFrom, bakeFrom time.Time
}

// runStep takes step i to its weight (as far as the weight flag allows,
// waiting for it like --gate-wait) and bakes it for stepBake, reading the
// alarms, the halt flag and the weight flag every CanaryPoll. True when
// the step baked whole at its weight.
func (cr *canaryRun) runStep(ctx context.Context, obs StackObserver, stacks []rollout.StackResult, i int) bool {
	r, ref := cr.rg.r, cr.rg.ref
	want, bake := cr.c.Steps[i], cr.bake()
	var st stepState
	beat := r.clock.Now()
	for {
		if why := cr.trouble(ctx, i, cr.weight, false); why != "" {
			cr.abort(ctx, stacks, why)
			return false
		}
		allowed, ok := cr.allowed(ctx, i, want)
		if ok && allowed == 0 {
			cr.abort(ctx, stacks, fmt.Sprintf("weight flag %s is 0", cr.c.WeightFlag))
			return false
		}
		if allowed != cr.weight {
			why, err := cr.setWeight(ctx, obs, i, allowed)
			if why == "" && err != nil {
				why = fmt.Sprintf("setting the canary's weight to %d%% failed: %v", allowed, r.e.errorText(ctx, err))
			}
			if why != "" {
				cr.abort(ctx, stacks, why)
				return false
			}
			st.bakeFrom = time.Time{}
		}
		now := r.clock.Now()
		done, left := cr.progress(&st, i, now, want, bake)
		if done {
			return true
		}
		if left < 0 {
			cr.hold(ctx, stacks, i, want)
			return false
		}
		if now.Sub(beat) >= heartbeat {
			beat = now
			r.obs.Message(ref, rollout.LevelHeartbeat, cr.status(&st, i, now, bake))
		}
		var changed <-chan struct{}
		if gw, ok := r.gate.(GateWatcher); ok && cr.c.WeightFlag != "" {
			changed = gw.Changed()
		}
		if err := r.sleep(ctx, min(r.canaryPoll, max(left, time.Millisecond)), changed); err != nil {
			r.halt(stopCanceled, "interrupted: "+err.Error())
			cr.abort(ctx, stacks, "the rollout was interrupted (Ctrl-C or SIGTERM)")
			return false
		}
	}
}

// progress moves the step's state on: done when its bake is over; left is
// what remains of the bake or of the wait for the weight flag, negative
// when that wait ran out.
func (cr *canaryRun) progress(st *stepState, i int, now time.Time, want int, bake time.Duration) (done bool, left time.Duration) {
	r, ref := cr.rg.r, cr.rg.ref
	if cr.weight < want {
		st.bakeFrom = time.Time{}
		if st.waitFrom.IsZero() {
			st.waitFrom = now
			r.obs.StepChanged(ref, rollout.StepCanary, fmt.Sprintf("step %d/%d waits at %d%% (wants %d%%)", i+1, len(cr.c.Steps), cr.weight, want))
		}
		left = st.waitFrom.Add(r.req.GateWait).Sub(now)
		if left <= 0 {
			return false, -1
		}
		return false, left
	}
	st.waitFrom = time.Time{}
	if st.bakeFrom.IsZero() {
		st.bakeFrom = now
		cr.lastWhy = ""
		r.obs.StepChanged(ref, rollout.StepCanary, fmt.Sprintf("step %d/%d: %d%% on %s, baking %s", i+1, len(cr.c.Steps), want, r.req.Version, bake))
		cr.rg.j.region(ref, "canary", "baking", fmt.Sprintf("step %d of %d at %d%%", i+1, len(cr.c.Steps), want), map[string]string{"step": strconv.Itoa(i + 1), "weight": strconv.Itoa(want), "bake": bake.String()})
	}
	left = st.bakeFrom.Add(bake).Sub(now)
	if left <= 0 {
		cr.rg.j.region(ref, "canary", "baked", fmt.Sprintf("step %d of %d at %d%%", i+1, len(cr.c.Steps), want), map[string]string{"step": strconv.Itoa(i + 1), "weight": strconv.Itoa(want)})
		return true, 0
	}
	return false, left
}

// status is the heartbeat line of a step.
func (cr *canaryRun) status(st *stepState, i int, now time.Time, bake time.Duration) string {
	if !st.bakeFrom.IsZero() {
		return fmt.Sprintf("canary step %d of %d at %d%%: %s left of %s, watching %s", i+1, len(cr.c.Steps), cr.weight,
			st.bakeFrom.Add(bake).Sub(now).Round(time.Second), bake, joinNames(cr.alarms))
	}
	return fmt.Sprintf("canary step %d of %d waits at %d%% for weight flag %s: %s left of --gate-wait %s", i+1, len(cr.c.Steps), cr.weight,
		cr.c.WeightFlag, st.waitFrom.Add(cr.rg.r.req.GateWait).Sub(now).Round(time.Second), cr.rg.r.req.GateWait)
}

// trouble reads the halt flag and the alarms: the reason to abort, or "".
// While a step's update runs, an alarm it is still making (the canary's
// own, the first time) is not missing yet.
func (cr *canaryRun) trouble(ctx context.Context, i, weight int, updating bool) string {
	r, rg := cr.rg.r, cr.rg
	at := fmt.Sprintf("at step %d of %d (%d%%)", i+1, len(cr.c.Steps), weight)
	if h, why := r.halted(ctx, rg.j, rg.ref, r.gateRequest(rg.step)); h {
		r.halt(stopHeld, why)
		return why
	}
	firing, err := rg.reg.AlarmsInAlarm(ctx, cr.alarms)
	var missing *MissingAlarmsError
	switch {
	case errors.As(err, &missing) && updating:
		return ""
	case errors.As(err, &missing):
		return fmt.Sprintf("%v %s: the canary cannot be watched", missing, at)
	case err != nil:
		r.log.Warn("reading alarms failed", "stage", rg.ref.Stage, "region", rg.ref.Region, "err", err)
		if cr.lastWhy != "alarms" {
			cr.lastWhy = "alarms"
			r.obs.Message(rg.ref, slog.LevelWarn, fmt.Sprintf("reading alarms failed (trying again): %v", r.e.errorText(ctx, err)))
		}
		return ""
	case len(firing) > 0:
		noun := "alarm"
		if len(firing) > 1 {
			noun = "alarms"
		}
		return fmt.Sprintf("%s %s in ALARM %s", noun, joinNames(firing), at)
	}
	return ""
}

// allowed is the weight step i may have now: want, capped by the weight
// flag. ok is false when the flag could not be read: the canary then
// keeps its weight (fail closed: no more traffic), and the step waits.
func (cr *canaryRun) allowed(ctx context.Context, i, want int) (int, bool) {
	r, rg := cr.rg.r, cr.rg
	if cr.c.WeightFlag == "" {
		return want, true
	}
	var (
		v   int
		why string
		err = fmt.Errorf("no flag provider can evaluate an integer flag")
	)
	if wg, ok := r.gate.(WeightGate); ok {
		v, why, err = wg.Weight(ctx, cr.c.WeightFlag, r.gateRequest(rg.step))
	}
	if err != nil {
		msg := fmt.Sprintf("weight flag %s could not be evaluated, so the canary takes no more traffic: %v", cr.c.WeightFlag, err)
		cr.say(slog.LevelWarn, msg, nil)
		return min(want, cr.weight), false
	}
	v = max(0, min(100, v))
	if v < want {
		cr.say(slog.LevelWarn, fmt.Sprintf("step %d of %d (%d%%) is above weight flag %s (%d%%: %s): the canary stays at %d%% and the step waits (--gate-wait %s)",
			i+1, len(cr.c.Steps), want, cr.c.WeightFlag, v, why, min(v, want), r.req.GateWait), map[string]string{"flag": cr.c.WeightFlag, "value": strconv.Itoa(v)})
		return v, true
	}
	if cr.lastWhy != "" && cr.weight < want {
		cr.say(slog.LevelInfo, fmt.Sprintf("weight flag %s allows %d%%: step %d of %d goes on", cr.c.WeightFlag, v, i+1, len(cr.c.Steps)), map[string]string{"flag": cr.c.WeightFlag, "value": strconv.Itoa(v)})
	}
	return want, true
}

// say shows and journals a weight-flag message once, until it changes.
func (cr *canaryRun) say(level slog.Level, msg string, attrs map[string]string) {
	if msg == cr.lastWhy {
		return
	}
	cr.lastWhy = msg
	cr.rg.r.obs.Message(cr.rg.ref, level, msg)
	cr.rg.j.region(cr.rg.ref, "canary", "weight-flag", msg, attrs)
}

// setWeight updates the app stack to give the canary weight percent of
// the traffic at step i: the stable service keeps its version, the canary
// runs the new one on its share of tasks; the step is in the stack's tags.
// The canary may take traffic long before CloudFormation ends the update
// (the rule changes first, the canary's tasks come after), so the alarms
// and the halt flag are read while it runs: trouble then moves the traffic
// back at once, and is returned as the reason to abort once the update
// has ended.
func (cr *canaryRun) setWeight(ctx context.Context, obs StackObserver, i, weight int) (abort string, err error) {
	r, rg := cr.rg.r, cr.rg
	a := cr.stepApply(i, weight)
	r.obs.StepChanged(rg.ref, rollout.StepCanary, fmt.Sprintf("step %d/%d: %d%% → %d%%", i+1, len(cr.c.Steps), cr.weight, weight))
	rg.j.region(rg.ref, "canary", "weight", fmt.Sprintf("step %d of %d: %d%% to %d%%", i+1, len(cr.c.Steps), cr.weight, weight),
		map[string]string{"step": strconv.Itoa(i + 1), "weight": strconv.Itoa(weight), "from": strconv.Itoa(cr.weight), "stack": a.Name})
	r.applying(rg.ref, a.Name)
	out, err, abort := cr.applyWatching(ctx, obs, a, i, weight)
	r.applying(rg.ref, "")
	if err != nil {
		rg.j.region(rg.ref, "canary", "failed", err.Error(), map[string]string{"stack": a.Name, "stackStatus": out.Status})
		return abort, err
	}
	cr.applied = true
	why := "step"
	if weight < cr.c.Steps[i] {
		why = "weight flag"
	}
	cr.weight = weight
	cr.change(i+1, weight, why)
	if abort == "" {
		tasks := render.CanaryTasks(cr.spec.Scaling.Min, weight)
		r.obs.Message(rg.ref, slog.LevelInfo, fmt.Sprintf("canary step %d of %d: %d%% of traffic on %s (%s), %d%% on %s",
			i+1, len(cr.c.Steps), weight, r.req.Version, plural(tasks, "task"), 100-weight, cr.stable))
	}
	if !cr.targets.known() {
		// The first step made the canary's parts: read what an abort moves.
		if cur, err := rg.reg.Current(ctx); err == nil {
			cr.targets, _ = targetsOf(cur)
		}
	}
	return abort, nil
}

// applyWatching applies a while reading the alarms and the halt flag every
// CanaryPoll. On trouble (or Ctrl-C) it moves the traffic back directly at
// once, then waits for the update to end; abort is the trouble.
func (cr *canaryRun) applyWatching(ctx context.Context, obs StackObserver, a StackApply, i, weight int) (out StackOutcome, err error, abort string) {
	r, rg := cr.rg.r, cr.rg
	fin := make(chan struct{})
	go func() {
		defer close(fin)
		err = errors.New("the stack update stopped on an internal error")
		defer r.guard(rg.ref)
		out, err = rg.reg.Apply(ctx, a, obs)
	}()
	bg := context.WithoutCancel(ctx)
	for {
		select {
		case <-fin:
			return out, err, abort
		default:
		}
		if abort == "" {
			if ctx.Err() != nil {
				abort = "the rollout was interrupted (Ctrl-C or SIGTERM)"
				r.halt(stopCanceled, "interrupted: "+ctx.Err().Error())
			} else {
				abort = cr.trouble(ctx, i, weight, true)
			}
			if abort != "" {
				cr.began = r.clock.Now()
				r.obs.Message(rg.ref, slog.LevelError, "canary aborted during its step's update: "+abort)
				rg.j.region(rg.ref, "canary", "aborting", abort, map[string]string{"weight": strconv.Itoa(weight), "updating": "true"})
				if cr.targets.known() {
					cr.switchNote = cr.switchTraffic(bg, cr.began)
				}
			}
		}
		// On the wall clock, not the engine's: this wait races a real
		// operation, and ends with it.
		t := time.NewTimer(r.canaryPoll)
		select {
		case <-fin:
		case <-t.C:
		}
		t.Stop()
	}
}

// stepApply is the app stack at step i with the canary at weight.
func (cr *canaryRun) stepApply(i, weight int) StackApply {
	r, rg := cr.rg.r, cr.rg
	app := cr.app
	app.Parameters = maps.Clone(app.Parameters)
	maps.Copy(app.Parameters, render.CanaryParameters(cr.spec, cr.stable, r.req.Version, weight))
	stacks := slices.Clone(rg.pre.stacks)
	stacks[len(stacks)-1] = app
	tags := StackTags(r.base[rg.step.Stage], app, r.req.Version, HashDeployed(stacks))
	tags[TagCanaryStep] = fmt.Sprintf("%d/%d", i+1, len(cr.c.Steps))
	tags[TagCanaryRollout] = r.id
	return StackApply{Name: app.Name, Kind: app.Kind, Template: app.Template, Parameters: app.Parameters, Tags: tags, AllowDataLoss: r.req.AllowDataLoss}
}

// hold ends a step that waited for the weight flag longer than
// --gate-wait: the region is held with the canary at its weight, which a
// rerun resumes and `gantry rollback` cleans up.
func (cr *canaryRun) hold(ctx context.Context, stacks []rollout.StackResult, i, want int) {
	r, rg := cr.rg.r, cr.rg
	reason := fmt.Sprintf("canary held at %d%% before step %d of %d (%d%%): weight flag %s allows no more", cr.weight, i+1, len(cr.c.Steps), want, cr.c.WeightFlag)
	if r.req.GateWait > 0 {
		reason += fmt.Sprintf(" (waited %s)", r.req.GateWait)
	}
	if cr.weight > 0 {
		reason += fmt.Sprintf("; the traffic stays split (%d%% on %s): run again to resume, or gantry rollback to put it all on %s", cr.weight, r.req.Version, cr.stable)
	}
	rg.log.Warn("canary held", "reason", reason)
	r.finish(ctx, rg.j, rg.ref, rollout.StatusHeld, stacks, reason)
}

// abort sends all traffic back to the stable service at once (a direct
// listener rule update, the canary scaled to zero), then brings the stacks
// back in line by restoring the stable version's recorded deployment. The
// region is rolled back and the rollout stops, as after a failed region.
func (cr *canaryRun) abort(ctx context.Context, stacks []rollout.StackResult, why string) {
	r, rg := cr.rg.r, cr.rg
	if cr.began.IsZero() {
		cr.began = r.clock.Now()
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	r.halt(stopFailed, rg.ref.String()+": canary aborted: "+why)
	r.obs.Message(rg.ref, slog.LevelError, "canary aborted: "+why)
	rg.j.region(rg.ref, "canary", "aborted", why, map[string]string{"weight": strconv.Itoa(cr.weight)})
	cr.res.Aborted = why
	switched := cr.switchNote
	if cr.applied {
		// Again after a switch made during the step's update: the update
		// may have set the rule's weights after it.
		if note := cr.switchTraffic(bg, cr.began); switched == "" {
			switched = note
		}
	}
	cr.change(cr.res.Step, 0, "abort")
	r.obs.StepChanged(rg.ref, rollout.StepRestore, "")
	rg.j.region(rg.ref, "restore", "started", "version "+cr.prev.Version, map[string]string{"version": cr.prev.Version, "hash": cr.prev.Hash})
	outs, err := Restore(bg, rg.reg, cr.prev, RestoreOptions{
		Tags: r.base[rg.step.Stage], AllowDataLoss: r.req.AllowDataLoss,
		Observer: stackObserver{r.obs, rg.ref, func() {}}, Now: r.clock.Now(),
		Running: &Deployment{Version: r.req.Version, Stacks: rg.pre.stacks},
	})
	stacks = mergeRestore(stacks, outs)
	msg := "canary aborted: " + why + switched
	if err != nil {
		r.finish(ctx, rg.j, rg.ref, rollout.StatusFailed, stacks, fmt.Sprintf("%s; restoring version %s failed: %v", msg, cr.prev.Version, r.e.errorText(ctx, err)))
		return
	}
	r.finish(ctx, rg.j, rg.ref, rollout.StatusRolledBack, stacks, fmt.Sprintf("%s; restored version %s", msg, cr.prev.Version))
}

// switchTraffic is the abort's direct move; it returns what to add to the
// region's message.
func (cr *canaryRun) switchTraffic(ctx context.Context, began time.Time) string {
	r, rg := cr.rg.r, cr.rg
	sw, ok := rg.reg.(TrafficSwitch)
	if !ok || !cr.targets.known() {
		return "; the restore moves the traffic back"
	}
	again := cr.res.AbortSeconds != nil
	if err := sw.StableOnly(ctx, cr.targets); err != nil {
		text := r.e.errorText(ctx, err)
		r.obs.Message(rg.ref, slog.LevelError, fmt.Sprintf("moving the traffic back directly failed (the restore moves it): %s", text))
		rg.j.region(rg.ref, "canary", "switch-failed", text, nil)
		return "; moving the traffic back directly failed, the restore moved it"
	}
	if again {
		return ""
	}
	took := r.clock.Now().Sub(began)
	secs := took.Seconds()
	cr.res.AbortSeconds = &secs
	cr.weight = 0
	msg := fmt.Sprintf("all traffic back on %s %.2fs after the abort began, the canary scaled to zero; bringing the stacks back in line", cr.stable, secs)
	r.obs.Message(rg.ref, slog.LevelWarn, msg)
	rg.j.region(rg.ref, "canary", "stable-only", msg, map[string]string{"seconds": strconv.FormatFloat(secs, 'f', 3, 64)})
	return fmt.Sprintf("; traffic back on %s in %.2fs", cr.stable, secs)
}

// setCanary stores a copy of a region's canary result.
func (r *run) setCanary(ref rollout.Ref, c *rollout.CanaryResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Regions[r.index[key{ref.Stage, ref.Region}]].Canary = c.Clone()
}

// endSplit is a rollback's first move on a region whose traffic a canary
// splits: all of it back on the stable service at once, before the
// restore brings the stacks in line. A failure is said and left to the
// restore.
func endSplit(ctx context.Context, reg Region, cur Current, sp *Split, obs rollout.Observer, j *journal, ref rollout.Ref) {
	sw, ok := reg.(TrafficSwitch)
	t, known := targetsOf(cur)
	if !ok || !known {
		return
	}
	began := time.Now()
	if err := sw.StableOnly(ctx, t); err != nil {
		obs.Message(ref, slog.LevelWarn, fmt.Sprintf("moving the canary's traffic back directly failed (the restore moves it): %v", err))
		j.region(ref, "canary", "switch-failed", err.Error(), nil)
		return
	}
	msg := fmt.Sprintf("the canary's %d%% of traffic (%s) is back on %s after %.1fs; the canary scaled to zero", sp.Weight, sp.Canary, sp.Stable, time.Since(began).Seconds())
	obs.Message(ref, slog.LevelInfo, msg)
	j.region(ref, "canary", "stable-only", msg, map[string]string{"weight": strconv.Itoa(sp.Weight), "rollout": sp.RolloutID})
}

// CanaryPreview is what a plan says of a region's canary.
type CanaryPreview struct {
	// Runs is whether a deploy of the version would run the canary here;
	// Why says why not, or where it resumes.
	Runs bool   `json:"runs"`
	Why  string `json:"why"`
	// StableVersion is the version the stable service keeps meanwhile.
	StableVersion string `json:"stableVersion,omitempty"`
	Steps         []int  `json:"steps"`
	StepBake      string `json:"stepBake"`
	WeightFlag    string `json:"weightFlag,omitempty"`
	// Alarms are what each step watches besides the service's own.
	Alarms []string `json:"alarms"`
}

// previewCanary decides, as a deploy would (planCanary), whether the
// region runs the stage's canary for version; nil for a stage without one.
func previewCanary(ctx context.Context, reg Region, d *descriptor.Descriptor, step plan.Step, version string, cur Current) (*CanaryPreview, error) {
	c := d.CanaryFor(step.Stage)
	if c == nil {
		return nil, nil
	}
	p := &CanaryPreview{Steps: c.Steps, StepBake: c.Bake().String(), WeightFlag: c.WeightFlag, Alarms: render.CanaryAlarmNames(d.Service, step.Stage, c)}
	if !cur.Exists {
		p.Why = "no version runs here yet to compare a canary with: deployed whole"
		return p, nil
	}
	stable := cur.Parameters[render.ParamVersion]
	if stable == "" {
		stable = cur.Version
	}
	p.StableVersion = stable
	if stable == version {
		p.Why = "the image does not change (" + version + "): deployed whole"
		return p, nil
	}
	prev, err := reg.Deployment(ctx, stable)
	if err != nil {
		return nil, fmt.Errorf("reading the recorded deployment of %s: %w", stable, err)
	}
	if prev == nil {
		p.Why = fmt.Sprintf("the stable version %s has no recorded deployment for an abort to go back to: deployed whole", stable)
		return p, nil
	}
	p.Runs = true
	p.Why = fmt.Sprintf("%s against %s in steps of %s, %s each", version, stable, percents(c.Steps), c.Bake())
	if sp := SplitOf(cur); sp != nil && sp.Canary == version && sp.Step >= 1 {
		p.Why += fmt.Sprintf("; resumes at step %d (%d%% now, rollout %s)", sp.Step, sp.Weight, orUnknown(sp.RolloutID))
	}
	return p, nil
}
