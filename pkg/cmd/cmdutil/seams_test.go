package cmdutil

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/plan"
)

// Each seam is used when set; the real thing stands in when it is nil.
func TestSeams(t *testing.T) {
	t.Setenv("GANTRY_SEAM_TEST", "process")
	f := &Factory{}
	if got := f.Env("GANTRY_SEAM_TEST"); got != "process" {
		t.Errorf("Env without Getenv = %q, want the process's", got)
	}
	f.Getenv = func(k string) string { return "fake " + k }
	if got := f.Env("GANTRY_SEAM_TEST"); got != "fake GANTRY_SEAM_TEST" {
		t.Errorf("Env = %q", got)
	}

	if d := time.Since(f.TimeNow()); d < 0 || d > time.Minute {
		t.Errorf("TimeNow without Now is %s off", d)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Now = func() time.Time { return at }
	if !f.TimeNow().Equal(at) {
		t.Errorf("TimeNow = %v", f.TimeNow())
	}

	boom := errors.New("boom")
	var gotFile string
	f.NewBackend = func(_ context.Context, _ *plan.Plan, file string) (deploy.Backend, error) {
		gotFile = file
		return nil, boom
	}
	if _, err := f.Backend(context.Background(), &plan.Plan{}, "x.sd.yaml"); !errors.Is(err, boom) || gotFile != "x.sd.yaml" {
		t.Errorf("Backend: %v, file %q", err, gotFile)
	}
	f.NewBootstrapper = func(context.Context) (Bootstrapper, error) { return nil, boom }
	if _, err := f.Bootstrapper(context.Background()); !errors.Is(err, boom) {
		t.Errorf("Bootstrapper: %v", err)
	}
}
