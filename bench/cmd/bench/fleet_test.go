package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gantryhq/gantry/internal/emulatortest"
)

// The short form of the fleet benchmark, in CI (issue 15): five services
// deployed at once into one account, then updated at once, 10 s stack
// operations, through one proxy enforcing CloudFormation's quotas. Every
// rollout must succeed: a rollout failed by throttling fails the test,
// and so does a run in which nothing was throttled (it would prove
// nothing). About a minute; bench/run runs the long form (1, 5 and 20 at
// once, 10 s and 60 s).
func TestFleetUnderQuotaShort(t *testing.T) {
	chdirRepo(t)
	emu := emulatortest.Start(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "gantry")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/gantry").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b := &bench{
		cfg:      config{fleetSizes: []int{5}, fleetOps: []time.Duration{10 * time.Second}},
		tmp:      tmp,
		gantry:   bin,
		emulator: emu.Endpoint,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := b.benchQuotaFleet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	throttled := 0
	for _, s := range res.Series {
		for _, r := range s.Rounds {
			t.Logf("%s, %.0f s operations: %d/%d succeeded, slowest %.1f s (critical path %.0f s), %d requests throttled %v, notice median %.2f s, p95 %.2f s, %.1f describe calls per stack-minute",
				r.Name, s.StackOperationSeconds, r.Succeeded, r.Rollouts, r.SlowestSeconds, s.CriticalPathSeconds, r.Throttled, r.ThrottledByOp,
				r.NoticeMedianSeconds, r.NoticeP95Seconds, r.DescribePerStackMin)
			throttled += r.Throttled
			for _, o := range r.Outcomes {
				if o.Exit != 0 || o.Result != "succeeded" {
					cause := ""
					if throttlingIn(o.Error) {
						cause = " -- failed by throttling"
					}
					t.Errorf("%s: %s ended %s (exit %d)%s: %s", r.Name, o.Service, o.Result, o.Exit, cause, o.Error)
				}
			}
			if r.NotNoticed > 0 {
				t.Errorf("%s: %d stack operations whose end no DescribeStacks answer reported", r.Name, r.NotNoticed)
			}
		}
	}
	if throttled == 0 {
		t.Error("no request was throttled: the short form no longer exercises the quota")
	}
}
