// Package crash_test is gantry's crash-and-resume soak (issue 5, item 4):
// it rolls a small two-stage, three-region service out again and again,
// kills gantry with SIGKILL at a random moment of each rollout, breaks the
// dead rollout's lock with gantry unlock and reruns the same command. Every
// rerun must finish, no stack may be executed twice for one version
// (counted in front of the e2e/proxy), and the stacks must end complete on
// the version, as the emulator itself reports them.
//
// See e2e/README.md and docs/hardening.md for how to run a longer soak.
package crash_test

import (
	"testing"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
)

func TestMain(m *testing.M) {
	e2etest.Main(m, e2etest.MainOptions{TempPrefix: "gantry-crash-", Name: "e2e/crash", LogTimes: true})
}
