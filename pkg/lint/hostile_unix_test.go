//go:build unix

package lint

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunSkipsANamedPipe: a FIFO named *.sd.yaml is a finding, not a
// read that waits for a writer forever (issue 14, item 6).
func TestRunSkipsANamedPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "evil.sd.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	files := []string{"../../examples/payments/payments.sd.yaml", fifo}
	done := make(chan struct{})
	var res Result
	var err error
	go func() {
		defer close(done)
		res, err = Run(context.Background(), files)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("lint hangs on a named pipe")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].File != fifo || !strings.Contains(res.Findings[0].Message, "named pipe") {
		t.Fatalf("findings %+v", res.Findings)
	}
}
