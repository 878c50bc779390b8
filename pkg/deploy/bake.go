package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// bake watches the regions a wave deployed for the wave's bake time (or
// --bake): every BakePoll it reads each region's alarms and evaluates the
// halt flag. A region with an alarm in ALARM is restored to its previous
// deployment at once while the others go on baking (they run the same
// version and may need it too); the halt flag ends the bake for all.
func (r *run) bake(ctx context.Context, j *journal, st plan.Stage, w plan.Wave, regions []*inBake) {
	if len(regions) == 0 {
		return
	}
	d := w.Bake
	attrs := map[string]string{"bake": d.String()}
	level := slog.LevelInfo
	msg := ""
	if o := r.req.BakeOverride; o != nil {
		d = *o
		level = slog.LevelWarn
		attrs["bake"], attrs["bakeOverride"], attrs["waveBake"] = d.String(), d.String(), w.Bake.String()
		msg = fmt.Sprintf(" (--bake %s replaces the wave's %s)", d, w.Bake)
	}
	wref := rollout.Ref{Stage: st.Name}
	if d <= 0 {
		j.entry(JournalEntry{Wave: w.Index, Step: "bake", Status: "skipped", Message: "no bake time" + msg, Attrs: attrs})
		if msg != "" {
			r.obs.Message(wref, level, fmt.Sprintf("wave %d not baked%s", w.Index, msg))
		}
		r.baked(ctx, j, regions, nil)
		return
	}
	msg = fmt.Sprintf("baking wave %d for %s%s, watching %s and the halt flag", w.Index, d, msg, joinNames(regions[0].alarms))
	r.obs.Message(wref, level, msg)
	j.entry(JournalEntry{Wave: w.Index, Step: "bake", Status: "started", Message: msg, Attrs: attrs})
	for _, b := range regions {
		r.obs.StepChanged(b.ref, rollout.StepBake, "")
	}

	active, lastErr, ok := r.watch(ctx, j, w, d, regions)
	if !ok {
		return
	}
	for _, b := range active {
		if err := lastErr[b]; err != nil {
			// The last look at the alarms failed: the bake cannot vouch for
			// the region.
			msg := fmt.Sprintf("the bake could not read the alarms at its end: %v", err)
			r.halt(stopFailed, b.ref.String()+": "+msg)
			r.obs.Message(b.ref, slog.LevelError, msg)
			r.finish(ctx, j, b.ref, rollout.StatusFailed, r.get(b.ref).Stacks, msg)
		}
	}
	r.baked(ctx, j, active, lastErr)
	j.entry(JournalEntry{Wave: w.Index, Step: "bake", Status: "done", Attrs: attrs})
}

// heartbeat is how often a bake says, in plain logs, that it goes on.
const heartbeat = time.Minute

// watch polls the bake's regions until its time is up: alarms restore
// their region, the halt flag or a cancelled context stop the bake (ok is
// false then). It returns the regions still baking and their last alarm
// read errors.
func (r *run) watch(ctx context.Context, j *journal, w plan.Wave, d time.Duration, regions []*inBake) ([]*inBake, map[*inBake]error, bool) {
	start := r.clock.Now()
	deadline, beat := start.Add(d), start
	active := slices.Clone(regions)
	lastErr := map[*inBake]error{}
	for len(active) > 0 {
		left := deadline.Sub(r.clock.Now())
		if left <= 0 {
			break
		}
		if err := r.sleep(ctx, min(r.bakePoll, left)); err != nil {
			note := fmt.Sprintf("bake interrupted after %s of %s: %v", r.since(start), d, err)
			r.halt(stopCanceled, note)
			r.noteAll(ctx, j, active, note)
			return nil, nil, false
		}
		for _, b := range active {
			if h, why := r.halted(ctx, j, b.ref, r.gateRequest(b.step)); h {
				r.halt(stopHeld, why)
				r.noteAll(ctx, j, active, fmt.Sprintf("bake stopped after %s of %s: %s", r.since(start), d, why))
				return nil, nil, false
			}
		}
		gone := map[*inBake]bool{}
		firing := r.readAlarms(ctx, j, active, lastErr, gone)
		r.restoreAll(ctx, j, firing)
		active = slices.DeleteFunc(active, func(b *inBake) bool { return firing[b] != nil || gone[b] })
		if now := r.clock.Now(); now.Sub(beat) >= heartbeat && len(active) > 0 && now.Before(deadline) {
			beat = now
			r.obs.Message(rollout.Ref{Stage: active[0].ref.Stage}, rollout.LevelHeartbeat, fmt.Sprintf("wave %d baking: %s left of %s, %s healthy, watching %s",
				w.Index, deadline.Sub(now).Round(time.Second), d, plural(len(active), "region"), joinNames(active[0].alarms)))
		}
	}
	return active, lastErr, true
}

// plural is "1 region" or "3 regions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// baked records the bake of every region that went through it whole and
// healthy: only those are done, and a rerun skips them. The others (cut
// short, halted, restored, unreadable) a rerun bakes again.
func (r *run) baked(ctx context.Context, j *journal, regions []*inBake, lastErr map[*inBake]error) {
	for _, b := range regions {
		if lastErr[b] != nil || r.get(b.ref).Status != rollout.StatusDeployed {
			continue
		}
		rg := &regionRun{r: r, j: j, ref: b.ref, reg: b.reg, log: r.log.With("stage", b.ref.Stage, "region", b.ref.Region)}
		rg.markBaked(ctx, b.dep)
	}
}

// readAlarms reads the alarms of every region in parallel and returns the
// regions with alarms in ALARM.
// A region one of whose alarms does not exist fails at once and is in
// gone.
func (r *run) readAlarms(ctx context.Context, j *journal, active []*inBake, lastErr map[*inBake]error, gone map[*inBake]bool) map[*inBake][]string {
	type answer struct {
		names []string
		err   error
	}
	answers := make([]answer, len(active))
	var wg sync.WaitGroup
	for i, b := range active {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.guard(b.ref)
			names, err := b.reg.AlarmsInAlarm(ctx, b.alarms)
			answers[i] = answer{names, err}
		}()
	}
	wg.Wait()
	firing := map[*inBake][]string{}
	for i, b := range active {
		a := answers[i]
		var missing *MissingAlarmsError
		if errors.As(a.err, &missing) {
			// Not a reading problem to retry: the bake cannot watch what
			// is not there, and that is never healthy.
			missing.Where = b.ref.String()
			r.halt(stopFailed, missing.Error())
			r.obs.Message(b.ref, slog.LevelError, missing.Error())
			r.finish(ctx, j, b.ref, rollout.StatusFailed, r.get(b.ref).Stacks, missing.Error())
			gone[b] = true
			continue
		}
		if a.err != nil {
			if lastErr[b] == nil {
				r.obs.Message(b.ref, slog.LevelWarn, fmt.Sprintf("reading alarms failed (trying again): %v", a.err))
			}
			r.log.Warn("reading alarms failed", "stage", b.ref.Stage, "region", b.ref.Region, "err", a.err)
			lastErr[b] = a.err
			continue
		}
		delete(lastErr, b)
		if len(a.names) > 0 {
			firing[b] = a.names
		}
	}
	return firing
}

// restoreAll restores the regions whose alarms fired, in parallel.
func (r *run) restoreAll(ctx context.Context, j *journal, firing map[*inBake][]string) {
	var wg sync.WaitGroup
	for b, names := range firing {
		wg.Go(func() {
			defer r.guard(b.ref)
			r.restore(ctx, j, b, names)
		})
	}
	wg.Wait()
}

// restore puts a region whose alarms fired back on its previous deployment.
func (r *run) restore(ctx context.Context, j *journal, b *inBake, firing []string) {
	ref := b.ref
	noun := "alarm"
	if len(firing) > 1 {
		noun = "alarms"
	}
	why := fmt.Sprintf("%s %s in ALARM during the bake", noun, joinNames(firing))
	r.halt(stopFailed, ref.String()+": "+why)
	r.obs.Message(ref, slog.LevelError, why)
	r.log.Error("alarm during bake", "stage", ref.Stage, "region", ref.Region, "alarms", firing)
	j.region(ref, "bake", "alarm", why, map[string]string{"alarms": strings.Join(firing, ",")})
	stacks := r.get(ref).Stacks
	r.obs.StepChanged(ref, rollout.StepRestore, "")

	prev, err := b.reg.Previous(ctx, r.req.Version)
	if err != nil {
		r.finish(ctx, j, ref, rollout.StatusFailed, stacks, fmt.Sprintf("%s; finding the previous deployment failed: %v", why, err))
		return
	}
	if prev == nil {
		r.finish(ctx, j, ref, rollout.StatusFailed, stacks, why+"; nothing to restore: no other version was ever deployed in this region")
		return
	}
	j.region(ref, "restore", "started", "version "+prev.Version, map[string]string{"version": prev.Version, "hash": prev.Hash})
	outs, err := Restore(ctx, b.reg, prev, RestoreOptions{
		Tags: r.base[ref.Stage], AllowDataLoss: r.req.AllowDataLoss,
		Observer: stackObserver{r.obs, ref, func() {}}, Now: r.clock.Now(), Running: &b.dep,
	})
	stacks = mergeRestore(stacks, outs)
	if err != nil {
		r.finish(ctx, j, ref, rollout.StatusFailed, stacks, fmt.Sprintf("%s; restoring version %s failed: %v", why, prev.Version, err))
		return
	}
	r.finish(ctx, j, ref, rollout.StatusRolledBack, stacks, fmt.Sprintf("%s; restored version %s", why, prev.Version))
}

// mergeRestore replaces the entries of the stacks a restore changed.
func mergeRestore(stacks []rollout.StackResult, outs []StackOutcome) []rollout.StackResult {
	stacks = slices.Clone(stacks)
	for _, o := range outs {
		if o.Action == rollout.ActionUnchanged {
			continue
		}
		sr := stackResult(o)
		sr.Action = rollout.ActionRestore
		if i := slices.IndexFunc(stacks, func(s rollout.StackResult) bool { return s.Name == o.Name }); i >= 0 {
			stacks[i] = sr
		} else {
			stacks = append(stacks, sr)
		}
	}
	return stacks
}

// noteAll adds a note to regions still deployed (a bake cut short).
func (r *run) noteAll(ctx context.Context, j *journal, regions []*inBake, note string) {
	for _, b := range regions {
		rr := r.get(b.ref)
		r.set(b.ref, rr.Status, rr.Stacks, note)
	}
	j.entry(JournalEntry{Wave: regions[0].ref.Wave, Step: "bake", Status: "stopped", Message: note})
}

func (r *run) since(t time.Time) time.Duration { return r.clock.Now().Sub(t).Round(time.Second) }
