package gate_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/gate"
	"github.com/gantryhq/gantry/pkg/rollout"
)

func clientFor(t *testing.T, p of.FeatureProvider) *of.Client {
	t.Helper()
	api := isolated.NewAPI()
	t.Cleanup(func() { _ = api.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := api.SetProviderAndWait(ctx, p); err != nil {
		t.Fatal(err)
	}
	return api.NewClient()
}

func desc(gateFlag, haltFlag string) *descriptor.Descriptor {
	return &descriptor.Descriptor{Service: "payments", Team: "pay", Rollout: descriptor.Rollout{Gate: gateFlag, Halt: haltFlag}}
}

func req(stage, region string) rollout.GateRequest {
	return rollout.GateRequest{Service: "payments", Team: "pay", Stage: stage, Region: region,
		Account: "777788889999", Version: "1.4.2", RolloutID: "r-1", Wave: 2}
}

// regionFlag is a boolean flag that is on exactly for the listed regions.
func regionFlag(key string, regions ...string) memprovider.InMemoryFlag {
	eval := memprovider.ContextEvaluator(ptr(func(f memprovider.InMemoryFlag, ctx of.FlattenedContext) (any, of.ProviderResolutionDetail) {
		for _, r := range regions {
			if ctx["region"] == r {
				return true, of.ProviderResolutionDetail{Reason: of.TargetingMatchReason, Variant: "on"}
			}
		}
		return false, of.ProviderResolutionDetail{Reason: of.DefaultReason, Variant: "off"}
	}))
	return memprovider.InMemoryFlag{Key: key, State: memprovider.Enabled, DefaultVariant: "off",
		Variants: map[string]any{"on": true, "off": false}, ContextEvaluator: eval}
}

func ptr[T any](v T) *T { return &v }

func staticFlag(key string, v any) memprovider.InMemoryFlag {
	return memprovider.InMemoryFlag{Key: key, State: memprovider.Enabled, DefaultVariant: "v", Variants: map[string]any{"v": v}}
}

func TestNoFlagsAlwaysOpen(t *testing.T) {
	g := gate.New(nil, desc("", ""), gate.Options{})
	dec, err := g.Check(context.Background(), req("prod", "us-east-1"))
	if err != nil || !dec.Open {
		t.Fatalf("%+v %v", dec, err)
	}
	h, _, err := g.Halted(context.Background(), req("prod", "us-east-1"))
	if err != nil || h {
		t.Fatalf("halted %v %v", h, err)
	}
}

func TestGateOpensOnlyTargetedRegions(t *testing.T) {
	p := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"deploy-gate": regionFlag("deploy-gate", "eu-west-1", "eu-central-1"),
	})
	g := gate.New(clientFor(t, p), desc("deploy-gate", ""), gate.Options{})
	ctx := context.Background()
	for region, open := range map[string]bool{"eu-west-1": true, "eu-central-1": true, "us-east-1": false} {
		dec, err := g.Check(ctx, req("prod", region))
		if err != nil || dec.Open != open {
			t.Errorf("%s: %+v %v, want open=%t", region, dec, err, open)
		}
		if !strings.Contains(dec.Reason, `"deploy-gate"`) || !strings.Contains(dec.Reason, "payments/prod/"+region) {
			t.Errorf("%s: reason %q names neither flag nor targeting key", region, dec.Reason)
		}
	}
}

func TestContextAttributes(t *testing.T) {
	var got of.FlattenedContext
	var mu sync.Mutex
	eval := memprovider.ContextEvaluator(ptr(func(f memprovider.InMemoryFlag, ctx of.FlattenedContext) (any, of.ProviderResolutionDetail) {
		mu.Lock()
		got = ctx
		mu.Unlock()
		return true, of.ProviderResolutionDetail{Reason: of.TargetingMatchReason, Variant: "on"}
	}))
	p := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"g": {Key: "g", State: memprovider.Enabled, DefaultVariant: "on", Variants: map[string]any{"on": true}, ContextEvaluator: eval},
	})
	g := gate.New(clientFor(t, p), desc("g", ""), gate.Options{})
	if _, err := g.Check(context.Background(), req("prod", "us-west-2")); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"targetingKey": "payments/prod/us-west-2", "service": "payments", "team": "pay", "stage": "prod",
		"region": "us-west-2", "wave": 2, "version": "1.4.2", "account": "777788889999", "rolloutId": "r-1",
	}
	mu.Lock()
	defer mu.Unlock()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("context[%s] = %#v, want %#v", k, got[k], v)
		}
	}
}

func TestFailClosed(t *testing.T) {
	errReason := memprovider.ContextEvaluator(ptr(func(f memprovider.InMemoryFlag, ctx of.FlattenedContext) (any, of.ProviderResolutionDetail) {
		return true, of.ProviderResolutionDetail{Reason: of.ErrorReason}
	}))
	p := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"string-flag": staticFlag("string-flag", "yes"),
		"error-reason": {Key: "error-reason", State: memprovider.Enabled, DefaultVariant: "on",
			Variants: map[string]any{"on": true}, ContextEvaluator: errReason},
	})
	client := clientFor(t, p)
	for _, c := range []struct{ flag, code string }{
		{"missing-flag", "FLAG_NOT_FOUND"},
		{"string-flag", "TYPE_MISMATCH"},
		{"error-reason", "GENERAL"},
	} {
		var seen gate.Evaluation
		g := gate.New(client, desc(c.flag, c.flag), gate.Options{OnEvaluation: func(e gate.Evaluation) { seen = e }})
		dec, err := g.Check(context.Background(), req("prod", "us-east-1"))
		var ee *gate.EvalError
		if dec.Open || !errors.As(err, &ee) || !strings.Contains(dec.Reason, c.code) || !strings.Contains(dec.Reason, "failing closed") {
			t.Errorf("gate %s: %+v %v", c.flag, dec, err)
		}
		if !seen.Failed || seen.ErrorCode != c.code || seen.Outcome != "closed" {
			t.Errorf("gate %s evaluation: %+v", c.flag, seen)
		}
		halted, why, err := g.Halted(context.Background(), req("prod", "us-east-1"))
		if !halted || err == nil || !strings.Contains(why, c.code) {
			t.Errorf("halt %s: %v %q %v", c.flag, halted, why, err)
		}
	}
}

// blockingProvider never finishes initialising: the client is NOT_READY.
type blockingProvider struct {
	of.NoopProvider
	release chan struct{}
}

func (b *blockingProvider) Init(of.EvaluationContext) error { <-b.release; return nil }
func (b *blockingProvider) Shutdown()                       {}

func TestProviderNotReadyHolds(t *testing.T) {
	api := isolated.NewAPI()
	bp := &blockingProvider{release: make(chan struct{})}
	defer func() { close(bp.release); _ = api.Shutdown(context.Background()) }()
	if err := api.SetProvider(context.Background(), bp); err != nil {
		t.Fatal(err)
	}
	g := gate.New(api.NewClient(), desc("g", ""), gate.Options{})
	dec, err := g.Check(context.Background(), req("prod", "us-east-1"))
	if dec.Open || err == nil || !strings.Contains(dec.Reason, "PROVIDER_NOT_READY") {
		t.Fatalf("%+v %v", dec, err)
	}
}

func TestNoClientHolds(t *testing.T) {
	g := gate.New(nil, desc("g", "h"), gate.Options{})
	dec, err := g.Check(context.Background(), req("prod", "us-east-1"))
	if dec.Open || err == nil || !strings.Contains(dec.Reason, "--flags") {
		t.Fatalf("%+v %v", dec, err)
	}
	if h, _, err := g.Halted(context.Background(), req("prod", "us-east-1")); !h || err == nil {
		t.Fatalf("halted %v %v", h, err)
	}
}

func TestHalt(t *testing.T) {
	p := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"halt": staticFlag("halt", false),
	})
	g := gate.New(clientFor(t, p), desc("", "halt"), gate.Options{})
	if h, why, err := g.Halted(context.Background(), req("prod", "us-east-1")); h || err != nil {
		t.Fatalf("halted %v %q %v", h, why, err)
	}
	p.UpdateFlags(map[string]memprovider.InMemoryFlag{"halt": staticFlag("halt", true)})
	h, why, err := g.Halted(context.Background(), req("prod", "us-east-1"))
	if !h || err != nil || !strings.Contains(why, `"halt" is true`) {
		t.Fatalf("halted %v %q %v", h, why, err)
	}
}

func TestChangedFiresOnConfigurationChange(t *testing.T) {
	p := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{"g": staticFlag("g", false)})
	g := gate.New(clientFor(t, p), desc("g", ""), gate.Options{})
	defer g.Close()
	ch := g.Changed()
	select {
	case <-ch:
		t.Fatal("changed before any change")
	default:
	}
	p.UpdateFlags(map[string]memprovider.InMemoryFlag{"g": staticFlag("g", true)})
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Changed did not fire")
	}
	dec, err := g.Check(context.Background(), req("prod", "us-east-1"))
	if err != nil || !dec.Open {
		t.Fatalf("%+v %v", dec, err)
	}
	if g.Changed() == ch {
		t.Error("Changed should hand out a fresh channel after firing")
	}
}

func TestEvaluationsAreLogged(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	p := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{"g": regionFlag("g", "eu-west-1")})
	var evs []gate.Evaluation
	g := gate.New(clientFor(t, p), desc("g", ""), gate.Options{Logger: log, OnEvaluation: func(e gate.Evaluation) { evs = append(evs, e) }})
	_, _ = g.Check(context.Background(), req("prod", "eu-west-1"))
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{`"flag":"g"`, `"targetingKey":"payments/prod/eu-west-1"`, `"value":true`, `"variant":"on"`, `"reason":"TARGETING_MATCH"`, `"region":"eu-west-1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %s lacks %s", out, want)
		}
	}
	if len(evs) != 1 || evs[0].Outcome != "open" || evs[0].Attrs()["variant"] != "on" {
		t.Errorf("evaluations %+v", evs)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// One gate evaluation through the file provider, for the record.
func BenchmarkCheckFileProvider(b *testing.B) {
	client, closeFn, err := gate.Open(context.Background(), "file:testdata/policies.flagd.json", gate.OpenOptions{PollInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	g := gate.New(client, desc("eu-only", ""), gate.Options{})
	r := req("prod", "eu-west-1")
	b.ResetTimer()
	for range b.N {
		if _, err := g.Check(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDisabledFlags(t *testing.T) {
	p := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"g": {Key: "g", State: memprovider.Disabled, DefaultVariant: "on", Variants: map[string]any{"on": true}},
		"h": {Key: "h", State: memprovider.Disabled, DefaultVariant: "on", Variants: map[string]any{"on": true}},
	})
	g := gate.New(clientFor(t, p), desc("g", "h"), gate.Options{})
	dec, err := g.Check(context.Background(), req("prod", "us-east-1"))
	if err != nil || dec.Open || !strings.Contains(dec.Reason, "DISABLED") {
		t.Errorf("disabled gate: %+v %v", dec, err)
	}
	if h, why, err := g.Halted(context.Background(), req("prod", "us-east-1")); h || err != nil {
		t.Errorf("disabled halt: %v %q %v", h, why, err)
	}
}

// Issue 10: every journaled gate evaluation (Decision.Attrs) carries the
// flag's metadata, the fractional algorithm that decided and which rule
// branch did.
func TestAttrsCarryMetadataAlgorithmAndExplain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flags.json")
	src := `{"metadata": {"owner": "release", "fractionalAlgorithm": "v3"}, "flags": {"gate": {"state": "ENABLED",
	  "variants": {"open": true, "closed": false}, "defaultVariant": "closed", "metadata": {"policy": "split"},
	  "targeting": {"if": [{"==": [{"var": "stage"}, "prod"]}, {"fractional": [["open", 1], ["closed", 0]]}, "closed"]}}}}`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	client, closeFn, err := gate.Open(context.Background(), "file:"+path, gate.OpenOptions{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	g := gate.New(client, desc("gate", ""), gate.Options{})
	defer g.Close()
	dec, err := g.Check(context.Background(), req("prod", "eu-west-1"))
	if err != nil || !dec.Open {
		t.Fatalf("%+v %v", dec, err)
	}
	for k, want := range map[string]string{"metadata.owner": "release", "metadata.policy": "split",
		"metadata.fractionalAlgorithm": "v3", "fractional": "v3"} {
		if dec.Attrs[k] != want {
			t.Errorf("Attrs[%q] = %q, want %q (%v)", k, dec.Attrs[k], want, dec.Attrs)
		}
	}
	if !strings.Contains(dec.Attrs["explain"], `condition 1 {"==":[{"var":"stage"},"prod"]} held`) {
		t.Errorf("explain %q", dec.Attrs["explain"])
	}
	if !strings.Contains(dec.Reason, "fractional v3") {
		t.Errorf("the reason must name the algorithm: %s", dec.Reason)
	}
}
