package run_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/run"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/deploytest"
	"github.com/gantryhq/gantry/pkg/plan"
)

const shop = `schemaVersion: 1
service: shop
team: test
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/shop
compute: {cpu: 256, memory: 512}
jobs:
  nightly-report:
    schedule: rate(1 day)
    command: [bin/report]
    timeout: 20m
  migrate:
    command: [bin/migrate]
    beforeDeploy: true
stages:
  - name: dev
    account: "220000000001"
    regions: [us-east-1, eu-west-1]
`

func gantryRun(t *testing.T, b *deploytest.Backend, args ...string) (int, string, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "shop.sd.yaml")
	if err := os.WriteFile(file, []byte(shop), 0o644); err != nil {
		t.Fatal(err)
	}
	f, out, errOut := cmdutil.TestFactory("v0.0.0-test")
	f.NewBackend = func(context.Context, *plan.Plan, string) (deploy.Backend, error) { return b, nil }
	code, err := cmdutil.Execute(context.Background(), run.NewCmd(f), append([]string{file}, args...))
	stderr := errOut.String()
	if err != nil {
		stderr += "error: " + err.Error()
	}
	return code, out.String(), stderr
}

func TestRunStreamsTheLogAndExitsWithTheTasksCode(t *testing.T) {
	b := deploytest.NewBackend("shop")
	var got deploy.JobRun
	b.RunJob = func(_ context.Context, step plan.Step, r deploy.JobRun) (deploy.TaskOutcome, error) {
		got = r
		if step.Region != "eu-west-1" {
			t.Errorf("ran in %s", step.Region)
		}
		return deploy.TaskOutcome{TaskARN: "arn:task/1", ExitCode: 7, LogTail: []string{"report for 2026-08-27", "\x1b[31mfailed\x1b[0m"}}, nil
	}
	code, stdout, stderr := gantryRun(t, b, "nightly-report", "--stage", "dev", "--region", "eu-west-1", "--version", "1.2.3")
	if code != 7 {
		t.Errorf("exit %d, want the task's 7\n%s", code, stderr)
	}
	if got.Job != "nightly-report" || got.Release || got.Version != "1.2.3" || got.Timeout != 20*time.Minute {
		t.Errorf("job run %+v", got)
	}
	if stdout != "report for 2026-08-27\n\\x1b[31mfailed\\x1b[0m\n" {
		t.Errorf("stdout %q: want the log lines, escaped", stdout)
	}
	if !strings.Contains(stderr, "job nightly-report exited 7 (task arn:task/1)") {
		t.Errorf("stderr %q", stderr)
	}
}

func TestRunAReleaseTaskAndSuccess(t *testing.T) {
	b := deploytest.NewBackend("shop")
	var got deploy.JobRun
	b.RunJob = func(_ context.Context, _ plan.Step, r deploy.JobRun) (deploy.TaskOutcome, error) {
		got = r
		return deploy.TaskOutcome{}, nil
	}
	if code, _, stderr := gantryRun(t, b, "migrate", "--stage", "dev", "--region", "us-east-1"); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !got.Release || got.Version != "" || got.Timeout != time.Hour {
		t.Errorf("job run %+v", got)
	}
}

func TestRunRefusals(t *testing.T) {
	b := deploytest.NewBackend("shop")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"migrat", "--stage", "dev", "--region", "us-east-1"}, 2, `did you mean "migrate"?`},
		{[]string{"nope-nope-nope", "--stage", "dev", "--region", "us-east-1"}, 2, "the jobs of stage dev are migrate, nightly-report"},
		{[]string{"migrate", "--region", "us-east-1"}, 2, "--stage is required"},
		{[]string{"migrate", "--stage", "dev"}, 2, "--region is required"},
		{[]string{"migrate", "--stage", "dev", "--region", "ap-south-1"}, 2, "ap-south-1"},
		{[]string{"migrate", "--stage", "dev", "--region", "us-east-1", "--version", "-bad"}, 2, "--version"},
	} {
		code, _, stderr := gantryRun(t, b, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.msg)
		}
	}
	b.RunJob = func(context.Context, plan.Step, deploy.JobRun) (deploy.TaskOutcome, error) {
		return deploy.TaskOutcome{ExitCode: -1, Reason: "CannotPullContainerError", TaskARN: "arn:t"}, nil
	}
	if code, _, stderr := gantryRun(t, b, "migrate", "--stage", "dev", "--region", "us-east-1"); code != 1 || !strings.Contains(stderr, "did not run: CannotPullContainerError") {
		t.Errorf("a task that did not start: exit %d, %q", code, stderr)
	}
	if n := len(b.CallsOf("run-job")); n != 1 {
		t.Errorf("%d jobs run; the refused invocations must run none", n)
	}
}
