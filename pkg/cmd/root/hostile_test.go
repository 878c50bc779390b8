package root

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

// fullWriter is stdout on a full disk (`> /dev/full`).
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

const payments = "../../../examples/payments/payments.sd.yaml"

// TestStdoutWriteErrorsFail: output that cannot be written is a failure,
// not exit 0 (issue 14, item 11).
func TestStdoutWriteErrorsFail(t *testing.T) {
	for name, args := range map[string][]string{
		"render":  {"render", payments, "--out", t.TempDir()},
		"init":    {"init", "--dir", t.TempDir(), "--service", "shop"},
		"lint":    {"lint", payments},
		"lint -o": {"lint", payments, "-o", "json"},
		"schema":  {"schema"},
		"version": {"version"},
	} {
		t.Run(name, func(t *testing.T) {
			f, _, errOut := cmdutil.TestFactory("v1")
			f.IOStreams.Out = fullWriter{}
			if code := Run(context.Background(), f, args); code != cmdutil.ExitError {
				t.Errorf("exit %d, want 1; stderr %q", code, errOut)
			}
			if !strings.Contains(errOut.String(), "no space left") {
				t.Errorf("stderr %q does not say why", errOut)
			}
		})
	}
}

// TestRenderUsageErrorsExit2: a bad --version or an --out that is a file
// is bad usage, found before anything is written (issue 14, item 15).
func TestRenderUsageErrorsExit2(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"bad version":  {"render", payments, "--out", t.TempDir(), "--version", "v1 2"},
		"dot version":  {"render", payments, "--out", t.TempDir(), "--version", ".x"},
		"out is file":  {"render", payments, "--out", file},
		"out in file":  {"render", payments, "--out", filepath.Join(file, "sub")},
		"long version": {"render", payments, "--out", t.TempDir(), "--version", strings.Repeat("v", 129)},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := run(t, args...)
			if code != cmdutil.ExitUsage || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and nothing written", code, out, errOut)
			}
		})
	}
}
