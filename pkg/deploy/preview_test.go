package deploy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

func (e *env) preview(stage, version string) *deploy.Preview {
	e.t.Helper()
	p, err := e.eng.Preview(context.Background(), deploy.PreviewRequest{Descriptor: e.d, Plan: e.plan(stage), Stage: stage, Version: version})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// A preview asks the backend about exactly the stacks, parameters and tags
// a deploy of the same version applies, and changes nothing.
func TestPreviewAsksWhatADeployWouldApply(t *testing.T) {
	e := newEnv(t, full)
	before := e.preview("staging", "1.0.0")
	if before.Version != "1.0.0" || len(before.Regions) != 2 || !before.HasChanges() {
		t.Fatalf("preview %+v", before)
	}
	for _, r := range before.Regions {
		if r.Error != "" || len(r.Stacks) != 2 || r.Stacks[0].Kind != naming.Data || r.Stacks[1].Action != rollout.ActionCreate {
			t.Fatalf("region %+v", r)
		}
	}
	if n := len(e.b.CallsOf("apply")) + len(e.b.CallsOf("lock")); n != 0 {
		t.Fatalf("a preview applied or locked (%d calls)", n)
	}
	previewed := map[string]string{}
	for _, c := range e.b.CallsOf("preview") {
		previewed[c.Region+"/"+c.Stack] = c.Version
	}
	e.run("1.0.0", e.plan("staging"))
	for _, c := range appliesOf(e.b, "staging") {
		if v, ok := previewed[c.Region+"/"+c.Stack]; !ok || v != c.Version {
			t.Errorf("deploy applied %s/%s at %q; the preview asked %q (%v)", c.Region, c.Stack, c.Version, v, ok)
		}
	}
	after := e.preview("staging", "1.0.0")
	if after.HasChanges() || after.Summary.Changes != 0 {
		t.Fatalf("after the deploy the preview still has changes: %+v", after)
	}
}

// Without a version, each region previews the version it runs, so only
// descriptor changes show.
func TestPreviewDefaultsToTheRunningVersion(t *testing.T) {
	e := newEnv(t, full)
	if got := e.preview("dev", "").Version; got != render.DefaultVersion {
		t.Fatalf("a new region previews %q, want %q", got, render.DefaultVersion)
	}
	e.run("2.0.0", e.plan("dev"))
	p := e.preview("dev", "")
	if p.Version != "2.0.0" || p.HasChanges() {
		t.Fatalf("preview %+v", p)
	}
}

func TestPreviewErrorsStayInTheirRegion(t *testing.T) {
	e := newEnv(t, full)
	e.b.PreviewErr = func(step plan.Step, a deploy.StackApply) error {
		if step.Region == "eu-west-1" && a.Kind == naming.App {
			return errors.New("throttled")
		}
		return nil
	}
	p := e.preview("staging", "1.0.0")
	if p.Summary.Errors != 1 {
		t.Fatalf("summary %+v", p.Summary)
	}
	for _, r := range p.Regions {
		switch r.Region {
		case "eu-west-1":
			if !strings.Contains(r.Error, "throttled") || len(r.Stacks) != 1 {
				t.Fatalf("eu-west-1: %+v", r)
			}
		default:
			if r.Error != "" || len(r.Stacks) != 2 {
				t.Fatalf("%s: %+v", r.Region, r)
			}
		}
	}
}

func TestPreviewRefusesWhatCannotRenderBeforeAnyCall(t *testing.T) {
	e := newEnv(t, full)
	_, err := e.eng.Preview(context.Background(), deploy.PreviewRequest{Descriptor: e.d, Plan: e.plan("dev"), Stage: "dev", Version: "bad version!"})
	if err == nil {
		t.Fatal("no error for a version that cannot render")
	}
	if n := len(e.b.Calls()); n != 0 {
		t.Fatalf("%d backend calls before refusing", n)
	}
}
