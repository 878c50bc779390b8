package deploy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// A rollout.alarms alarm missing in one region stops the rollout before
// anything changes, naming the alarm and the region.
func TestMissingRolloutAlarmStopsBeforeAnything(t *testing.T) {
	e := newEnv(t, full)
	e.b.Missing = func(step plan.Step, names []string) []string {
		if step.Stage == "prod" && step.Region == "eu-central-1" && slices.Contains(names, "payments-p99-latency") {
			return []string{"payments-p99-latency"}
		}
		return nil
	}
	_, err := e.eng.Run(context.Background(), deploy.Request{Descriptor: e.d, Plan: e.plan(), Version: "v1"})
	var missing *deploy.MissingAlarmsError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "prod/eu-central-1: alarm payments-p99-latency does not exist") {
		t.Fatalf("err %v, want the missing alarm named with its region", err)
	}
	for _, c := range e.b.Calls() {
		if c.Op != "region" && c.Op != "missing-alarms" {
			t.Errorf("call before the refusal: %+v", c)
		}
	}
}

// An alarm that disappears during the bake fails its region at once: it is
// never read as healthy.
func TestAlarmMissingDuringBakeFails(t *testing.T) {
	e := newEnv(t, full)
	e.b.Missing = func(step plan.Step, names []string) []string {
		// Present at the start; the rendered 5xx alarm goes missing in
		// staging/eu-west-1 once the bake reads it.
		if step.Stage == "staging" && step.Region == "eu-west-1" && slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, "-5xx") }) {
			return []string{"payments-staging-5xx"}
		}
		return nil
	}
	res := e.run("v1", e.plan("staging"))
	rr := region(t, res, "staging", "eu-west-1")
	if res.ExitCode() != 1 || rr.Status != rollout.StatusFailed || !strings.Contains(rr.Error, "payments-staging-5xx does not exist") {
		t.Fatalf("exit %d, eu-west-1 = %+v", res.ExitCode(), rr)
	}
	if len(e.b.CallsOf("baked")) != 1 {
		t.Errorf("%d regions recorded as baked, want only us-east-1", len(e.b.CallsOf("baked")))
	}
}
