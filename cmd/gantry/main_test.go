package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinary builds gantry as a release would (version stamped through
// -ldflags -X) and checks what a shell sees: stdout, stderr, exit codes.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "gantry")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v1.2.3-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			return ee.ExitCode(), out.String(), errOut.String()
		case err != nil:
			t.Fatal(err)
		}
		return 0, out.String(), errOut.String()
	}

	if code, out, _ := run("version"); code != 0 || out != "gantry version v1.2.3-test\n" {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if code, _, errOut := run("lint", "--format", "xml", "../../examples"); code != 2 || !strings.Contains(errOut, "--format") {
		t.Errorf("bad format: exit %d, stderr %q", code, errOut)
	}
	if code, out, errOut := run("lint", "../../examples"); code != 0 {
		t.Errorf("lint examples: exit %d\n%s%s", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.sd.yaml")
	if err := os.WriteFile(bad, []byte("schemaVersion: 1\nservice: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run("lint", bad); code != 1 || !strings.Contains(out, "bad.sd.yaml:2:10: error") {
		t.Errorf("lint bad file: exit %d\n%s", code, out)
	}
	if code, _, errOut := run("render", bad, "--out", t.TempDir()); code != 2 || !strings.Contains(errOut, "bad.sd.yaml:2:10: error GN107:") {
		t.Errorf("render bad file: exit %d\n%s", code, errOut)
	}
	interrupt(t, bin)
}

// interrupt: lint and render stuck opening a named pipe that no one
// writes (a read no context can stop) still end soon after SIGINT and
// SIGTERM, with the shell's code for the signal (issue 14, item 6).
func interrupt(t *testing.T, bin string) {
	fifo := filepath.Join(t.TempDir(), "stuck.sd.yaml")
	if err := mkfifo(fifo); err != nil {
		t.Logf("skipping the signal checks: %v", err)
		return
	}
	for _, tc := range []struct {
		args []string
		sig  syscall.Signal
		want int
	}{
		{[]string{"lint", fifo}, syscall.SIGINT, 130},
		{[]string{"render", fifo, "--out", t.TempDir()}, syscall.SIGTERM, 143},
	} {
		cmd := exec.Command(bin, tc.args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // let it reach the open
		if err := cmd.Process.Signal(tc.sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.want {
				t.Errorf("%s after %v: %v, want exit %d", tc.args[0], tc.sig, err, tc.want)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s did not end after %v", tc.args[0], tc.sig)
		}
	}
}
