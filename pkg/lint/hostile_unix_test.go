//go:build unix

package lint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// TestFolderSkipsANamedPipe: a FIFO named *.sd.yaml in a folder is a
// finding, not a read that waits for a writer forever (issue 14, item 6).
func TestFolderSkipsANamedPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "evil.sd.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	done := make(chan struct{})
	var res Result
	var err error
	go func() {
		defer close(done)
		files, skipped, ferr := descriptor.Find([]string{dir, "../../examples/payments/payments.sd.yaml"})
		if ferr != nil {
			err = ferr
			return
		}
		res, err = Run(context.Background(), files)
		res = res.WithSkipped(skipped)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("lint hangs on a named pipe")
	}
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 2 || len(res.Findings) != 1 || res.Findings[0].File != fifo || !strings.Contains(res.Findings[0].Message, "named pipe") {
		t.Fatalf("files %d, findings %+v", res.Files, res.Findings)
	}
}

// TestReadStopsOnCancel: a read of a pipe whose writer never writes ends
// when the context is cancelled.
func TestReadStopsOnCancel(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "slow.sd.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	// A writer that opens the pipe and then says nothing.
	w := make(chan struct{})
	go func() {
		f, err := openWriter(fifo)
		if err == nil {
			<-w
			f.Close()
		}
	}()
	defer close(w)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	done := make(chan error, 1)
	go func() { _, err := descriptor.ReadFileContext(ctx, fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "canceled") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the read did not stop")
	}
}

func openWriter(path string) (*os.File, error) { return os.OpenFile(path, os.O_WRONLY, 0) }
