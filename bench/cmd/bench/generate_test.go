package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gantryhq/gantry/pkg/lint"
)

// The lint benchmark's descriptors must be ones gantry accepts: a benchmark
// over descriptors full of errors would measure error reporting instead.
func TestGeneratedDescriptorsLintClean(t *testing.T) {
	chdirRepo(t)
	dir := t.TempDir()
	files, err := generateDescriptors(dir, 60, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 60 {
		t.Fatalf("wrote %d files, want 60", len(files))
	}
	res, err := lint.Run(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Errorf("%s:%d: %s %s: %s", filepath.Base(f.File), f.Line, f.Severity, f.Rule, f.Message)
	}
	again, err := generateDescriptors(t.TempDir(), 60, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		a, _ := os.ReadFile(files[i])
		b, _ := os.ReadFile(again[i])
		if string(a) != string(b) {
			t.Fatalf("%s differs between two runs with the same seed", filepath.Base(files[i]))
		}
	}
}

// chdirRepo runs the test from the repository root, as bench/run runs the
// program.
func chdirRepo(t *testing.T) {
	t.Helper()
	t.Chdir(filepath.Join("..", "..", ".."))
}
