package root_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/root"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/deploytest"
	"github.com/gantryhq/gantry/pkg/plan"
)

// A panic on one of a command's own goroutines (status reads regions in
// parallel) is still a crash the root reports: exit 70, never the
// runtime's 2, which would read as "invalid input".
func TestPanicOnACommandGoroutineExits70(t *testing.T) {
	src, err := os.ReadFile("../../../examples/payments/payments.sd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "payments.sd.yaml")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	b := deploytest.NewBackend("payments")
	b.CurrentErr = func(plan.Step) error { panic("boom in a region reader") }
	f, _, errOut := cmdutil.TestFactory("test")
	f.NewBackend = func(context.Context, *plan.Plan, string) (deploy.Backend, error) { return b, nil }
	code := root.Run(context.Background(), f, []string{"status", file})
	if code != root.ExitInternal || !strings.Contains(errOut.String(), "internal error (a bug in gantry): boom in a region reader") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
}
