package plan_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/plan"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/deploytest"
	desc "github.com/gantryhq/gantry/pkg/descriptor"
	planpkg "github.com/gantryhq/gantry/pkg/plan"
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
    regions: [us-east-1, eu-west-1]
`

func planOverFake(t *testing.T, b *deploytest.Backend, file string, args ...string) (int, string, string) {
	t.Helper()
	f, out, errOut := cmdutil.TestFactory("test")
	f.NewBackend = func(context.Context, *planpkg.Plan, string) (deploy.Backend, error) { return b, nil }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, err := cmdutil.Execute(ctx, plan.NewCmd(f), append([]string{file, "--stage", "dev"}, args...))
	stderr := errOut.String()
	if err != nil {
		stderr += "error: " + err.Error()
	}
	return code, out.String(), stderr
}

func fakeShopFile(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "shop.sd.yaml")
	if err := os.WriteFile(file, []byte(fakeShop), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// A plan over fakes: changes before a deploy (exit 4 with --exit-code),
// none after it (exit 0), and the JSON on one line.
func TestPlanOverFakeExitCodes(t *testing.T) {
	file := fakeShopFile(t)
	b := deploytest.NewBackend("shop")
	code, stdout, stderr := planOverFake(t, b, file, "--version", "1.0.0", "--exit-code", "--output", "json")
	if code != cmdutil.ExitChanges {
		t.Fatalf("exit %d, want %d\n%s", code, cmdutil.ExitChanges, stderr)
	}
	var p deploy.Preview
	if err := json.Unmarshal([]byte(stdout), &p); err != nil || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("not one line of JSON: %v\n%s", err, stdout)
	}
	if p.Version != "1.0.0" || len(p.Regions) != 2 || p.Regions[0].Stacks[0].Action != rollout.ActionCreate {
		t.Fatalf("plan %+v", p)
	}
	if n := len(b.CallsOf("apply")) + len(b.CallsOf("lock")); n != 0 {
		t.Fatalf("the plan applied or locked: %d calls", n)
	}

	d, _ := desc.Parse(file, []byte(fakeShop))
	pl, _ := planpkg.Build(d, nil)
	eng := &deploy.Engine{Backend: b, Clock: deploytest.NewClock(), Logger: slog.New(slog.DiscardHandler)}
	if _, err := eng.Run(context.Background(), deploy.Request{Descriptor: d, Plan: pl, Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := planOverFake(t, b, file, "--exit-code"); code != 0 || !strings.Contains(stdout, "no changes") {
		t.Fatalf("after the deploy: exit %d\n%s%s", code, stdout, stderr)
	}
}

// An error that hits every region is said once, with the regions.
func TestPlanOverFakeGroupsErrors(t *testing.T) {
	b := deploytest.NewBackend("shop")
	b.PreviewErr = func(planpkg.Step, deploy.StackApply) error { return errors.New("Throttling: Rate exceeded") }
	code, _, stderr := planOverFake(t, b, fakeShopFile(t), "--version", "1.0.0")
	if code != 1 || strings.Count(stderr, "Rate exceeded") != 1 || !strings.Contains(stderr, "us-east-1") || !strings.Contains(stderr, "eu-west-1") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

// plan says which alarms the bakes will watch and which are missing.
func TestPlanOverFakeNamesMissingAlarms(t *testing.T) {
	file := filepath.Join(t.TempDir(), "shop.sd.yaml")
	if err := os.WriteFile(file, []byte(fakeShop+"rollout:\n  alarms: [shop-p99, shop-errors]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := deploytest.NewBackend("shop")
	b.Missing = func(step planpkg.Step, names []string) []string {
		if step.Region == "eu-west-1" {
			return []string{"shop-p99"}
		}
		return nil
	}
	code, stdout, stderr := planOverFake(t, b, file, "--version", "1.0.0", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var p deploy.Preview
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Regions {
		want := []string{}
		if r.Region == "eu-west-1" {
			want = []string{"shop-p99"}
		}
		if !strings.Contains(strings.Join(r.Alarms.Watched, ","), "shop-dev-5xx") || !strings.Contains(strings.Join(r.Alarms.Watched, ","), "shop-errors") ||
			strings.Join(r.Alarms.Missing, ",") != strings.Join(want, ",") {
			t.Errorf("%s alarms %+v", r.Region, r.Alarms)
		}
	}
	if p.Summary.MissingAlarms != 1 {
		t.Errorf("summary %+v", p.Summary)
	}
	_, stdout, _ = planOverFake(t, b, file, "--version", "1.0.0")
	if !strings.Contains(stdout, "! missing alarms: shop-p99: gantry deploy refuses to start until they exist") || !strings.Contains(stdout, "1 alarm of rollout.alarms missing") {
		t.Errorf("text:\n%s", stdout)
	}
}
