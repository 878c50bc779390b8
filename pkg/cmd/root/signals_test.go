package root

import (
	"bytes"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestWaitEndsOnASignal: a command that never returns (a blocked read)
// cannot keep the process alive after Ctrl-C: it gets its grace, and a
// second signal ends it at once (issue 14, item 6).
func TestWaitEndsOnASignal(t *testing.T) {
	never := make(chan int)
	for _, tc := range []struct {
		name    string
		grace   time.Duration
		signals int
		want    int
	}{
		{"grace runs out", 50 * time.Millisecond, 1, 130},
		{"second signal", 0, 2, 130},
		{"second signal within the grace", time.Hour, 2, 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sigs := make(chan os.Signal, 2)
			for range tc.signals {
				sigs <- os.Interrupt
			}
			cancelled := false
			var errOut bytes.Buffer
			res := make(chan int, 1)
			go func() { res <- wait(never, sigs, func() { cancelled = true }, tc.grace, &errOut) }()
			select {
			case code := <-res:
				if code != tc.want || !cancelled {
					t.Errorf("exit %d (cancelled %v), want %d", code, cancelled, tc.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("wait did not return")
			}
		})
	}
}

// TestWaitKeepsDeploysCode: without a grace (deploy), the command's own
// code after its clean-up is the exit code.
func TestWaitKeepsDeploysCode(t *testing.T) {
	done, sigs := make(chan int, 1), make(chan os.Signal, 1)
	sigs <- syscall.SIGTERM
	go func() { time.Sleep(10 * time.Millisecond); done <- 3 }()
	if code := wait(done, sigs, func() {}, 0, io.Discard); code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
}
