package main

import (
	"context"
	"fmt"
	"time"

	"github.com/gantryhq/gantry/e2e/proxy"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/plan"
)

// paymentsStackOp is the stack operation time of the payments rollout (the
// first part of the harness measured at 5 s; kept for comparison).
const paymentsStackOp = 5 * time.Second

// RolloutResult is a fresh rollout with a fixed stack operation time,
// against the critical path the plan allows.
type RolloutResult struct {
	Descriptor            string   `json:"descriptor"`
	Command               string   `json:"command"`
	StackOperationSeconds float64  `json:"stack_operation_seconds"`
	BakeSeconds           float64  `json:"bake_seconds"`
	Regions               int      `json:"regions"`
	StacksPerRegion       int      `json:"stacks_per_region"`
	WallSeconds           float64  `json:"wall_seconds"`
	CriticalPathSeconds   float64  `json:"critical_path_seconds"`
	CriticalPath          []string `json:"critical_path"`
	Calls                 int      `json:"calls"`
	OverheadRatio         float64  `json:"rollout_overhead_ratio"`
	PeakRSSMB             float64  `json:"peak_rss_mb"`
	Goal                  string   `json:"goal"`
}

// FleetResult is the 13-region rollout and its unchanged rerun.
type FleetResult struct {
	RolloutResult
	CallsByOp map[string]int `json:"calls_by_operation"`
	Noop      NoopResult     `json:"noop_rerun"`
	// Update is the same fleet updated to a new version afterwards: a known
	// service, whose first wave expects what its stack took before.
	Update *UpdateResult `json:"update,omitempty"`
}

// UpdateResult is a rollout of a new version over a deployed fleet.
type UpdateResult struct {
	Command       string         `json:"command"`
	WallSeconds   float64        `json:"wall_seconds"`
	OverheadRatio float64        `json:"overhead_ratio"`
	CallsByOp     map[string]int `json:"calls_by_operation"`
}

// rollout is a finished fresh rollout, its proxy still open.
type rollout struct {
	res   *RolloutResult
	proxy *proxy.Proxy
	args  []string
}

// freshRollout resets the emulator, bootstraps file behind a fresh proxy,
// makes every stack operation take op, and deploys file from nothing with
// --bake 0s. The caller closes the proxy.
func (b *bench) freshRollout(ctx context.Context, file string, op time.Duration, extra ...string) (*rollout, error) {
	d, pl, err := loadPlan(file)
	if err != nil {
		return nil, err
	}
	stacks := stacksPerRegion(d)
	critical, lines := criticalPath(pl, stacks, op)
	p, err := b.freshProxy(ctx, file)
	if err != nil {
		return nil, err
	}
	args := deployArgs(file, extra...)
	p.SetStackDuration(op)
	run, err := b.runGantry(ctx, p.URL(), args...)
	if err != nil {
		p.Close()
		return nil, err
	}
	return &rollout{
		proxy: p,
		args:  args,
		res: &RolloutResult{
			Descriptor:            file,
			Command:               "gantry " + joinArgs(args),
			StackOperationSeconds: op.Seconds(),
			Regions:               len(pl.Steps()),
			StacksPerRegion:       stacks,
			WallSeconds:           run.took.Seconds(),
			CriticalPathSeconds:   critical.Seconds(),
			CriticalPath:          lines,
			Calls:                 sum(p.Counts()),
			OverheadRatio:         run.took.Seconds() / critical.Seconds(),
			PeakRSSMB:             float64(run.maxRSSKiB) / 1024,
			Goal:                  "<= 1.02",
		},
	}, nil
}

func (b *bench) benchPaymentsRollout(ctx context.Context) (*RolloutResult, error) {
	r, err := b.freshRollout(ctx, payments, paymentsStackOp, "--approve", "prod")
	if err != nil {
		return nil, err
	}
	r.proxy.Close()
	return r.res, nil
}

// benchFleetRollout rolls bench/testdata/fleet.sd.yaml (13 regions in
// waves of 1, 4 and 8) out from nothing, then reruns it unchanged.
func (b *bench) benchFleetRollout(ctx context.Context) (*FleetResult, error) {
	r, err := b.freshRollout(ctx, fleet, b.cfg.stackOp)
	if err != nil {
		return nil, err
	}
	defer r.proxy.Close()
	f := &FleetResult{RolloutResult: *r.res, CallsByOp: r.proxy.Counts()}
	if f.Noop, err = b.noopRerun(ctx, r.proxy, r.args); err != nil {
		return nil, err
	}
	r.proxy.ResetCounts()
	args := deployVersionArgs(fleet, "1.0.1")
	run, err := b.runGantry(ctx, r.proxy.URL(), args...)
	if err != nil {
		return nil, err
	}
	f.Update = &UpdateResult{Command: "gantry " + joinArgs(args), WallSeconds: run.took.Seconds(),
		OverheadRatio: run.took.Seconds() / f.CriticalPathSeconds, CallsByOp: r.proxy.Counts()}
	return f, nil
}

func loadPlan(file string) (*descriptor.Descriptor, *plan.Plan, error) {
	d, probs, err := descriptor.Load(file)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(probs) > 0 {
		return nil, nil, fmt.Errorf("%s: %v", file, probs)
	}
	p, err := plan.Build(d, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return d, p, nil
}

// criticalPath is the least time a rollout can take when every stack
// operation takes op and nothing else takes time (bakes are 0 s here):
// stages and waves one after another, a wave's regions in rounds of
// maxParallel, each region deploying its stacks (data, then app) one after
// the other.
func criticalPath(p *plan.Plan, stacks int, op time.Duration) (time.Duration, []string) {
	var total time.Duration
	var lines []string
	for _, st := range p.Stages {
		for _, w := range st.Waves {
			rounds := (len(w.Steps) + w.Parallel() - 1) / w.Parallel()
			d := time.Duration(rounds*stacks) * op
			total += d
			lines = append(lines, fmt.Sprintf("%s wave %d: %d region(s), %d at a time: %d round(s) x %d stack(s) x %s = %s",
				st.Name, w.Index, len(w.Steps), w.Parallel(), rounds, stacks, op, d))
		}
	}
	return total, lines
}

// stacksPerRegion is 2 (data and app) for a service with resources, else 1.
func stacksPerRegion(d *descriptor.Descriptor) int {
	if len(d.Resources) == 0 {
		return 1
	}
	return 2
}
