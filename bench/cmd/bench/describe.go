package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gantryhq/gantry/e2e/proxy"
)

// describeOps are the stack operation times the describe calls are counted
// at (issue 5: a 10 s operation and a 60 s one).
func describeOps() []time.Duration { return []time.Duration{10 * time.Second, 60 * time.Second} }

// describeFormula says what describe_calls_per_stack_* are.
const describeFormula = "(DescribeStacks + DescribeStackEvents + DescribeChangeSet requests at the proxy during one gantry deploy of a one-region, one-stack service from nothing) / stack operations (ExecuteChangeSet requests, 1)"

// DescribeResult is the describe calls gantry makes per stack operation.
type DescribeResult struct {
	Formula string        `json:"formula"`
	Runs    []DescribeRun `json:"runs"`
}

// DescribeRun is one deploy of the probe service.
type DescribeRun struct {
	Service               string         `json:"service"`
	StackOperationSeconds float64        `json:"stack_operation_seconds"`
	WallSeconds           float64        `json:"wall_seconds"`
	StackOperations       int            `json:"stack_operations"`
	DescribeStacks        int            `json:"describe_stacks"`
	DescribeStackEvents   int            `json:"describe_stack_events"`
	DescribeChangeSet     int            `json:"describe_change_set"`
	PerStack              float64        `json:"describe_calls_per_stack"`
	CallsByOp             map[string]int `json:"calls_by_operation"`
}

// benchDescribe deploys a copy of bench/testdata/probe.sd.yaml per stack
// operation time, side by side, each through its own proxy (so each count
// is its own). They share an account and region, so one bootstrap serves
// both; the emulator is not reset (the caller did).
func (b *bench) benchDescribe(ctx context.Context) (*DescribeResult, error) {
	src, err := os.ReadFile(probe)
	if err != nil {
		return nil, err
	}
	ops := describeOps()
	files := make([]string, len(ops))
	for i, op := range ops {
		name := fmt.Sprintf("probe-%ds", int(op.Seconds()))
		files[i] = filepath.Join(b.tmp, name+".sd.yaml")
		text := strings.Replace(string(src), "\nservice: probe\n", "\nservice: "+name+"\n", 1)
		if err := os.WriteFile(files[i], []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	first, err := b.bootstrapped(ctx, files[0])
	if err != nil {
		return nil, err
	}
	proxies := []*proxy.Proxy{first}
	defer func() {
		for _, p := range proxies {
			p.Close()
		}
	}()
	for range ops[1:] {
		p, err := b.newProxy()
		if err != nil {
			return nil, err
		}
		proxies = append(proxies, p)
	}

	res := &DescribeResult{Formula: describeFormula, Runs: make([]DescribeRun, len(ops))}
	errs := make([]error, len(ops))
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Go(func() {
			p := proxies[i]
			p.SetStackDuration(op)
			run, err := b.runGantry(ctx, p.URL(), deployArgs(files[i])...)
			if err != nil {
				errs[i] = err
				return
			}
			c := p.Counts()
			r := DescribeRun{
				Service:               strings.TrimSuffix(filepath.Base(files[i]), ".sd.yaml"),
				StackOperationSeconds: op.Seconds(),
				WallSeconds:           run.took.Seconds(),
				StackOperations:       c["cloudformation:ExecuteChangeSet"],
				DescribeStacks:        c["cloudformation:DescribeStacks"],
				DescribeStackEvents:   c["cloudformation:DescribeStackEvents"],
				DescribeChangeSet:     c["cloudformation:DescribeChangeSet"],
				CallsByOp:             c,
			}
			if r.StackOperations != 1 {
				errs[i] = fmt.Errorf("%s: %d stack operations, want 1", r.Service, r.StackOperations)
				return
			}
			r.PerStack = float64(r.DescribeStacks+r.DescribeStackEvents+r.DescribeChangeSet) / float64(r.StackOperations)
			res.Runs[i] = r
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}
