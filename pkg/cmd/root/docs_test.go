package root

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

var update = flag.Bool("update", false, "rewrite docs/cli.md from the command tree")

const committedDocs = "../../../docs/cli.md"

func docs(t *testing.T) []byte {
	t.Helper()
	t.Setenv("GANTRY_LOG_FILE", "")
	t.Setenv("GANTRY_LOG_LEVEL", "")
	b, err := Docs()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCommittedDocsAreCurrent fails when docs/cli.md differs from what the
// command tree generates; `make docs` (this test with -update) rewrites it.
func TestCommittedDocsAreCurrent(t *testing.T) {
	got := docs(t)
	if *update {
		if err := os.WriteFile(committedDocs, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(committedDocs)
	if err != nil {
		t.Fatalf("reading the committed docs (run make docs): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/cli.md is stale: run make docs and commit it")
	}
}

// TestDocsCoverEveryCommand: every command has its section, usage,
// examples and flags, global flags included.
func TestDocsCoverEveryCommand(t *testing.T) {
	doc := string(docs(t))
	f, _, _ := cmdutil.TestFactory("dev")
	walk(New(f), func(c *cobra.Command) {
		head := "\n### " + c.CommandPath() + "\n"
		i := strings.Index(doc, head)
		if i < 0 {
			t.Errorf("no section for %s", c.CommandPath())
			return
		}
		sec := doc[i+len(head):]
		if j := strings.Index(sec, "\n### "); j >= 0 {
			sec = sec[:j]
		}
		for _, want := range []string{c.UseLine(), "Examples:", "--help", "--log-level"} {
			if !strings.Contains(sec, want) {
				t.Errorf("%s's section lacks %q", c.CommandPath(), want)
			}
		}
	})
	if !bytes.Equal(docs(t), docs(t)) {
		t.Error("two runs of Docs differ")
	}
}
