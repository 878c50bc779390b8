package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// AWSCLIResult is the 13-region rollout done as a pipeline script without
// gantry would: aws cloudformation deploy, one region after another.
type AWSCLIResult struct {
	Version               string         `json:"awscli_version"`
	Command               string         `json:"command"`
	StackOperationSeconds float64        `json:"stack_operation_seconds"`
	Regions               int            `json:"regions"`
	Stacks                int            `json:"stacks"`
	WallSeconds           float64        `json:"wall_seconds"`
	SecondsPerStack       float64        `json:"seconds_per_stack"`
	Calls                 int            `json:"calls"`
	CallsByOp             map[string]int `json:"calls_by_operation"`
}

// benchAWSCLI deploys the fleet descriptor's rendered templates with
// bench/awscli-rollout through a fresh proxy with the same stack operation
// time as gantry's rollout, after a bootstrap (the caller reset the
// emulator), so both start from nothing.
func (b *bench) benchAWSCLI(ctx context.Context) (*AWSCLIResult, error) {
	aws, err := filepath.Abs(b.cfg.aws)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(aws); err != nil {
		return nil, fmt.Errorf("the pinned AWS CLI is missing (bench/run installs it into .venv-bench): %w", err)
	}
	_, pl, err := loadPlan(fleet)
	if err != nil {
		return nil, err
	}
	if len(pl.Stages) != 1 {
		return nil, fmt.Errorf("%s: want one stage, have %d", fleet, len(pl.Stages))
	}
	stage := pl.Stages[0].Name
	dir := filepath.Join(b.tmp, "awscli-render")
	if err := quiet(ctx, b.gantry, "render", fleet, "--out", dir, "--version", version); err != nil {
		return nil, fmt.Errorf("gantry render: %w", err)
	}
	stacks, err := filepath.Glob(filepath.Join(dir, stage, "*", "*.template.json"))
	if err != nil {
		return nil, err
	}

	p, err := b.bootstrapped(ctx, fleet)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	p.SetStackDuration(b.cfg.stackOp)

	args := []string{p.URL(), filepath.Join(dir, stage)}
	for _, s := range pl.Steps() {
		args = append(args, s.Region)
	}
	cmd := exec.CommandContext(ctx, "bench/awscli-rollout", args...)
	cmd.Env = append(awsEnv(), "PATH="+filepath.Dir(aws)+string(os.PathListSeparator)+os.Getenv("PATH"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("bench/awscli-rollout: %w\n%s", err, tail(out.String(), 30))
	}
	counts := p.Counts()
	if n := counts["cloudformation:ExecuteChangeSet"]; n != len(stacks) {
		return nil, fmt.Errorf("the AWS CLI executed %d change sets for %d stacks\n%s", n, len(stacks), tail(out.String(), 30))
	}
	return &AWSCLIResult{
		Version:               firstLine(output(ctx, aws, "--version")),
		Command:               "bench/awscli-rollout ENDPOINT DIR " + strings.Join(args[2:], " "),
		StackOperationSeconds: b.cfg.stackOp.Seconds(),
		Regions:               len(pl.Steps()),
		Stacks:                len(stacks),
		WallSeconds:           took.Seconds(),
		SecondsPerStack:       took.Seconds() / float64(len(stacks)),
		Calls:                 sum(counts),
		CallsByOp:             counts,
	}, nil
}
