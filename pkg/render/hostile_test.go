package render

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// TestNoWildcardSecretResource: even a descriptor the loader refused (a
// library caller that ignores problems) renders no IAM wildcard from a
// secret reference, and the refusal does not repeat the reference.
func TestNoWildcardSecretResource(t *testing.T) {
	for _, ref := range []string{"ssm:*", "ssm:/prod/*", "secretsmanager:*", "secretsmanager:prod/db-?"} {
		src := strings.Replace(shop, "secrets:\n", "secrets:\n  X: \""+ref+"\"\n", 1)
		d, probs := descriptor.Parse("test.sd.yaml", []byte(src))
		if len(probs) == 0 {
			t.Errorf("%s: the loader accepted it", ref)
		}
		_, err := Render(d, Target{Stage: "dev", Region: "us-east-1"})
		if err == nil {
			t.Errorf("%s rendered", ref)
			continue
		}
		if strings.Contains(err.Error(), ref) {
			t.Errorf("%s: the error repeats the reference: %v", ref, err)
		}
	}
}

// TestWriteAtomicLeavesNoPartialFile: a write that fails half-way (a full
// disk) leaves neither a short template nor a temporary file, and an old
// template stays as it was (issue 14, item 15).
func TestWriteAtomicLeavesNoPartialFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.template.json")
	full := func(w io.Writer, b []byte) error {
		if _, err := w.Write(b[:len(b)/2]); err != nil {
			return err
		}
		return syscall.ENOSPC
	}
	if err := writeAtomic(path, []byte(`{"Resources":{}}`), full); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed write left %v", entries)
	}
	if err := writeAtomic(path, []byte("old"), writeAll); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(path, []byte("new template"), full); err == nil {
		t.Fatal("no error")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("the old template became %q", b)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", info.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left %v", entries)
	}
}

func TestWriteAllStopsWhenCancelled(t *testing.T) {
	d, probs := descriptor.Parse("test.sd.yaml", []byte(shop))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if _, err := WriteAllContext(ctx, d, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
}
