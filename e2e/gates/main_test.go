// Package gates_test is gantry's end-to-end suite for feature-flag-gated
// rollouts (issue 4, item 5): the built gantry binary deploys small
// descriptors whose rollout.gate and rollout.halt flags come from a flagd
// flag file written by the test, against the local AWS emulator behind an
// e2e/proxy (for per-region request counts). It checks exit codes, the JSON
// result, the stacks in the emulator, `gantry status` and `gantry gates`.
//
// The harness is a trimmed copy of e2e/rollout's (see e2e/README.md). The
// emulator is reset before every test, so the tests run one after another.
package gates_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gantryhq/gantry/e2e/proxy"
	"github.com/gantryhq/gantry/internal/emulatortest"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/state"
)

// Shared by every test of the package (set up in TestMain).
var (
	emu    *emulatortest.Emulator
	binary string // the gantry binary built for this run
	repo   string // repository root: the working directory of every gantry run
)

// cmdTimeout bounds one gantry command.
const cmdTimeout = 3 * time.Minute

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	var err error
	if repo, err = emulatortest.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "gantry-e2e-gates-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	binary = filepath.Join(tmp, "gantry")
	build := exec.Command("go", "build", "-o", binary, "./cmd/gantry")
	build.Dir = repo
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/gates: building gantry (go build -o %s ./cmd/gantry in %s): %v\n", binary, repo, err)
		return 1
	}
	e, stop, err := emulatortest.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	emu = e
	return m.Run()
}

// env is one test's world: the reset emulator behind a fresh proxy, and a
// temporary folder for the descriptor and the flag file.
type env struct {
	t     *testing.T
	proxy *proxy.Proxy
	url   string // the proxy's URL, gantry's --endpoint-url
	tmp   string
	// extraEnv is added to every gantry command's environment (e.g.
	// GANTRY_FLAGS=file:PATH).
	extraEnv []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	emu.Reset(t)
	p, err := proxy.New(emu.Endpoint, proxy.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return &env{t: t, proxy: p, url: p.URL(), tmp: t.TempDir()}
}

// ---- running gantry ----

// run is one finished gantry command.
type run struct {
	args   []string
	code   int
	stdout string
	stderr string
	took   time.Duration
}

func (r run) String() string {
	return fmt.Sprintf("gantry %s\nexit %d after %s\n--- stdout\n%s\n--- stderr (last 40 lines)\n%s",
		strings.Join(r.args, " "), r.code, r.took.Round(time.Millisecond), r.stdout, tail(r.stderr, 40))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// command makes a gantry command pointed at the proxy as a CI step would
// run it: no TTY, test credentials, none of the caller's AWS configuration,
// and no GANTRY_FLAGS (each test passes --flags, or tests its absence).
func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append(slices.Clone(args), "--endpoint-url", e.url)
	cmd := exec.CommandContext(ctx, binary, full...)
	cmd.Dir = repo
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TMPDIR=" + os.TempDir(),
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
		"NO_COLOR=1",
	}
	cmd.Env = append(cmd.Env, e.extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// gantry runs gantry and waits for it.
func (e *env) gantry(args ...string) run {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := e.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := run{args: args, stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		e.t.Fatalf("running gantry %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("gantry %s did not finish within %s\n%s", strings.Join(args, " "), cmdTimeout, r)
	}
	return r
}

// mustRun runs gantry and fails the test unless it exits with code.
func (e *env) mustRun(code int, args ...string) run {
	e.t.Helper()
	r := e.gantry(args...)
	if r.code != code {
		e.t.Fatalf("want exit %d\n%s", code, r)
	}
	return r
}

// bootstrap runs gantry bootstrap FILE --demo-platform.
func (e *env) bootstrap(file string) {
	e.t.Helper()
	r := e.mustRun(0, "bootstrap", file, "--demo-platform")
	e.t.Logf("bootstrap: %s", r.took.Round(time.Millisecond))
	e.proxy.ResetCounts() // count only what the test's own commands do
}

// deploy runs gantry deploy FILE --version V --bake 0s --output json and
// the extra flags, checks the exit code and returns the parsed result.
func (e *env) deploy(code int, file, version string, extra ...string) (*result, run) {
	e.t.Helper()
	args := append([]string{"deploy", file, "--version", version, "--bake", "0s", "--output", "json"}, extra...)
	r := e.mustRun(code, args...)
	res := parseResult(e.t, r)
	e.t.Logf("deploy %s: exit %d, %s in %s", version, r.code, res.summary(), r.took.Round(time.Millisecond))
	return res, r
}

// proc is a gantry command running in the background.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	args   []string
	cancel context.CancelFunc
	start  time.Time
	stdout bytes.Buffer
	done   chan struct{}
	err    error

	mu     sync.Mutex
	stderr bytes.Buffer
	grow   chan struct{} // closed and replaced when stderr grows
}

// start runs gantry in the background; the test's cleanup kills it if it
// is still running.
func (e *env) start(args ...string) *proc {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	p := &proc{t: e.t, args: args, cancel: cancel, done: make(chan struct{}), grow: make(chan struct{})}
	p.cmd = e.command(ctx, args...)
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = (*procStderr)(p)
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		cancel()
		e.t.Fatalf("starting gantry %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		cancel()
	})
	return p
}

type procStderr proc

func (w *procStderr) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.stderr.Write(b)
	close(w.grow)
	w.grow = make(chan struct{})
	return n, err
}

// waitStderr waits until stderr has a line containing every one of parts
// and returns that line.
func (p *proc) waitStderr(timeout time.Duration, parts ...string) string {
	p.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	find := func() (string, bool, string) {
		p.mu.Lock()
		text := p.stderr.String()
		p.mu.Unlock()
		for line := range strings.SplitSeq(text, "\n") {
			if containsAll(line, parts...) {
				return line, true, text
			}
		}
		return "", false, text
	}
	for {
		p.mu.Lock()
		grow := p.grow
		p.mu.Unlock()
		line, ok, text := find()
		if ok {
			return line
		}
		select {
		case <-grow:
		case <-p.done:
			if line, ok, text := find(); ok {
				return line
			} else {
				p.t.Fatalf("gantry %s exited (%v) before stderr said %q\n--- stdout\n%s\n--- stderr\n%s",
					strings.Join(p.args, " "), p.err, parts, p.stdout.String(), tail(text, 40))
			}
		case <-deadline.C:
			p.t.Fatalf("gantry %s: stderr did not say %q within %s\n--- stderr\n%s", strings.Join(p.args, " "), parts, timeout, tail(text, 40))
		}
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// wait waits for the process to end and returns what it did.
func (p *proc) wait() run {
	p.t.Helper()
	<-p.done
	p.cancel()
	p.mu.Lock()
	r := run{args: p.args, stdout: p.stdout.String(), stderr: p.stderr.String(), took: time.Since(p.start)}
	p.mu.Unlock()
	var ee *exec.ExitError
	switch {
	case p.err == nil:
	case errors.As(p.err, &ee):
		r.code = ee.ExitCode()
	default:
		p.t.Fatalf("gantry %s: %v", strings.Join(p.args, " "), p.err)
	}
	return r
}

// ---- the JSON result (design: `gantry deploy --output json`) ----

type result struct {
	Service string         `json:"service"`
	Version string         `json:"version"`
	Result  string         `json:"result"`
	Regions []regionResult `json:"regions"`
}

type regionResult struct {
	Stage  string `json:"stage"`
	Region string `json:"region"`
	Wave   int    `json:"wave"`
	Status string `json:"status"`
	Stacks []struct {
		Name   string `json:"name"`
		Kind   string `json:"kind"`
		Action string `json:"action"`
	} `json:"stacks"`
	Error string `json:"error"`
}

// parseResult reads the one JSON object gantry deploy --output json prints.
func parseResult(t *testing.T, r run) *result {
	t.Helper()
	out := strings.TrimSpace(r.stdout)
	if out == "" || strings.Contains(out, "\n") {
		t.Fatalf("stdout is not one line holding one JSON object\n%s", r)
	}
	var res result
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not the deploy result: %v\n%s", err, r)
	}
	return &res
}

func (r *result) summary() string {
	count := map[string]int{}
	for _, rr := range r.Regions {
		count[rr.Status]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(count)) {
		parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
	}
	return r.Result + " (" + strings.Join(parts, ", ") + ")"
}

// region returns the result of one region (every test here has one stage).
func (r *result) region(t *testing.T, region string) regionResult {
	t.Helper()
	for _, rr := range r.Regions {
		if rr.Region == region {
			return rr
		}
	}
	t.Fatalf("the result has no region %s: %s", region, r.summary())
	return regionResult{}
}

// wantStatuses checks every region's status: want maps a region to its
// status; the result must list exactly the regions of want.
func wantStatuses(t *testing.T, res *result, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, rr := range res.Regions {
		got[rr.Region] = rr.Status
		if w, ok := want[rr.Region]; ok && rr.Status != w {
			t.Errorf("%s: status %q, want %q (error: %s)", rr.Region, rr.Status, w, rr.Error)
		}
	}
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
		t.Errorf("the result lists regions %v, want %v", got, want)
	}
}

// ---- what the emulator holds ----

// cloud reads the emulator directly (not through the proxy, so the checks
// never show in the proxy's counts), in the stage's account, reached by
// assuming gantry-deploy as gantry does. Make it after the test's reset.
type cloud struct {
	t *testing.T
	p *awsx.Provider
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	p, err := awsx.New(context.Background(), awsx.Options{
		EndpointURL: emu.Endpoint,
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &cloud{t: t, p: p}
}

// stacks lists the stacks of a service (named <service>-...) that exist in
// an account and region, with their status and gantry:version tag.
func (c *cloud) stacks(account, region, service string) map[string]string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cf := cloudformation.NewFromConfig(c.cfg(ctx, account, region))
	out := map[string]string{}
	pages := cloudformation.NewDescribeStacksPaginator(cf, &cloudformation.DescribeStacksInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			c.t.Fatalf("listing the stacks of %s/%s: %v", account, region, err)
		}
		for _, s := range page.Stacks {
			name := aws.ToString(s.StackName)
			if !strings.HasPrefix(name, service+"-") || s.StackStatus == cfntypes.StackStatusDeleteComplete {
				continue
			}
			version := ""
			for _, tg := range s.Tags {
				if aws.ToString(tg.Key) == "gantry:version" {
					version = aws.ToString(tg.Value)
				}
			}
			out[name] = string(s.StackStatus) + " " + version
		}
	}
	return out
}

func (c *cloud) cfg(ctx context.Context, account, region string) aws.Config {
	c.t.Helper()
	cfg, err := c.p.Config(ctx, account, region)
	if err != nil {
		c.t.Fatalf("reaching %s in %s: %v", account, region, err)
	}
	return cfg
}

// journal reads every journal entry of (service, stage) from the stage's
// state table (in its account and first region).
func (c *cloud) journal(account, region, service, stage string) []state.Entry {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store := state.New(dynamodb.NewFromConfig(c.cfg(ctx, account, region)), state.DefaultTable)
	entries, err := store.Journal(ctx, service, stage, "")
	if err != nil {
		c.t.Fatalf("reading the journal of %s/%s: %v", service, stage, err)
	}
	return entries
}

// cfnMutations counts the mutating CloudFormation calls gantry made in a
// region, through the proxy.
func (e *env) cfnMutations(region string) map[string]int {
	out := map[string]int{}
	for op, n := range proxy.Mutating(e.proxy.CountsByRegion()[region]) {
		if strings.HasPrefix(op, "cloudformation:") {
			out[op] = n
		}
	}
	return out
}
