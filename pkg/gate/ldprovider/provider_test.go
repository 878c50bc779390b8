package ldprovider_test

import (
	"context"
	"testing"
	"time"

	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ld "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/ldcomponents"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/gate"
	"github.com/gantryhq/gantry/pkg/gate/ldprovider"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// setup builds a real LaunchDarkly client over the SDK's test data source
// (offline: no network, no key) and an OpenFeature client over it.
func setup(t *testing.T) (*ldtestdata.TestDataSource, *of.Client) {
	t.Helper()
	td := ldtestdata.DataSource()
	td.Update(td.Flag("payments-deploy-gate").BooleanFlag().
		IfMatch("region", ldvalue.String("eu-west-1"), ldvalue.String("eu-central-1")).ThenReturn(true).
		FallthroughVariation(false))
	td.Update(td.Flag("deploy-halt").BooleanFlag().VariationForAll(false))
	td.Update(td.Flag("off-flag").BooleanFlag().On(false).OffVariation(false))
	td.Update(td.Flag("service-flag").BooleanFlag().
		IfMatchContext(ldcontext.Kind("service"), "team", ldvalue.String("pay")).ThenReturn(true).FallthroughVariation(false))
	td.Update(td.Flag("targeted").BooleanFlag().VariationForUser("payments/prod/us-east-1", true).FallthroughVariation(false))
	td.Update(td.Flag("string-flag").ValueForAll(ldvalue.String("hello")))
	td.Update(td.Flag("int-flag").ValueForAll(ldvalue.Int(42)))
	td.Update(td.Flag("float-flag").ValueForAll(ldvalue.Float64(0.5)))
	td.Update(td.Flag("object-flag").ValueForAll(ldvalue.ObjectBuild().Set("limit", ldvalue.Int(3)).Build()))
	cfg := ld.Config{DataSource: td, Events: ldcomponents.NoEvents(), Logging: ldcomponents.NoLogging()}
	client, err := ld.MakeCustomClient("test-sdk-key", cfg, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	api := isolated.NewAPI()
	t.Cleanup(func() { _ = api.Shutdown(context.Background()) })
	if err := api.SetProviderAndWait(context.Background(), ldprovider.New(client, ldprovider.Options{})); err != nil {
		t.Fatal(err)
	}
	return td, api.NewClient()
}

func req(region string) rollout.GateRequest {
	return rollout.GateRequest{Service: "payments", Team: "pay", Stage: "prod", Region: region, Account: "777788889999", Version: "1.0.0", RolloutID: "r", Wave: 1}
}

func TestReasonsAndVariants(t *testing.T) {
	_, client := setup(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, flag string
		ec         of.EvaluationContext
		value      bool
		reason     of.Reason
		variant    string
		code       of.ErrorCode
	}{
		{"rule match", "payments-deploy-gate", gate.Context(req("eu-west-1")), true, of.TargetingMatchReason, "0", ""},
		{"fallthrough", "payments-deploy-gate", gate.Context(req("us-east-1")), false, of.DefaultReason, "1", ""},
		{"target match", "targeted", gate.Context(req("us-east-1")), true, of.TargetingMatchReason, "0", ""},
		{"off", "off-flag", gate.Context(req("us-east-1")), false, of.DisabledReason, "1", ""},
		{"not found", "nope", gate.Context(req("us-east-1")), true, of.ErrorReason, "", of.FlagNotFoundCode},
		{"wrong type", "string-flag", gate.Context(req("us-east-1")), true, of.ErrorReason, "", of.TypeMismatchCode},
		{"no key", "payments-deploy-gate", of.NewTargetlessEvaluationContext(map[string]any{"region": "eu-west-1"}), true, of.ErrorReason, "", of.TargetingKeyMissingCode},
		{"kind attribute", "service-flag", of.NewEvaluationContext("payments", map[string]any{"kind": "service", "team": "pay"}), true, of.TargetingMatchReason, "0", ""},
		{"kind defaults to user", "service-flag", of.NewEvaluationContext("payments", map[string]any{"team": "pay"}), false, of.DefaultReason, "1", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, _ := client.BooleanValueDetails(ctx, c.flag, true, c.ec)
			if d.Value != c.value || d.Reason != c.reason || d.Variant != c.variant || d.ErrorCode != c.code {
				t.Errorf("got %v %s %q %s (%s)", d.Value, d.Reason, d.Variant, d.ErrorCode, d.ErrorMessage)
			}
		})
	}
}

func TestTypes(t *testing.T) {
	_, client := setup(t)
	ctx := context.Background()
	ec := of.NewEvaluationContext("k", nil)
	if v, err := client.StringValue(ctx, "string-flag", "x", ec); err != nil || v != "hello" {
		t.Errorf("string %q %v", v, err)
	}
	if v, err := client.IntValue(ctx, "int-flag", 1, ec); err != nil || v != 42 {
		t.Errorf("int %d %v", v, err)
	}
	if v, err := client.FloatValue(ctx, "float-flag", 1, ec); err != nil || v != 0.5 {
		t.Errorf("float %v %v", v, err)
	}
	if d, err := client.IntValueDetails(ctx, "float-flag", 1, ec); err == nil || d.ErrorCode != of.TypeMismatchCode {
		t.Errorf("0.5 as int: %+v %v", d, err)
	}
	if v, err := client.ObjectValue(ctx, "object-flag", nil, ec); err != nil || v.(map[string]any)["limit"] != 3.0 {
		t.Errorf("object %#v %v", v, err)
	}
}

// The gate over LaunchDarkly: region rules hold and open, and a flag
// update reaches Changed().
func TestGateOverLaunchDarkly(t *testing.T) {
	td, client := setup(t)
	d := &descriptor.Descriptor{Service: "payments", Rollout: descriptor.Rollout{Gate: "payments-deploy-gate", Halt: "deploy-halt"}}
	g := gate.New(client, d, gate.Options{})
	defer g.Close()
	ctx := context.Background()
	if dec, err := g.Check(ctx, req("eu-west-1")); err != nil || !dec.Open {
		t.Fatalf("eu-west-1: %+v %v", dec, err)
	}
	if dec, err := g.Check(ctx, req("us-east-1")); err != nil || dec.Open {
		t.Fatalf("us-east-1: %+v %v", dec, err)
	}
	changed := g.Changed()
	td.Update(td.Flag("payments-deploy-gate").BooleanFlag().VariationForAll(true))
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no configuration change from LaunchDarkly")
	}
	if dec, err := g.Check(ctx, req("us-east-1")); err != nil || !dec.Open {
		t.Fatalf("us-east-1 after the update: %+v %v", dec, err)
	}
	td.Update(td.Flag("deploy-halt").BooleanFlag().VariationForAll(true))
	if h, _, err := g.Halted(ctx, req("us-east-1")); !h || err != nil {
		t.Fatalf("halt: %v %v", h, err)
	}
}

// Issue 10: a rollout's context reaches LaunchDarkly as a multi-kind
// context, so a rule can target the region context or the service context;
// the user context of the targeting key stays for rules written before.
func TestMultiKindRolloutContext(t *testing.T) {
	td, client := setup(t)
	td.Update(td.Flag("region-gate").BooleanFlag().
		IfMatchContext(ldprovider.KindRegion, "key", ldvalue.String("eu-west-1")).ThenReturn(true).FallthroughVariation(false))
	td.Update(td.Flag("service-in-prod").BooleanFlag().
		IfMatchContext(ldprovider.KindService, "key", ldvalue.String("payments")).
		AndMatchContext(ldprovider.KindRegion, "stage", ldvalue.String("prod")).
		AndMatchContext(ldprovider.KindService, "version", ldvalue.String("1.0.0")).ThenReturn(true).FallthroughVariation(false))
	td.Update(td.Flag("deployment").BooleanFlag().
		IfMatchContext(ldprovider.KindRegion, "deployment", ldvalue.String("payments/prod/us-east-1")).ThenReturn(true).FallthroughVariation(false))
	ctx := context.Background()
	other := req("eu-west-1")
	other.Service = "billing"
	for _, c := range []struct {
		name, flag string
		r          rollout.GateRequest
		want       bool
	}{
		{"region key", "region-gate", req("eu-west-1"), true},
		{"other region", "region-gate", req("us-east-1"), false},
		{"service and stage", "service-in-prod", req("us-east-1"), true},
		{"other service", "service-in-prod", other, false},
		{"deployment attribute", "deployment", req("us-east-1"), true},
		{"user context kept", "payments-deploy-gate", req("eu-west-1"), true},
	} {
		d, err := client.BooleanValueDetails(ctx, c.flag, false, gate.Context(c.r))
		if err != nil || d.Value != c.want {
			t.Errorf("%s: %v %s %v", c.name, d.Value, d.Reason, err)
		}
	}
	lc, rerr := ldprovider.Context(gate.Context(req("eu-west-1")).Attributes())
	if rerr == nil {
		t.Fatalf("flattened context without targeting key must fail: %v", lc)
	}
	flat := of.FlattenedContext{"targetingKey": "payments/prod/eu-west-1"}
	for k, v := range gate.Context(req("eu-west-1")).Attributes() {
		flat[k] = v
	}
	lc, rerr = ldprovider.Context(flat)
	if rerr != nil || !lc.Multiple() || lc.IndividualContextCount() != 3 {
		t.Fatalf("want user, service and region: %v %v", lc, rerr)
	}
	if r := lc.IndividualContextByKind(ldprovider.KindRegion); r.Key() != "eu-west-1" || r.GetValue("stage").StringValue() != "prod" {
		t.Errorf("region context %v", r)
	}
	if s := lc.IndividualContextByKind(ldprovider.KindService); s.Key() != "payments" || s.GetValue("team").StringValue() != "pay" {
		t.Errorf("service context %v", s)
	}
}

// A hand-written multi-kind context ({"kind": "multi", KIND: {...}}), as
// `flags eval --context` takes it.
func TestExplicitMultiKindContext(t *testing.T) {
	td, client := setup(t)
	td.Update(td.Flag("region-gate").BooleanFlag().
		IfMatchContext(ldprovider.KindRegion, "key", ldvalue.String("eu-west-1")).ThenReturn(true).FallthroughVariation(false))
	ec := of.NewTargetlessEvaluationContext(map[string]any{"kind": "multi",
		"region": map[string]any{"key": "eu-west-1", "stage": "prod"}, "service": map[string]any{"key": "payments"}})
	d, err := client.BooleanValueDetails(context.Background(), "region-gate", false, ec)
	if err != nil || !d.Value || d.FlagMetadata["gantry.explain"] != "RULE_MATCH rule 0 (id rule0)" {
		t.Errorf("%+v %v", d, err)
	}
	bad := of.NewTargetlessEvaluationContext(map[string]any{"kind": "multi", "region": map[string]any{"stage": "prod"}})
	if d, _ := client.BooleanValueDetails(context.Background(), "region-gate", false, bad); d.ErrorCode != of.TargetingKeyMissingCode {
		t.Errorf("a kind without key: %+v", d)
	}
}

// The journaled evaluation names the LaunchDarkly rule that decided.
func TestGateAttrsExplainLaunchDarkly(t *testing.T) {
	_, client := setup(t)
	d := &descriptor.Descriptor{Service: "payments", Rollout: descriptor.Rollout{Gate: "payments-deploy-gate"}}
	g := gate.New(client, d, gate.Options{})
	defer g.Close()
	dec, err := g.Check(context.Background(), req("eu-west-1"))
	if err != nil || !dec.Open || dec.Attrs["explain"] != "RULE_MATCH rule 0 (id rule0)" {
		t.Errorf("%+v %v", dec, err)
	}
}
