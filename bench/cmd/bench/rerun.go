package main

import (
	"context"

	"github.com/gantryhq/gantry/e2e/proxy"
)

// NoopResult is an unchanged rerun: the same deploy command again, counted
// at the proxy.
type NoopResult struct {
	RerunSeconds   float64        `json:"noop_rerun_seconds"`
	RerunCalls     int            `json:"noop_rerun_calls"`
	MutatingCalls  int            `json:"noop_mutating_calls"`
	MutatingByOp   map[string]int `json:"noop_mutating_by_operation"`
	RerunCallsByOp map[string]int `json:"noop_rerun_calls_by_operation"`
}

// RerunResult is the unchanged rerun of the payments rollout (without
// stack operation time).
type RerunResult struct {
	DeploySeconds float64 `json:"deploy_seconds"`
	DeployCalls   int     `json:"deploy_calls"`
	NoopResult
	Goal string `json:"goal"`
}

func deployArgs(file string, extra ...string) []string {
	return deployVersionArgs(file, version, extra...)
}

func deployVersionArgs(file, v string, extra ...string) []string {
	return append([]string{"deploy", file, "--version", v, "--bake", "0s", "--output", "json"}, extra...)
}

func (b *bench) benchRerun(ctx context.Context) (*RerunResult, error) {
	p, err := b.freshProxy(ctx, payments)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	args := deployArgs(payments, "--approve", "prod")
	d, err := b.runGantry(ctx, p.URL(), args...)
	if err != nil {
		return nil, err
	}
	r := &RerunResult{DeploySeconds: d.took.Seconds(), DeployCalls: sum(p.Counts()), Goal: "0 mutating calls"}
	if r.NoopResult, err = b.noopRerun(ctx, p, args); err != nil {
		return nil, err
	}
	return r, nil
}

// noopRerun runs args again through p, counting from zero.
func (b *bench) noopRerun(ctx context.Context, p *proxy.Proxy, args []string) (NoopResult, error) {
	p.ResetCounts()
	d, err := b.runGantry(ctx, p.URL(), args...)
	if err != nil {
		return NoopResult{}, err
	}
	counts := p.Counts()
	mut := proxy.Mutating(counts)
	return NoopResult{
		RerunSeconds:   d.took.Seconds(),
		RerunCalls:     sum(counts),
		MutatingCalls:  sum(mut),
		MutatingByOp:   mut,
		RerunCallsByOp: counts,
	}, nil
}
