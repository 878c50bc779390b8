package lint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// The examples and starter templates are what users copy: they must lint
// with no error and no warning.
func TestRunExamplesClean(t *testing.T) {
	var files []string
	for _, g := range []string{"../../examples/*/*.sd.yaml", "../../templates/*.sd.yaml"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 5 {
		t.Fatalf("found only %d example descriptors: %v", len(files), files)
	}
	res, err := Run(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != len(files) {
		t.Errorf("Files = %d, want %d", res.Files, len(files))
	}
	for _, f := range res.Findings {
		t.Errorf("%s:%d:%d: %s %s: %s", f.File, f.Line, f.Column, f.Severity, f.Rule, f.Message)
	}
}

// writeFiles writes every rule's example, and a clean descriptor, many
// times over, and returns the paths.
func writeFiles(t *testing.T, copies int) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	srcs := []string{doc(""), "not: [valid\n", ""}
	for _, r := range Rules() {
		srcs = append(srcs, doc(r.Example.YAML))
	}
	for c := range copies {
		for i, s := range srcs {
			p := filepath.Join(dir, fmt.Sprintf("f%02d-%03d.sd.yaml", c, i))
			if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, p)
		}
	}
	return files
}

func TestRunParallelMatchesSequential(t *testing.T) {
	files := writeFiles(t, 4)
	par, err := Run(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	// Sequential: one file at a time, with one worker.
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	seq := Result{Findings: []Finding{}, Sources: map[string][]byte{}}
	for _, f := range files {
		r, err := Run(context.Background(), []string{f})
		if err != nil {
			t.Fatal(err)
		}
		seq.Findings = append(seq.Findings, r.Findings...)
		seq.Files += r.Files
		seq.Sources[f] = r.Sources[f]
	}
	seq.Findings = normalize(seq.Findings)
	if !reflect.DeepEqual(par, seq) {
		t.Fatalf("parallel and sequential results differ:\n%d findings vs %d", len(par.Findings), len(seq.Findings))
	}
	if par.Errors() == 0 || par.Warnings() == 0 {
		t.Fatalf("fixtures should give errors and warnings: %d, %d", par.Errors(), par.Warnings())
	}
	// Findings are sorted and unique.
	for i := 1; i < len(par.Findings); i++ {
		if compareFindings(par.Findings[i-1], par.Findings[i]) >= 0 {
			t.Fatalf("findings not sorted or not unique at %d: %+v, %+v", i, par.Findings[i-1], par.Findings[i])
		}
	}
	// Files listed twice are checked once.
	twice, err := Run(context.Background(), append(files, files...))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(twice, par) {
		t.Fatal("a file listed twice changed the result")
	}
}

// A defect of the top level shows in every stage's effective spec; it is
// reported once, and a defect only a stage's override causes names it.
func TestCheckDeduplicatesViews(t *testing.T) {
	src := doc(`compute:
  cpu: 256
  memory: 4096
stages:
  - name: staging
    account: "111122223333"
    regions: [us-east-1]
    overrides:
      scaling: {min: 3}
  - name: prod
    account: "111122223333"
    regions: [us-west-2]
    overrides:
      scaling: {min: 9, max: 5}
`)
	dir := t.TempDir()
	p := filepath.Join(dir, "svc.sd.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), []string{p})
	if err != nil {
		t.Fatal(err)
	}
	if got := only(res.Findings, "GN201"); len(got) != 1 || got[0].Line != 3 {
		t.Fatalf("want one GN201 at line 3, got %+v", got)
	}
	got := only(res.Findings, "GN202")
	if len(got) != 1 || got[0].Line != 14 || !strings.Contains(got[0].Message, `in stage "prod"`) {
		t.Fatalf("want one GN202 at line 14 naming stage prod, got %+v", got)
	}
	if string(res.Sources[p]) != src {
		t.Fatal("Sources does not hold the file's content")
	}
}

// TestRunUnreadableFile: a file that cannot be read is a finding beside
// the other files' findings, not an abort of the whole run (issue 14,
// item 15).
func TestRunUnreadableFile(t *testing.T) {
	files := []string{"../../examples/payments/payments.sd.yaml", "../../examples/thumbs/thumbs.sd.yaml"}
	missing := filepath.Join(t.TempDir(), "missing.sd.yaml")
	res, err := Run(context.Background(), append(files, missing))
	if err != nil {
		t.Fatalf("an unreadable file aborted the run: %v", err)
	}
	if res.Files != 3 {
		t.Errorf("Files = %d, want 3", res.Files)
	}
	var got []Finding
	for _, f := range res.Findings {
		if f.File == missing {
			got = append(got, f)
		}
	}
	if len(got) != 1 || got[0].Severity != Error || got[0].Rule != "GN101" || !strings.Contains(got[0].Message, "cannot read") {
		t.Fatalf("want one GN101 error for the missing file, got %+v", got)
	}
	if len(res.Findings) != 1 {
		t.Errorf("the readable files got findings: %+v", res.Findings)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, writeFiles(t, 1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestRunNoFiles(t *testing.T) {
	res, err := Run(context.Background(), nil)
	if err != nil || res.Files != 0 || res.Findings == nil || len(res.Findings) != 0 {
		t.Fatalf("got %+v, %v", res, err)
	}
}

// A file that is not YAML gives the loader's GN101 and nothing from rules
// that would only see zero values.
func TestRunBrokenFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "broken.sd.yaml")
	if err := os.WriteFile(p, []byte("service: payments\n  team: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), []string{p})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Rule != "GN101" || res.Findings[0].Severity != Error {
		t.Fatalf("want exactly one GN101 error, got %+v", res.Findings)
	}
}

// A value that did not load (wrong type) is reported by the loader only,
// not again by a rule that saw its zero value.
func TestRunLoaderProblemHidesRuleAtSameSpot(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "svc.sd.yaml")
	if err := os.WriteFile(p, []byte(doc("compute:\n  cpu: one\n  memory: 512\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), []string{p})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Rule != "GN103" {
		t.Fatalf("want only GN103, got %+v", res.Findings)
	}
}
