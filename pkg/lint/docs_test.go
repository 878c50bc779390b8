package lint

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md from the rules")

// docs/rules.md is generated from the rules; this fails when it is stale.
// Regenerate with: go test ./pkg/lint -update
func TestRulesDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "rules.md")
	want := RulesMarkdown()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v (run go test ./pkg/lint -update)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date: run go test ./pkg/lint -update", path)
	}
	for _, r := range Rules() {
		if !bytes.Contains(got, []byte("### "+r.ID+"\n")) {
			t.Errorf("%s has no section for %s", path, r.ID)
		}
	}
}
