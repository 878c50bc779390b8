package cmdutil

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A descriptor is read once: from a FIFO, which can be read only once, it
// loads and is linted (a second open would wait for a writer forever).
func TestLoadDescriptorReadsOnce(t *testing.T) {
	src, err := os.ReadFile("../../../examples/payments/payments.sd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "payments.sd.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		_, _ = w.Write(src)
		w.Close()
	}()
	f, _, errOut := TestFactory("test")
	done := make(chan error, 1)
	go func() {
		d, err := LoadDescriptor(context.Background(), f, fifo)
		if err == nil && d.Service != "payments" {
			err = os.ErrInvalid
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("loading from a FIFO: %v\n%s", err, errOut)
		}
	case <-time.After(10 * time.Second):
		// Unblock the reader so the test ends.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("LoadDescriptor opened the descriptor a second time (it hangs on a FIFO)")
	}
}

// Lint errors in the bytes read are refused with exit 2, and the findings
// point into that file.
func TestLoadDescriptorRefusesLintErrors(t *testing.T) {
	src, err := os.ReadFile("../../../examples/payments/payments.sd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "memory: 1024", "memory: 100000", 1)
	if bad == string(src) {
		t.Fatal("the example changed: no memory: 1024 to break")
	}
	file := filepath.Join(t.TempDir(), "payments.sd.yaml")
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _, errOut := TestFactory("test")
	_, err = LoadDescriptor(context.Background(), f, file)
	if ExitCode(err) != ExitUsage {
		t.Fatalf("exit %d (%v), want %d", ExitCode(err), err, ExitUsage)
	}
	if !strings.Contains(errOut.String(), file+":") || !strings.Contains(err.Error(), "lint error") {
		t.Fatalf("findings not shown: %v\n%s", err, errOut)
	}
}
