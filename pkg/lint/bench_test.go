package lint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// `gantry lint`'s hot path: run with
// `go test -run '^$' -bench . -benchmem ./pkg/lint`.

const paymentsFile = "../../examples/payments/payments.sd.yaml"

// BenchmarkRunPayments: one file as `gantry lint FILE` checks it: read,
// load, every rule, merge.
func BenchmarkRunPayments(b *testing.B) {
	benchRun(b, []string{paymentsFile})
}

// BenchmarkCheckPayments: the rules alone, on a loaded descriptor.
func BenchmarkCheckPayments(b *testing.B) {
	d, _, err := descriptor.Load(paymentsFile)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if fs := Check(d); len(fs) > 0 {
			b.Fatal(fs[0])
		}
	}
}

// BenchmarkRunFolder100: a folder of 100 descriptors (copies of the three
// examples, each its own service) in one Run, as `gantry lint DIR/*.sd.yaml`.
func BenchmarkRunFolder100(b *testing.B) {
	benchRun(b, writeExampleCopies(b, b.TempDir(), 100))
}

func benchRun(b *testing.B, files []string) {
	var size int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
	}
	b.SetBytes(size)
	ctx := context.Background()
	for b.Loop() {
		r, err := Run(ctx, files)
		if err != nil || r.Files != len(files) || len(r.Findings) > 0 {
			b.Fatalf("%d files: %v, %+v", r.Files, err, r.Findings)
		}
	}
}

var serviceLine = regexp.MustCompile(`(?m)^service: [a-z]+`)

// writeExampleCopies writes n descriptors into dir, cycling through the
// examples and renaming each service so that every file stands alone.
func writeExampleCopies(tb testing.TB, dir string, n int) []string {
	tb.Helper()
	examples, err := filepath.Glob("../../examples/*/*.sd.yaml")
	if err != nil || len(examples) == 0 {
		tb.Fatalf("no examples: %v", err)
	}
	var files []string
	for i := range n {
		src, err := os.ReadFile(examples[i%len(examples)])
		if err != nil {
			tb.Fatal(err)
		}
		src = serviceLine.ReplaceAll(src, fmt.Appendf(nil, "service: svc-%03d", i))
		path := filepath.Join(dir, fmt.Sprintf("svc-%03d.sd.yaml", i))
		if err := os.WriteFile(path, src, 0o644); err != nil {
			tb.Fatal(err)
		}
		files = append(files, path)
	}
	return files
}

// TestExampleCopiesLintClean keeps BenchmarkRunFolder100's input on the
// path it means to measure: renamed copies that lint without findings.
func TestExampleCopiesLintClean(t *testing.T) {
	files := writeExampleCopies(t, t.TempDir(), 4)
	r, err := Run(context.Background(), files)
	if err != nil || r.Files != 4 || len(r.Findings) > 0 {
		t.Fatalf("%d files: %v, %+v", r.Files, err, r.Findings)
	}
	for _, f := range files {
		d, _, err := descriptor.Load(f)
		if err != nil || !regexp.MustCompile(`^svc-\d{3}$`).MatchString(d.Service) {
			t.Fatalf("%s: service %q, %v", f, d.Service, err)
		}
	}
}
