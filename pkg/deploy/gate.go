package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// waitGate evaluates the halt and gate flags until the gate opens, the wait
// runs out or the rollout stops. While it waits for the gate it gives its
// slot back, so a closed region never blocks the rest of its wave. It
// returns false with the reason the region is held, or false and "" when
// the rollout stopped before the region's gate was ever closed.
func (r *run) waitGate(ctx context.Context, j *journal, step plan.Step, sem slots, holding *bool) (bool, string) {
	ref := refOf(step)
	req := r.gateRequest(step)
	var (
		deadline time.Time
		reason   string
	)
	for {
		if r.stopped() {
			// Held by its own gate before the stop, or never gated: then
			// the caller records it as not started.
			return false, reason
		}
		r.obs.StepChanged(ref, rollout.StepGate, "")
		if halted, why := r.halted(ctx, j, ref, req); halted {
			r.halt(stopHeld, why)
			return false, why
		}
		dec, err := r.gate.Check(ctx, req)
		if err != nil {
			dec = rollout.Decision{Open: false, Reason: fmt.Sprintf("the gate could not be evaluated, so it holds: %v", err)}
		}
		status := "closed"
		if dec.Open {
			status = "open"
		}
		attrs := maps.Clone(dec.Attrs)
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs["targetingKey"] = req.TargetingKey()
		j.region(ref, "gate", status, dec.Reason, attrs)
		if dec.Open {
			if !deadline.IsZero() {
				r.obs.Message(ref, slog.LevelInfo, "gate opened: "+dec.Reason)
			}
			return true, ""
		}
		reason = "gate closed: " + dec.Reason
		if r.req.GateWait <= 0 {
			r.obs.Message(ref, slog.LevelWarn, reason)
			return false, reason
		}
		now := r.clock.Now()
		if deadline.IsZero() {
			deadline = now.Add(r.req.GateWait)
			r.obs.Message(ref, slog.LevelWarn, fmt.Sprintf("%s; waiting up to %s for it to open", reason, r.req.GateWait))
		}
		left := deadline.Sub(now)
		if left <= 0 {
			reason = fmt.Sprintf("%s (waited %s)", reason, r.req.GateWait)
			r.obs.Message(ref, slog.LevelWarn, reason)
			return false, reason
		}
		sem.release()
		*holding = false
		r.obs.StepChanged(ref, rollout.StepGateWait, "")
		var changed <-chan struct{}
		if gw, ok := r.gate.(GateWatcher); ok {
			changed = gw.Changed()
		}
		if err := r.sleep(ctx, min(r.gatePoll, left), changed, r.stopCh); err != nil {
			return false, reason + "; interrupted while waiting"
		}
		if !sem.acquire(ctx, r.stopCh) {
			return false, reason
		}
		*holding = true
	}
}

// halted evaluates the halt flag for a region; an error halts (fail closed).
func (r *run) halted(ctx context.Context, j *journal, ref rollout.Ref, req rollout.GateRequest) (bool, string) {
	h, why, err := r.gate.Halted(ctx, req)
	switch {
	case err != nil:
		why = fmt.Sprintf("the halt flag could not be evaluated, so the rollout stops: %v", err)
	case !h:
		return false, ""
	default:
		why = "halt flag is on: " + why
	}
	j.region(ref, "halt", "halted", why, nil)
	r.obs.Message(ref, slog.LevelWarn, why)
	return true, why
}

// sleep waits d, or less when one of wake closes; it fails only when ctx is
// done.
func (r *run) sleep(ctx context.Context, d time.Duration, wake ...<-chan struct{}) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, ch := range wake {
		if ch == nil {
			continue
		}
		go func() {
			select {
			case <-ch:
				cancel()
			case <-sctx.Done():
			}
		}()
	}
	_ = r.clock.Sleep(sctx, d)
	return ctx.Err()
}
