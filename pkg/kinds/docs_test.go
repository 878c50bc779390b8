package kinds

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the kinds' part of docs/descriptor.md")

// The kinds' part of docs/descriptor.md is generated from the kinds; this
// fails when it is stale. Regenerate with: go test ./pkg/kinds -update
func TestDescriptorDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "descriptor.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(DocBegin)), bytes.Index(doc, []byte(DocEnd+"\n"))
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", path, DocBegin, DocEnd)
	}
	want := append(append(append([]byte{}, doc[:i]...), Markdown()...), doc[j+len(DocEnd)+1:]...)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(doc, want) {
		t.Fatalf("%s is out of date: run go test ./pkg/kinds -update", path)
	}
	for _, k := range All() {
		if !bytes.Contains(doc, []byte("### "+k.Name()+"\n")) {
			t.Errorf("%s has no section for kind %s", path, k.Name())
		}
	}
}

// Every kind's name is unique, its settings decode from a struct, and its
// rules' IDs are unique across kinds.
func TestKindsAreWellFormed(t *testing.T) {
	seen, rules := map[string]bool{}, map[string]bool{}
	for _, k := range All() {
		if seen[k.Name()] {
			t.Errorf("kind %q listed twice", k.Name())
		}
		seen[k.Name()] = true
		if s := k.New(); s == nil {
			t.Errorf("kind %q: New() is nil", k.Name())
		}
		for _, r := range k.Rules() {
			if rules[r.ID] {
				t.Errorf("rule %s defined twice", r.ID)
			}
			rules[r.ID] = true
		}
	}
}
