package deploy_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// withRelease is a two-region stage whose service has a release task.
const withRelease = header + `jobs:
  migrate:
    command: [bin/migrate]
    beforeDeploy: true
    timeout: 5m
stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1, eu-west-1]
`

// order lists a region's applies and release task runs, in order.
func order(e *env, region string) []string {
	var out []string
	for _, c := range e.b.Calls() {
		if c.Region == region && (c.Op == "apply" || c.Op == "release-task") {
			out = append(out, c.Op+" "+c.Stack)
		}
	}
	return out
}

func TestReleaseTaskRunsBetweenReleaseAndAppStacks(t *testing.T) {
	e := newEnv(t, withRelease)
	var seen []deploy.ReleaseTask
	e.b.Release = func(_ context.Context, _ plan.Step, t deploy.ReleaseTask) (deploy.TaskOutcome, error) {
		seen = append(seen, t)
		return deploy.TaskOutcome{ExitCode: 0, LogTail: []string{"migrated"}}, nil
	}
	res := e.run("2.0.0", e.plan())
	wantStatuses(t, res, map[string]rollout.Status{"dev/us-east-1": rollout.StatusDeployed, "dev/eu-west-1": rollout.StatusDeployed})
	want := []string{"apply payments-dev-data", "apply payments-dev-release", "release-task migrate", "apply payments-dev-app"}
	if got := order(e, "us-east-1"); !slices.Equal(got, want) {
		t.Errorf("us-east-1 did %v, want %v", got, want)
	}
	if len(seen) != 2 || seen[0].Version != "2.0.0" || seen[0].Timeout.Minutes() != 5 || seen[0].RolloutID != "r-2.0.0" {
		t.Errorf("release tasks run: %+v", seen)
	}
	var journaled []string
	for _, j := range e.b.Journal() {
		if j.Step == "release" && j.Region == "us-east-1" {
			journaled = append(journaled, j.Status)
		}
	}
	if !slices.Equal(journaled, []string{"started", "succeeded"}) {
		t.Errorf("journal of the release task: %v", journaled)
	}
}

func TestReleaseTaskFailureStopsTheRegionBeforeTheApp(t *testing.T) {
	e := newEnv(t, withRelease)
	fail := atomic.Bool{}
	fail.Store(true)
	e.b.Release = func(_ context.Context, step plan.Step, t deploy.ReleaseTask) (deploy.TaskOutcome, error) {
		if fail.Load() && step.Region == "us-east-1" {
			return deploy.TaskOutcome{ExitCode: 3, LogTail: []string{"applying 0042_users", "ERROR: column exists"}}, nil
		}
		return deploy.TaskOutcome{}, nil
	}
	res := e.run("2.0.0", e.plan())
	rr := region(t, res, "dev", "us-east-1")
	if rr.Status != rollout.StatusFailed || !strings.Contains(rr.Error, "release task migrate exited 3") ||
		!strings.Contains(rr.Error, "ERROR: column exists") || !strings.Contains(rr.Error, "the app stack was not changed") {
		t.Errorf("us-east-1: %s %q", rr.Status, rr.Error)
	}
	if got := order(e, "us-east-1"); slices.Contains(got, "apply payments-dev-app") {
		t.Errorf("the app stack was applied after a failed release task: %v", got)
	}
	if res.Result != rollout.Failed {
		t.Errorf("rollout %s", res.Result)
	}
	// Fixed (the same version): the rerun runs the task again and goes on;
	// the region where it succeeded does not run it again.
	fail.Store(false)
	before := len(e.b.CallsOf("release-task"))
	res = e.run("2.0.0", e.plan())
	if region(t, res, "dev", "us-east-1").Status != rollout.StatusDeployed {
		t.Errorf("rerun: %+v", res.Regions)
	}
	var runs []string
	for _, c := range e.b.CallsOf("release-task")[before:] {
		runs = append(runs, c.Region)
	}
	if !slices.Contains(runs, "us-east-1") {
		t.Errorf("the fixed rerun did not run the release task in us-east-1: %v", runs)
	}
	skipped := false
	for _, j := range e.b.Journal() {
		skipped = skipped || (j.Step == "release" && j.Status == "skipped" && j.Region == "eu-west-1")
	}
	if eu := region(t, res, "dev", "eu-west-1"); eu.Status == rollout.StatusDeployed && !skipped {
		t.Errorf("eu-west-1 ran its release task again")
	}
}

func TestPlanSaysAReleaseTaskWillRun(t *testing.T) {
	e := newEnv(t, withRelease)
	p := e.plan()
	pv, err := e.eng.Preview(context.Background(), deploy.PreviewRequest{Descriptor: e.d, Plan: p, Stage: "dev", Version: "2.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	notes := func() string {
		var out []string
		for _, s := range pv.Regions[0].Stacks {
			out = append(out, s.Notes...)
		}
		return strings.Join(out, "\n")
	}
	if !strings.Contains(notes(), "release task migrate will run once with version 2.0.0") {
		t.Errorf("plan notes: %s", notes())
	}
	e.run("2.0.0", p)
	pv, err = e.eng.Preview(context.Background(), deploy.PreviewRequest{Descriptor: e.d, Plan: p, Stage: "dev", Version: "2.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes(), "already succeeded for version 2.0.0") {
		t.Errorf("plan notes after the deploy: %s", notes())
	}
}
