package flagd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
)

const gateOff = `{"flags": {"gate": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"},
  "other": {"state": "ENABLED", "variants": {"a": "a"}, "defaultVariant": "a"}}}`
const gateOn = `{"flags": {"gate": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"},
  "other": {"state": "ENABLED", "variants": {"a": "a"}, "defaultVariant": "a"}}}`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	// Write then rename, as editors do, so no reader sees a half file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func openClient(t *testing.T, p *Provider) *of.Client {
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

func waitEvent(t *testing.T, ch <-chan of.EventDetails, what string) of.EventDetails {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(15 * time.Second):
		t.Fatalf("no %s event", what)
	}
	return of.EventDetails{}
}

func TestProviderReloadEmitsConfigurationChanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flags.json")
	writeFile(t, path, gateOff)
	client := openClient(t, New(path, Options{PollInterval: 200 * time.Millisecond}))
	ctx := context.Background()

	changed := make(chan of.EventDetails, 8)
	cb := func(d of.EventDetails) { changed <- d }
	client.AddHandler(of.ProviderConfigChange, &cb)
	errs := make(chan of.EventDetails, 8)
	ecb := func(d of.EventDetails) { errs <- d }
	client.AddHandler(of.ProviderError, &ecb)

	if v := client.Boolean(ctx, "gate", true, of.EvaluationContext{}); v {
		t.Fatal("gate should start off")
	}
	writeFile(t, path, gateOn)
	d := waitEvent(t, changed, "configuration-changed")
	if len(d.FlagChanges) != 1 || d.FlagChanges[0] != "gate" {
		t.Errorf("flag changes %v, want [gate]", d.FlagChanges)
	}
	det, err := client.BooleanValueDetails(ctx, "gate", false, of.EvaluationContext{})
	if err != nil || !det.Value || det.Variant != "on" || det.Reason != of.StaticReason {
		t.Fatalf("after reload: %+v %v", det, err)
	}

	// A broken file: an error event, and every evaluation an error naming
	// the position; never the old or a default value silently.
	writeFile(t, path, "{\"flags\": {\n  \"gate\": {\"state\": \"ENABLED\" \"variants\": {}}}}")
	waitEvent(t, errs, "provider-error")
	det, err = client.BooleanValueDetails(ctx, "gate", false, of.EvaluationContext{})
	if err == nil || det.ErrorCode != of.ParseErrorCode || !strings.Contains(det.ErrorMessage, "flags.json:2:") {
		t.Fatalf("with a broken file: %+v %v", det, err)
	}

	// Fixed again: the flags serve and a change is announced.
	writeFile(t, path, gateOff)
	waitEvent(t, changed, "configuration-changed after the fix")
	if v := client.Boolean(ctx, "gate", true, of.EvaluationContext{}); v {
		t.Fatal("gate should be off again")
	}
}

func TestProviderInitRejectsBadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flags.json")
	writeFile(t, path, `{"flags": {"gate": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "of"}}}`)
	api := isolated.NewAPI()
	defer func() { _ = api.Shutdown(context.Background()) }()
	err := api.SetProviderAndWait(context.Background(), New(path, Options{NoWatch: true}))
	var le *LoadError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "flags.json:1:") {
		t.Fatalf("got %v", err)
	}
}

func TestProviderMissingFile(t *testing.T) {
	api := isolated.NewAPI()
	defer func() { _ = api.Shutdown(context.Background()) }()
	err := api.SetProviderAndWait(context.Background(), New(filepath.Join(t.TempDir(), "nope.json"), Options{}))
	var le *LoadError
	if !errors.As(err, &le) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

func TestProviderTypes(t *testing.T) {
	client := openClient(t, New("testdata/cases.flagd.json", Options{NoWatch: true}))
	ctx := context.Background()
	if v, err := client.StringValue(ctx, "static-string", "x", of.EvaluationContext{}); err != nil || v != "hello" {
		t.Errorf("string: %q %v", v, err)
	}
	if v, err := client.IntValue(ctx, "static-int", 1, of.EvaluationContext{}); err != nil || v != 10 {
		t.Errorf("int: %d %v", v, err)
	}
	if v, err := client.FloatValue(ctx, "static-half", 1, of.EvaluationContext{}); err != nil || v != 0.5 {
		t.Errorf("float: %v %v", v, err)
	}
	if v, err := client.ObjectValue(ctx, "static-object", nil, of.EvaluationContext{}); err != nil || v.(map[string]any)["name"] != "a" {
		t.Errorf("object: %v %v", v, err)
	}
	d, err := client.BooleanValueDetails(ctx, "nope", true, of.EvaluationContext{})
	if err == nil || d.ErrorCode != of.FlagNotFoundCode || d.Reason != of.ErrorReason || !d.Value {
		t.Errorf("not found: %+v %v", d, err)
	}
	d, err = client.BooleanValueDetails(ctx, "disabled-flag", false, of.EvaluationContext{})
	if err != nil || d.Reason != of.DisabledReason || d.Value {
		t.Errorf("disabled: %+v %v", d, err)
	}
	tk := of.NewEvaluationContext("jon@company.com", nil)
	s, err := client.StringValueDetails(ctx, "fractional-flag-shorthand", "x", tk)
	if err != nil || s.Value != "heads" || s.Reason != of.TargetingMatchReason {
		t.Errorf("targeting key through the SDK: %+v %v", s, err)
	}
}
