package status_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/internal/cmdtest"
	"github.com/gantryhq/gantry/pkg/cmd/bootstrap"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	deploycmd "github.com/gantryhq/gantry/pkg/cmd/deploy"
	"github.com/gantryhq/gantry/pkg/cmd/status"
	"github.com/gantryhq/gantry/pkg/rollout"
	"github.com/gantryhq/gantry/pkg/state"
)

func TestMain(m *testing.M) { cmdtest.Main(m) }

// run runs one command in-process against the emulator.
func run(t *testing.T, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (int, string, string) {
	t.Helper()
	r := cmdtest.Exec(t, newCmd, args...)
	if r.Err != nil {
		r.Stderr += "error: " + r.Err.Error()
	}
	return r.Code, r.Stdout, r.Stderr
}

func mustRun(t *testing.T, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (string, string) {
	t.Helper()
	code, stdout, stderr := run(t, newCmd, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
	}
	return stdout, stderr
}

// squeeze collapses runs of spaces, so table rows compare whatever the
// column widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func statusJSON(t *testing.T, file string) (status.Status, string) {
	t.Helper()
	stdout, _ := mustRun(t, status.NewCmd, file, "--output", "json")
	var s status.Status
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("stdout is not the JSON status: %v\n%s", err, stdout)
	}
	return s, stdout
}

func stage(t *testing.T, s status.Status, name string) status.Stage {
	t.Helper()
	for _, st := range s.Stages {
		if st.Stage == name {
			return st
		}
	}
	t.Fatalf("no stage %s in %+v", name, s)
	return status.Stage{}
}

// store is the state table of a stage, reached as gantry reaches it.
func store(t *testing.T, account, region string) *state.Store {
	t.Helper()
	return state.New(dynamodb.NewFromConfig(cmdtest.InAccount(t, cmdtest.Context(t), account, region)), state.DefaultTable)
}

const (
	devAccount  = "220000000001"
	prodAccount = "220000000002"
	qaAccount   = "220000000003"
)

// descriptor writes a small web service with a dev stage (one region), a
// prod stage needing approval (two waves) and a qa stage nobody
// bootstrapped.
func descriptor(t *testing.T) string {
	t.Helper()
	text := fmt.Sprintf(`schemaVersion: 1
service: watcher
team: test
description: gantry status test service
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/watcher
compute:
  cpu: 256
  memory: 512
  port: 8080
  healthcheck: /healthz
scaling:
  min: 1
  max: 2
  cpuTarget: 60
routing:
  path: /watcher/*
stages:
  - name: dev
    account: "%s"
    regions: [us-east-1]
  - name: prod
    account: "%s"
    approval: true
    waves:
      - regions: [eu-west-1]
      - regions: [us-east-1]
  - name: qa
    account: "%s"
    regions: [us-west-2]
`, devAccount, prodAccount, qaAccount)
	path := filepath.Join(t.TempDir(), "watcher.sd.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStatus(t *testing.T) {
	file := descriptor(t)
	mustRun(t, bootstrap.NewCmd, file, "--stage", "dev", "--demo-platform")
	mustRun(t, bootstrap.NewCmd, file, "--stage", "prod")

	t.Run("nothing deployed", func(t *testing.T) {
		s, raw := statusJSON(t, file)
		if s.Service != "watcher" || len(s.Stages) != 3 {
			t.Fatalf("status %+v", s)
		}
		for _, st := range s.Stages {
			if st.Lock != nil || st.Rollout != nil || st.Error != "" {
				t.Errorf("%s: lock %+v rollout %+v error %q", st.Stage, st.Lock, st.Rollout, st.Error)
			}
			for _, r := range st.Regions {
				if r.Status != status.NotDeployed || r.Version != nil || r.UpdatedAt != nil || r.Error != "" {
					t.Errorf("%s/%s: %+v", st.Stage, r.Region, r)
				}
			}
		}
		if qa := stage(t, s, "qa"); !qa.NoStateTable {
			t.Errorf("qa was never bootstrapped: %+v", qa)
		}
		prod := stage(t, s, "prod")
		if prod.Account != prodAccount || len(prod.Regions) != 2 || prod.Regions[0].Region != "eu-west-1" || prod.Regions[1].Wave != 2 {
			t.Errorf("prod: %+v", prod)
		}
		if !strings.Contains(raw, `"lock":null,"rollout":null`) || !strings.Contains(raw, `"version":null,"status":"NOT_DEPLOYED","updatedAt":null`) {
			t.Errorf("JSON shape: %s", raw)
		}

		stdout, stderr := mustRun(t, status.NewCmd, file)
		for _, want := range []string{"STAGE ACCOUNT REGION WAVE VERSION STATUS LAST DEPLOY", "prod 220000000002 eu-west-1 1 - not deployed -"} {
			if !strings.Contains(squeeze(stdout), want) {
				t.Errorf("text lacks %q:\n%s", want, stdout)
			}
		}
		if !strings.Contains(stderr, `stage qa has no state table "gantry-state" in account 220000000003`) {
			t.Errorf("stderr: %q", stderr)
		}
	})

	t.Run("after a deploy", func(t *testing.T) {
		start := time.Now()
		mustRun(t, deploycmd.NewCmd, file, "--stage", "dev", "--version", "1.0.0", "--bake", "0s")
		s, _ := statusJSON(t, file)
		dev := stage(t, s, "dev")
		r := dev.Regions[0]
		if r.Region != "us-east-1" || r.Version == nil || *r.Version != "1.0.0" || r.Status != "CREATE_COMPLETE" || r.Error != "" {
			t.Fatalf("dev/us-east-1: %+v", r)
		}
		if r.UpdatedAt == nil || r.UpdatedAt.Before(start.Add(-time.Minute)) || r.UpdatedAt.After(time.Now().Add(time.Minute)) {
			t.Errorf("updatedAt %v, want about %v", r.UpdatedAt, start)
		}
		if ro := dev.Rollout; ro == nil || ro.Status != "succeeded" || ro.Version != "1.0.0" || ro.ID == "" || dev.Lock != nil {
			t.Errorf("dev rollout %+v lock %+v", ro, dev.Lock)
		}
		if p := stage(t, s, "prod"); p.Regions[0].Status != status.NotDeployed {
			t.Errorf("prod: %+v", p.Regions)
		}

		mustRun(t, deploycmd.NewCmd, file, "--stage", "dev", "--version", "1.1.0", "--bake", "0s")
		stdout, _ := mustRun(t, status.NewCmd, file)
		if !strings.Contains(squeeze(stdout), "dev 220000000001 us-east-1 1 1.1.0 UPDATE_COMPLETE 20") {
			t.Errorf("text after the second deploy:\n%s", stdout)
		}
		// A succeeded rollout is shown too (issue 16): status --help says
		// it shows the latest rollout of every stage.
		if !strings.Contains(stdout, "dev: rollout ") || !strings.Contains(stdout, "(version 1.1.0, by ") || !strings.Contains(stdout, ") succeeded at ") {
			t.Errorf("no line for the succeeded rollout:\n%s", stdout)
		}
	})

	t.Run("lock held", func(t *testing.T) {
		st := store(t, devAccount, "us-east-1")
		lease, err := st.Acquire(cmdtest.Context(t), state.LockRequest{
			Service: "watcher", Stage: "dev", Owner: "ci@runner-7 pid 4242",
			RolloutID: "20990101T000000.000Z-abcdef", Version: "1.2.0", TTL: 10 * time.Minute,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer lease.Release(context.Background())

		s, _ := statusJSON(t, file)
		l := stage(t, s, "dev").Lock
		if l == nil || l.Owner != "ci@runner-7 pid 4242" || l.RolloutID != "20990101T000000.000Z-abcdef" || l.Version != "1.2.0" || l.Expired {
			t.Fatalf("lock %+v", l)
		}
		if d := time.Until(l.ExpiresAt); d < 8*time.Minute || d > 11*time.Minute {
			t.Errorf("expires in %s, want about 10m", d)
		}
		stdout, _ := mustRun(t, status.NewCmd, file, "--stage", "dev")
		if !strings.Contains(stdout, "dev: locked by ci@runner-7 pid 4242 (rollout 20990101T000000.000Z-abcdef, version 1.2.0) until ") {
			t.Errorf("text does not name the holder:\n%s", stdout)
		}
		if strings.Contains(stdout, "prod") {
			t.Errorf("--stage dev shows prod:\n%s", stdout)
		}
	})

	t.Run("held rollout", func(t *testing.T) {
		// prod needs approval: without --approve the rollout holds (exit 3)
		// and deploys nothing.
		code, _, stderr := run(t, deploycmd.NewCmd, file, "--stage", "prod", "--version", "1.0.0", "--bake", "0s")
		if code != 3 {
			t.Fatalf("deploy without --approve: exit %d, want 3\n%s", code, stderr)
		}
		s, _ := statusJSON(t, file)
		for _, r := range stage(t, s, "prod").Regions {
			if r.Status != status.NotDeployed {
				t.Errorf("prod/%s deployed by a held rollout: %+v", r.Region, r)
			}
		}

		// The engine records a held stage (a closed gate, or an approval
		// once it records those) as the stage's latest rollout; status
		// shows it.
		const reason = "stage prod needs approval: run again with --approve prod"
		err := store(t, prodAccount, "eu-west-1").PutRollout(cmdtest.Context(t), state.Rollout{
			Service: "watcher", Stage: "prod", ID: rollout.NewID(time.Now()), Version: "1.0.0",
			Status: state.RolloutHeld, Owner: "alice@laptop pid 7", HeldReason: reason,
			Regions: map[string]string{"eu-west-1": "held", "us-east-1": "pending"},
		})
		if err != nil {
			t.Fatal(err)
		}
		s, _ = statusJSON(t, file)
		ro := stage(t, s, "prod").Rollout
		if ro == nil || ro.Status != "held" || ro.Reason != reason || ro.Version != "1.0.0" || ro.Owner != "alice@laptop pid 7" {
			t.Fatalf("prod rollout %+v", ro)
		}
		stdout, _ := mustRun(t, status.NewCmd, file)
		if !strings.Contains(stdout, "prod: rollout "+ro.ID+" (version 1.0.0, by alice@laptop pid 7) held since ") ||
			!strings.Contains(stdout, reason+" (run the deploy again to resume)") {
			t.Errorf("text does not show the held rollout:\n%s", stdout)
		}

		// A rollout recorded as running without a live lock has stopped.
		err = store(t, prodAccount, "eu-west-1").PutRollout(cmdtest.Context(t), state.Rollout{
			Service: "watcher", Stage: "prod", ID: rollout.NewID(time.Now().Add(time.Second)), Version: "1.0.1",
			Status: state.RolloutRunning, Owner: "bob@ci pid 9",
		})
		if err != nil {
			t.Fatal(err)
		}
		stdout, _ = mustRun(t, status.NewCmd, file, "--stage", "prod")
		if !strings.Contains(stdout, "stopped while running") || !strings.Contains(stdout, "run the same deploy again to resume") {
			t.Errorf("text does not flag the stopped rollout:\n%s", stdout)
		}
	})
}

func TestStatusUsage(t *testing.T) {
	t.Parallel()
	file := descriptor(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{file, "--output", "yaml"}, `invalid value "yaml" for --output`},
		{[]string{file, "--stage", "staging"}, `no stage "staging"`},
		{nil, "needs one descriptor FILE"},
		{[]string{"missing.sd.yaml"}, "missing.sd.yaml"},
	} {
		code, stdout, stderr := run(t, status.NewCmd, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and %q", tc.args, code, stderr, stdout, tc.want)
		}
	}
	if status.NewCmd(&cmdutil.Factory{}).Example == "" {
		t.Error("status needs an Example")
	}
}

// A read error is said once, in the command's error, not in every row.
func TestTextDoesNotRepeatErrors(t *testing.T) {
	const msg = "CloudFormation DescribeStacks: AccessDenied: not authorized"
	s := &status.Status{Service: "watcher", Stages: []status.Stage{{
		Stage: "dev", Account: devAccount, Error: msg,
		Regions: []status.Region{{Region: "us-east-1", Wave: 1, Status: "UNKNOWN", Error: msg}, {Region: "eu-west-1", Wave: 1, Status: "UNKNOWN", Error: msg}},
	}}}
	text := status.Text(s, time.Now(), false)
	if strings.Contains(text, "AccessDenied") || strings.Count(text, "could not read") != 3 {
		t.Errorf("text repeats the error or hides where it hit:\n%s", text)
	}
}
