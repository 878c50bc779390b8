package root

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/internal/crash"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/spf13/cobra"
)

// TestPanicIsAnInternalError: a panic in a command, or one a worker
// goroutine hands back as a *crash.Panic, exits ExitInternal with a bug
// report, never 0-3 (issue 14: a crash is never mistaken for a verdict).
func TestPanicIsAnInternalError(t *testing.T) {
	for name, runE := range map[string]func(*cobra.Command, []string) error{
		"panic": func(*cobra.Command, []string) error {
			var m map[string]int
			m["boom"]++
			return nil
		},
		"worker": func(*cobra.Command, []string) error {
			return cmdutil.InputError(errors.Join(errors.New("linting"), crash.New("index out of range \x1b[31m")))
		},
	} {
		t.Run(name, func(t *testing.T) {
			f, out, errOut := cmdutil.TestFactory("dev")
			root := New(f)
			boom := &cobra.Command{Use: "boom", Short: "crashes", Example: "gantry boom", RunE: runE}
			markRunErrors(boom)
			root.AddCommand(boom)
			code := execute(context.Background(), f, root, []string{"boom"})
			if code != ExitInternal || ExitInternal <= 4 {
				t.Errorf("exit %d, want %d", code, ExitInternal)
			}
			for _, want := range []string{"internal error", "bug in gantry", "issues", "gantry version", "goroutine"} {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if strings.Contains(errOut.String(), "\x1b") || out.Len() != 0 {
				t.Errorf("stdout %q, stderr %q", out, errOut)
			}
		})
	}
}

func TestInterruptGrace(t *testing.T) {
	for args, want := range map[string]bool{
		"lint x": true, "render x --out o": true, "flags eval --flag f": true, "gates x": true,
		"deploy x --version 1": false, "--profile p deploy x": false, "rollback x": false, "plan x": false, "bogus": true,
	} {
		if got := InterruptGrace(strings.Fields(args)) > 0; got != want {
			t.Errorf("%s: grace %v, want %v", args, got, want)
		}
	}
}
