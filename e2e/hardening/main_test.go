// Package hardening_test is gantry's end-to-end hardening suite (issue 5,
// items 3 and 5): the built gantry binary rolls out against the local AWS
// emulator through an e2e/proxy that injects faults into every call --
// throttling, 5xx, dropped connections (before and after the emulator did
// the work) and latency -- and must reach the same end state as without
// them; and ten rollouts of one stage at once must leave one holding the
// lock and the other nine refused, naming the holder, without touching a
// stack.
//
// The harness is e2e/internal/e2etest (see e2e/README.md). The emulator is
// reset before every test, so the tests run one after another.
package hardening_test

import (
	"testing"
	"time"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/e2e/proxy"
)

// cmdTimeout bounds one gantry command.
const cmdTimeout = 4 * time.Minute

func TestMain(m *testing.M) {
	e2etest.Main(m, e2etest.MainOptions{TempPrefix: "gantry-e2e-hardening-", Name: "e2e/hardening", LogTimes: true})
}

// The harness's types, as this suite names them.
type (
	run    = e2etest.Run
	result = e2etest.Result
)

// env is one test's world: the reset emulator behind a fresh proxy (seed
// 1, so injected faults fall on the same calls run after run), and a
// temporary folder.
type env struct {
	t     *testing.T
	proxy *proxy.Proxy
	tmp   string
	// extraEnv is added to every gantry command's environment.
	extraEnv []string
}

func newEnv(t *testing.T, extraEnv ...string) *env {
	t.Helper()
	e2etest.Emu.Reset(t)
	return &env{t: t, proxy: startProxy(t), tmp: t.TempDir(), extraEnv: extraEnv}
}

// startProxy serves a fresh proxy to the emulator until the test ends.
func startProxy(t *testing.T) *proxy.Proxy {
	t.Helper()
	p := e2etest.NewProxy(t)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// runner runs gantry against endpoint as a CI step would: no TTY, test
// credentials, none of the caller's AWS configuration.
func (e *env) runner(endpoint string) e2etest.Runner {
	return e2etest.Runner{Endpoint: endpoint, Env: e.extraEnv, Timeout: cmdTimeout, Tail: 60}
}

// mustRun runs gantry through the test's proxy and fails the test unless
// it exits with code.
func (e *env) mustRun(code int, args ...string) run {
	e.t.Helper()
	return e.runner(e.proxy.URL()).MustRun(e.t, code, args...)
}

// bootstrap runs gantry bootstrap FILE --demo-platform, then zeroes the
// proxy's counts so that they show only what the test's own commands do.
func (e *env) bootstrap(file string) {
	e.t.Helper()
	r := e.mustRun(0, "bootstrap", file, "--demo-platform")
	e.t.Logf("bootstrap: %s", r.Took.Round(time.Millisecond))
	e.proxy.ResetCounts()
}

// deploy runs gantry deploy FILE --version V --bake 0s --output json and
// the extra flags, checks the exit code and returns the parsed result.
func (e *env) deploy(code int, file, version string, extra ...string) (*result, run) {
	e.t.Helper()
	args := append([]string{"deploy", file, "--version", version, "--bake", "0s", "--output", "json"}, extra...)
	r := e.mustRun(code, args...)
	res := e2etest.ParseResult(e.t, r)
	e.t.Logf("deploy %s: exit %d, %s in %s", version, r.Code, res.Summary(), r.Took.Round(time.Millisecond))
	return res, r
}
