package schema

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/gantryhq/gantry/pkg/kinds"
)

var update = flag.Bool("update", false, "rewrite docs/schema.json from the Go types")

const committed = "../../docs/schema.json"

// TestCommittedSchemaIsCurrent fails when docs/schema.json differs from what
// the Go types generate; `go test ./pkg/schema -update` rewrites it.
func TestCommittedSchemaIsCurrent(t *testing.T) {
	got, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(committed), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(committed, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatalf("reading the committed schema (run go test ./pkg/schema -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/schema.json is stale: run go test ./pkg/schema -update and commit it")
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatal("two runs of Generate gave different bytes")
		}
	}
}

func TestSchemaShape(t *testing.T) {
	raw, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("UNSUPPORTED")) {
		t.Fatal("a descriptor field has a Go type the generator does not map")
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if doc["$schema"] != Draft || doc["$id"] != ID {
		t.Errorf("$schema=%v $id=%v", doc["$schema"], doc["$id"])
	}
	props := doc["properties"].(map[string]any)
	for _, k := range []string{"schemaVersion", "service", "team", "image", "compute", "scaling", "routing", "env", "secrets", "resources", "stages", "rollout"} {
		if _, ok := props[k]; !ok {
			t.Errorf("top-level property %q missing", k)
		}
	}
	for _, k := range []string{"File", "Source", "Pos", "file"} {
		if _, ok := props[k]; ok {
			t.Errorf("internal field %q leaked into the schema", k)
		}
	}
	svc := props["service"].(map[string]any)
	if svc["pattern"] != ServicePattern {
		t.Errorf("service pattern = %v", svc["pattern"])
	}
	if svc["description"] == "" || svc["description"] == nil {
		t.Error("service has no description from its doc tag")
	}
	req := doc["required"].([]any)
	wantReq := []any{"schemaVersion", "service", "team", "image", "compute", "stages"}
	if len(req) != len(wantReq) {
		t.Errorf("required = %v, want %v", req, wantReq)
	}
	defs := doc["$defs"].(map[string]any)
	// Every object forbids unknown keys.
	var walk func(path string, v any)
	walk = func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if m["type"] == "object" && m["properties"] != nil && m["additionalProperties"] != false {
			t.Errorf("%s: object without additionalProperties: false", path)
		}
		for k, c := range m {
			switch c := c.(type) {
			case map[string]any:
				walk(path+"/"+k, c)
			case []any:
				for _, e := range c {
					walk(path+"/"+k+"[]", e)
				}
			}
		}
	}
	walk("#", doc)
	// Overrides are partial: nothing required anywhere below them.
	for name, d := range defs {
		if len(name) > 8 && name[len(name)-8:] == "Override" {
			if r, ok := d.(map[string]any)["required"]; ok {
				t.Errorf("$defs/%s requires %v; overrides must be partial", name, r)
			}
		}
	}
	res := defs["Resource"].(map[string]any)
	if n := len(res["oneOf"].([]any)); n != len(kinds.All()) {
		t.Errorf("Resource has %d oneOf branches, want one a kind (%d)", n, len(kinds.All()))
	}
	if _, ok := defs["SpecOverride"]; !ok {
		t.Error("no SpecOverride definition for stage overrides")
	}
	dur := defs["Duration"].(map[string]any)
	if dur["type"] != "string" || dur["pattern"] != DurationPattern {
		t.Errorf("Duration = %v", dur)
	}
}
