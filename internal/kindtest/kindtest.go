// Package kindtest runs a resource kind's code the way gantry does — load,
// lint, render — on a descriptor fragment, for the kinds' own tests (which
// sit in external test packages, as a kind may not import the descriptor).
package kindtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/lint"
	"github.com/gantryhq/gantry/pkg/render"
)

// Doc puts fragment (top-level keys such as resources:, with stages: when
// it needs its own) first in a descriptor of a worker with one dev stage,
// so a finding's line is the fragment's line.
func Doc(fragment string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(fragment, "\n") + "\n")
	b.WriteString("schemaVersion: 1\nservice: shop\nteam: t\nimage: 111122223333.dkr.ecr.us-east-1.amazonaws.com/shop\n")
	if !strings.Contains(fragment, "compute:") {
		b.WriteString("compute: {cpu: 256, memory: 512}\n")
	}
	if !strings.Contains(fragment, "stages:") {
		b.WriteString("stages:\n  - {name: dev, account: \"111122223333\", regions: [us-east-1]}\n")
	}
	return b.String()
}

// Load parses Doc(fragment), failing the test on a loader problem.
func Load(t *testing.T, fragment string) *descriptor.Descriptor {
	t.Helper()
	d, probs := descriptor.Parse("test.sd.yaml", []byte(Doc(fragment)))
	if len(probs) > 0 {
		t.Fatalf("fixture does not load: %v\n%s", probs, Doc(fragment))
	}
	return d
}

// Problems parses Doc(fragment) and returns the loader's problems.
func Problems(fragment string) []descriptor.Problem {
	_, probs := descriptor.Parse("test.sd.yaml", []byte(Doc(fragment)))
	return probs
}

// Findings lints Doc(fragment) and keeps rule id's findings, as
// "line:col message".
func Findings(t *testing.T, fragment, id string) []string {
	t.Helper()
	var out []string
	for _, f := range lint.Check(Load(t, fragment)) {
		if f.Rule == id {
			out = append(out, fmt.Sprintf("%d:%d %s", f.Line, f.Column, f.Message))
		}
	}
	return out
}

// Template renders Doc(fragment) for dev in us-east-1 and returns the named
// stack's template ("data" or "app") decoded.
func Template(t *testing.T, fragment, stack string) map[string]any {
	t.Helper()
	stacks, err := render.Render(Load(t, fragment), render.Target{Stage: "dev", Region: "us-east-1"})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	for _, s := range stacks {
		if string(s.Kind) != stack {
			continue
		}
		b, err := s.Encode("json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	t.Fatalf("no %s stack", stack)
	return nil
}

// RenderErr renders Doc(fragment) and returns render's error.
func RenderErr(t *testing.T, fragment string) error {
	t.Helper()
	_, err := render.Render(Load(t, fragment), render.Target{Stage: "dev", Region: "us-east-1"})
	return err
}

// Props is a resource's Properties in a decoded template.
func Props(t *testing.T, tpl map[string]any, id string) map[string]any {
	t.Helper()
	r, ok := tpl["Resources"].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	p, _ := r["Properties"].(map[string]any)
	return p
}

// JSON is v as compact JSON, for comparisons in messages.
func JSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
