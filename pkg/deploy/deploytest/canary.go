package deploytest

import (
	"context"
	"slices"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// outputs are the outputs a stack applied with params has: a canary's app
// stack outputs what an abort moves, named after the stack.
func outputs(stack string, params map[string]string) map[string]string {
	if _, ok := params[render.ParamCanaryWeight]; !ok {
		return nil
	}
	return map[string]string{
		render.OutputListenerRule:      "rule/" + stack,
		render.OutputStableTargetGroup: "tg/" + stack + "/stable",
		render.OutputCanaryTargetGroup: "tg/" + stack + "/canary",
		render.OutputCanaryService:     "service/" + stack + "/canary",
		render.OutputCluster:           "platform",
	}
}

// StableOnly implements deploy.TrafficSwitch: it records the call (op
// "stable-only") and its targets; StableOnlyErr fails it.
func (r *Region) StableOnly(_ context.Context, t deploy.CanaryTargets) error {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.b.calls = append(r.b.calls, Call{Op: "stable-only", Stage: r.step.Stage, Region: r.step.Region, Stack: t.Rule})
	r.stableOnly = append(r.stableOnly, t)
	if r.b.StableOnlyErr != nil {
		return r.b.StableOnlyErr
	}
	return nil
}

// StableOnlyCalls returns the targets of every direct abort in the region.
func (r *Region) StableOnlyCalls() []deploy.CanaryTargets {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return slices.Clone(r.stableOnly)
}

// Weight implements deploy.WeightGate.
func (g *Gate) Weight(_ context.Context, flag string, req rollout.GateRequest) (int, string, error) {
	g.mu.Lock()
	g.weights = append(g.weights, req)
	g.mu.Unlock()
	if g.WeightFunc == nil {
		return 100, "no weight flag answer set", nil
	}
	return g.WeightFunc(flag, req)
}
