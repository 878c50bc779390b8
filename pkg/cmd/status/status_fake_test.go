package status_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	deploycmd "github.com/gantryhq/gantry/pkg/cmd/deploy"
	"github.com/gantryhq/gantry/pkg/cmd/status"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/deploytest"
	"github.com/gantryhq/gantry/pkg/plan"
)

// fake runs commands in-process over one in-memory backend and a fake
// clock, without AWS.
type fake struct {
	f           *cmdutil.Factory
	out, errOut *bytes.Buffer
	b           *deploytest.Backend
	clock       *deploytest.Clock
}

func newFake(service string) *fake {
	f, out, errOut := cmdutil.TestFactory("v0.0.0-test")
	fk := &fake{f: f, out: out, errOut: errOut, b: deploytest.NewBackend(service), clock: deploytest.NewClock()}
	fk.b.Clock = fk.clock
	f.NewBackend = func(context.Context, *plan.Plan, string) (deploy.Backend, error) { return fk.b, nil }
	f.Getenv = func(string) string { return "" }
	f.Now = fk.clock.Now
	return fk
}

func (fk *fake) run(t *testing.T, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (int, string, string) {
	t.Helper()
	fk.out.Reset()
	fk.errOut.Reset()
	code, err := cmdutil.Execute(context.Background(), newCmd(fk.f), args)
	stderr := fk.errOut.String()
	if err != nil {
		stderr += "error: " + err.Error()
	}
	return code, fk.out.String(), stderr
}

// statusFake is the watcher descriptor over a fake where dev runs 1.0.0
// and is locked by another rollout, prod's rollout is held for approval,
// and qa was never bootstrapped.
func statusFake(t *testing.T) (*fake, string) {
	t.Helper()
	fk := newFake("watcher")
	file := descriptor(t)
	if code, _, stderr := fk.run(t, deploycmd.NewCmd, file, "--stage", "dev", "--version", "1.0.0", "--bake", "0s"); code != 0 {
		t.Fatalf("deploy dev: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := fk.run(t, deploycmd.NewCmd, file, "--stage", "prod", "--version", "1.0.0", "--bake", "0s"); code != 3 {
		t.Fatalf("deploy prod without approval: exit %d, want 3\n%s", code, stderr)
	}
	fk.b.HoldLock("dev", "20250101T000000.000Z-locker")
	fk.b.RecordsErr = func(stage string) error {
		if stage == "qa" {
			return fmt.Errorf("stage qa: %w %q", deploy.ErrNoStateTable, "gantry-state")
		}
		return nil
	}
	fk.clock.Advance(90 * time.Second)
	return fk, file
}

func TestStatusOverFakesJSON(t *testing.T) {
	t.Parallel()
	fk, file := statusFake(t)
	code, stdout, stderr := fk.run(t, status.NewCmd, file, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var s status.Status
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("stdout is not the JSON status: %v\n%s", err, stdout)
	}
	start := deploytest.NewClock().Now()

	dev := stage(t, s, "dev")
	r := dev.Regions[0]
	if r.Version == nil || *r.Version != "1.0.0" || r.Status != "CREATE_COMPLETE" || r.UpdatedAt == nil || !r.UpdatedAt.Equal(start) || r.Rollout != "deployed" {
		t.Errorf("dev/us-east-1: %+v", r)
	}
	if l := dev.Lock; l == nil || l.RolloutID != "20250101T000000.000Z-locker" || l.Owner != "test@host pid 1" || l.Expired {
		t.Errorf("dev lock %+v", dev.Lock)
	}
	if ro := dev.Rollout; ro == nil || ro.Status != "succeeded" || ro.Version != "1.0.0" {
		t.Errorf("dev rollout %+v", dev.Rollout)
	}

	prod := stage(t, s, "prod")
	if ro := prod.Rollout; ro == nil || ro.Status != "held" || !strings.Contains(ro.Reason, "--approve prod") || prod.Lock != nil {
		t.Errorf("prod rollout %+v lock %+v", prod.Rollout, prod.Lock)
	}
	for _, r := range prod.Regions {
		if r.Status != status.NotDeployed || r.Version != nil || r.Rollout != "held" {
			t.Errorf("prod/%s: %+v", r.Region, r)
		}
	}

	qa := stage(t, s, "qa")
	if !qa.NoStateTable || qa.Error != "" || qa.Lock != nil || qa.Rollout != nil {
		t.Errorf("qa: %+v", qa)
	}
	if !strings.Contains(stderr, `note: stage qa has no state table "gantry-state" in account 220000000003`) {
		t.Errorf("stderr lacks the qa note: %q", stderr)
	}
}

func TestStatusOverFakesText(t *testing.T) {
	t.Parallel()
	fk, file := statusFake(t)
	code, stdout, stderr := fk.run(t, status.NewCmd, file)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	text := squeeze(stdout)
	for _, want := range []string{
		"STAGE ACCOUNT REGION WAVE VERSION STATUS LAST DEPLOY",
		"dev 220000000001 us-east-1 1 1.0.0 CREATE_COMPLETE 2025-01-01 00:00:00Z (1m ago)",
		"prod 220000000002 eu-west-1 1 - not deployed -",
		"qa 220000000003 us-west-2 1 - not deployed -",
		"dev: locked by test@host pid 1 (rollout 20250101T000000.000Z-locker, version -) until 2025-01-01 00:06:30Z (in 5m0s)",
		"prod: rollout ",
		// The record's times are the engine's clock, the real one.
		"held since 20",
		": stage prod needs approval: run again with --approve prod (run the deploy again to resume)",
		"eu-west-1 held: stage prod needs approval",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "stage qa has no state table") {
		t.Errorf("stderr: %q", stderr)
	}
}

// A region or state table that cannot be read is shown and exits 1.
func TestStatusOverFakesReadErrors(t *testing.T) {
	t.Parallel()
	fk, file := statusFake(t)
	fk.b.CurrentErr = func(step plan.Step) error {
		if step.Stage == "prod" && step.Region == "us-east-1" {
			return errors.New("AccessDenied: not allowed")
		}
		return nil
	}
	fk.b.RecordsErr = func(stage string) error {
		if stage == "dev" {
			return errors.New("throttled")
		}
		return nil
	}
	code, stdout, stderr := fk.run(t, status.NewCmd, file, "--output", "json")
	if code != 1 || !strings.Contains(stderr, "could not read 2 places") || !strings.Contains(stderr, "AccessDenied: not allowed (prod/us-east-1)") || !strings.Contains(stderr, "throttled (dev state table)") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var s status.Status
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	if r := stage(t, s, "prod").Regions[1]; r.Status != "UNKNOWN" || !strings.Contains(r.Error, "AccessDenied") {
		t.Errorf("prod/us-east-1: %+v", r)
	}
	if dev := stage(t, s, "dev"); dev.Error != "throttled" || dev.NoStateTable || dev.Regions[0].Version == nil {
		t.Errorf("dev: %+v", dev)
	}
}
