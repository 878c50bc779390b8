package gate_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/deploytest"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/gate"
	"github.com/gantryhq/gantry/pkg/gate/flagd"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/progress"
	"github.com/gantryhq/gantry/pkg/rollout"
)

const engineDescriptor = `schemaVersion: 1
service: payments
team: pay
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments
compute: {cpu: 512, memory: 1024, port: 8080}
routing: {path: /payments/*}
stages:
  - name: prod
    account: "777788889999"
    waves:
      - regions: [us-east-1, eu-west-1, us-west-2]
      - regions: [eu-central-1]
rollout:
  gate: payments-deploy-gate
  halt: deploy-halt
`

const closedForEUWest1 = `{"flags": {
  "payments-deploy-gate": {"state": "ENABLED", "variants": {"open": true, "closed": false}, "defaultVariant": "open",
    "targeting": {"if": [{"==": [{"var": "region"}, "eu-west-1"]}, "closed", null]}},
  "deploy-halt": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}}}`

const allOpen = `{"flags": {
  "payments-deploy-gate": {"state": "ENABLED", "variants": {"open": true, "closed": false}, "defaultVariant": "open"},
  "deploy-halt": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}}}`

// The engine with this package's gate over a flag file: a region held by a
// closed gate while the rest of its wave deploys, then opened by editing
// the file during --gate-wait. The poll interval is an hour, so only the
// provider's configuration-changed event can wake the wait.
// The gate is what the engine takes: checked here, since pkg/gate itself
// must not import pkg/deploy.
var (
	_ deploy.Gate        = (*gate.Gate)(nil)
	_ deploy.GateWatcher = (*gate.Gate)(nil)
)

func TestEngineGateWaitWakesOnFileChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flags.json")
	if err := os.WriteFile(path, []byte(closedForEUWest1), 0o644); err != nil {
		t.Fatal(err)
	}
	client, closeFn, err := gate.Open(context.Background(), "file:"+path, gate.OpenOptions{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	d, probs := descriptor.Parse("payments.sd.yaml", []byte(engineDescriptor))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	p, err := plan.Build(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	var evals []gate.Evaluation
	evCh := make(chan gate.Evaluation, 100)
	g := gate.New(client, d, gate.Options{OnEvaluation: func(e gate.Evaluation) { evCh <- e }})
	defer g.Close()

	rec := &progress.Recorder{}
	b := deploytest.NewBackend(d.Service)
	b.RulePriority = "120"
	eng := &deploy.Engine{Backend: b, Gate: g, Observer: rec, GatePoll: time.Hour, BakePoll: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)}

	// Open the gate once eu-west-1 has been seen closed.
	go func() {
		for e := range evCh {
			if e.Kind == gate.KindGate && strings.HasSuffix(e.TargetingKey, "/eu-west-1") && e.Outcome == "closed" {
				time.Sleep(100 * time.Millisecond)
				_ = os.WriteFile(path, []byte(allOpen), 0o644)
				return
			}
		}
	}()
	zero := time.Duration(0)
	start := time.Now()
	res, err := eng.Run(context.Background(), deploy.Request{Descriptor: d, Plan: p, Version: "v1", RolloutID: "r-1",
		GateWait: 2 * time.Hour, BakeOverride: &zero})
	if err != nil {
		t.Fatal(err)
	}
	close(evCh)
	for e := range evCh {
		evals = append(evals, e)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the rollout took %s: the wait did not wake on the change", took)
	}
	if res.ExitCode() != 0 {
		t.Fatalf("exit %d: %+v", res.ExitCode(), res.Regions)
	}
	for _, rr := range res.Regions {
		if rr.Status != rollout.StatusDeployed {
			t.Errorf("%s/%s: %s %s", rr.Stage, rr.Region, rr.Status, rr.Error)
		}
	}
	var gateEntries int
	for _, e := range b.Journal() {
		if e.Step == "gate" {
			gateEntries++
			// Each evaluation is journaled: flag, context, value, variant, reason.
			for _, k := range []string{"flag", "value", "variant", "reason", "context.region", "context.version", "context.rolloutId"} {
				if e.Attrs[k] == "" {
					t.Errorf("gate journal entry lacks %s: %v", k, e.Attrs)
				}
			}
		}
	}
	if gateEntries < 5 {
		t.Errorf("journal has %d gate entries, want one per check (≥ 5)", gateEntries)
	}
}

// A missing gate flag holds every region instead of deploying it.
func TestEngineMissingFlagHolds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flags.json")
	if err := os.WriteFile(path, []byte(`{"flags": {"deploy-halt": {"state": "ENABLED", "variants": {"off": false}, "defaultVariant": "off"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	client, closeFn, err := gate.Open(context.Background(), "file:"+path, gate.OpenOptions{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	d, _ := descriptor.Parse("payments.sd.yaml", []byte(engineDescriptor))
	p, _ := plan.Build(d, nil)
	b := deploytest.NewBackend(d.Service)
	b.RulePriority = "120"
	eng := &deploy.Engine{Backend: b, Gate: gate.New(client, d, gate.Options{}), Observer: &progress.Recorder{}, Logger: slog.New(slog.DiscardHandler)}
	zero := time.Duration(0)
	res, err := eng.Run(context.Background(), deploy.Request{Descriptor: d, Plan: p, Version: "v1", RolloutID: "r-1", BakeOverride: &zero})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode() != 3 {
		t.Fatalf("exit %d, want 3 (held)", res.ExitCode())
	}
	if n := len(b.CallsOf("apply")); n != 0 {
		t.Errorf("%d stacks applied; a missing flag must hold, not deploy", n)
	}
	for _, rr := range res.Regions {
		if rr.Status == rollout.StatusDeployed {
			t.Errorf("%s deployed", rr.Region)
		}
		if rr.Status == rollout.StatusHeld && !strings.Contains(rr.Error, "FLAG_NOT_FOUND") {
			t.Errorf("%s held without the reason: %q", rr.Region, rr.Error)
		}
	}
}

func TestOpenSpecs(t *testing.T) {
	ctx := context.Background()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, _, err := gate.Open(ctx, "", gate.OpenOptions{Getenv: env(nil)})
	if !errors.Is(err, gate.ErrNoProvider) {
		t.Errorf("no spec: %v", err)
	}
	var se *gate.SpecError
	if _, _, err := gate.Open(ctx, "consul", gate.OpenOptions{Getenv: env(nil)}); !errors.As(err, &se) {
		t.Errorf("bad spec: %v", err)
	}
	if _, _, err := gate.Open(ctx, "launchdarkly", gate.OpenOptions{Getenv: env(nil)}); !errors.As(err, &se) || !strings.Contains(err.Error(), "LAUNCHDARKLY_SDK_KEY") {
		t.Errorf("launchdarkly without key: %v", err)
	}
	var le *flagd.LoadError
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte("{\"flags\": {\n  \"g\": {\"state\": \"on\"}}}"), 0o644)
	if _, _, err := gate.Open(ctx, "", gate.OpenOptions{Getenv: env(map[string]string{"GANTRY_FLAGS": "file:" + bad})}); !errors.As(err, &le) || !strings.Contains(err.Error(), "bad.json:2:") {
		t.Errorf("bad file through GANTRY_FLAGS: %v", err)
	}
	client, closeFn, err := gate.Open(ctx, "file:testdata/policies.flagd.json", gate.OpenOptions{Getenv: env(map[string]string{"GANTRY_FLAGS": "launchdarkly"})})
	if err != nil {
		t.Fatalf("--flags wins over GANTRY_FLAGS: %v", err)
	}
	defer closeFn()
	if v := client.Boolean(ctx, "eu-only", false, gate.Context(req("prod", "eu-west-1"))); !v {
		t.Error("eu-only should be on for eu-west-1")
	}
}
