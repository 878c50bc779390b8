package rollback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/rollback"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/deploytest"
	desc "github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/prompt"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

const fakeShop = `schemaVersion: 1
service: shop
team: test
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/shop
compute: {cpu: 256, memory: 512, port: 8080, healthcheck: /healthz}
routing: {path: /shop/*}
stages:
  - name: dev
    account: "220000000001"
    regions: [us-east-1]
`

// overFake is a descriptor and an in-memory backend on which versions were
// deployed, in order, by the engine.
type overFake struct {
	file string
	b    *deploytest.Backend
}

func newOverFake(t *testing.T, versions ...string) *overFake {
	t.Helper()
	file := filepath.Join(t.TempDir(), "shop.sd.yaml")
	if err := os.WriteFile(file, []byte(fakeShop), 0o644); err != nil {
		t.Fatal(err)
	}
	d, probs := desc.Parse(file, []byte(fakeShop))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	p, err := plan.Build(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	fk := &overFake{file: file, b: deploytest.NewBackend("shop")}
	eng := &deploy.Engine{Backend: fk.b, Clock: deploytest.NewClock(), Logger: slog.New(slog.DiscardHandler)}
	for _, v := range versions {
		if res, err := eng.Run(context.Background(), deploy.Request{Descriptor: d, Plan: p, Version: v}); err != nil || res.Result != rollout.Succeeded {
			t.Fatalf("deploying %s: %v %+v", v, err, res)
		}
	}
	return fk
}

func (fk *overFake) run(t *testing.T, p prompt.Prompter, args ...string) (int, string, string) {
	t.Helper()
	f, out, errOut := cmdutil.TestFactory("test")
	f.Prompter = p
	f.NewBackend = func(context.Context, *plan.Plan, string) (deploy.Backend, error) { return fk.b, nil }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, err := cmdutil.Execute(ctx, rollback.NewCmd(f), append([]string{fk.file, "--stage", "dev", "--region", "us-east-1"}, args...))
	stderr := errOut.String()
	if err != nil {
		stderr += "error: " + err.Error()
	}
	return code, out.String(), stderr
}

func (fk *overFake) running(t *testing.T) string {
	t.Helper()
	app := fk.b.RegionOf(plan.Step{Stage: "dev", Region: "us-east-1"}).Stack(naming.Stack("shop", "dev", naming.App))
	return app.Tags[render.TagVersion]
}

func TestRollbackOverFakeAsksOnATerminal(t *testing.T) {
	fk := newOverFake(t, "1.0.0", "1.1.0")
	no := &prompt.Answers{Replies: []bool{false}}
	if code, _, stderr := fk.run(t, no); code != 1 || !strings.Contains(stderr, "rollback cancelled") || fk.running(t) != "1.1.0" {
		t.Fatalf("declined: exit %d, running %s\n%s", code, fk.running(t), stderr)
	}
	if len(no.Asked) != 1 || no.Asked[0] != "Roll shop/dev/us-east-1 back from 1.1.0 to 1.0.0?" {
		t.Fatalf("asked %q", no.Asked)
	}
	if fk.b.Locked("dev") {
		t.Fatal("a declined rollback kept the lock")
	}
	yes := &prompt.Answers{Replies: []bool{true}}
	code, stdout, stderr := fk.run(t, yes)
	if code != 0 || !strings.HasPrefix(stdout, "rolled back: shop/dev/us-east-1 from 1.1.0 to 1.0.0") || fk.running(t) != "1.0.0" {
		t.Fatalf("exit %d, running %s\n%s%s", code, fk.running(t), stdout, stderr)
	}
}

func TestRollbackOverFakeWithoutATerminal(t *testing.T) {
	fk := newOverFake(t, "1.0.0", "1.1.0")
	code, stdout, stderr := fk.run(t, &prompt.Answers{NoTerminal: true}, "--output", "json")
	if code != 0 || !strings.Contains(stderr, "no terminal: rolling back without asking") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var res rollout.Result
	if err := json.Unmarshal(bytes.TrimSpace([]byte(stdout)), &res); err != nil || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("not one line of JSON: %v\n%s", err, stdout)
	}
	if res.Version != "1.0.0" || res.RolloutID == "" || res.Regions[0].Status != rollout.StatusRolledBack {
		t.Fatalf("JSON %+v", res)
	}
	var fromTo struct{ From, To string }
	if err := json.Unmarshal([]byte(stdout), &fromTo); err != nil || fromTo.From != "1.1.0" || fromTo.To != "1.0.0" {
		t.Fatalf("from %q to %q (%v), want 1.1.0 to 1.0.0", fromTo.From, fromTo.To, err)
	}
}

func TestRollbackOverFakeUnknownVersionListsRecorded(t *testing.T) {
	fk := newOverFake(t, "1.0.0", "1.1.0")
	code, _, stderr := fk.run(t, nil, "--to", "0.9.0", "--yes")
	if code != 2 || !strings.Contains(stderr, "version 0.9.0 was never deployed") || !strings.Contains(stderr, "1.0.0") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

func TestRollbackOverFakeLockedFails(t *testing.T) {
	fk := newOverFake(t, "1.0.0", "1.1.0")
	fk.b.HoldLock("dev", "r-other")
	code, _, stderr := fk.run(t, nil, "--yes")
	if code != 1 || !strings.Contains(stderr, "r-other") || fk.running(t) != "1.1.0" {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}
