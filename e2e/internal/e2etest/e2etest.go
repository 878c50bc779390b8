// Package e2etest is the harness the end-to-end suites (e2e/rollout,
// e2e/gates) share: it builds the gantry binary once, starts the local AWS
// emulator once, puts an e2e/proxy in front of it per test, runs gantry as
// a CI pipeline would -- a subprocess without a TTY, with --output json on
// stdout and progress on stderr -- and parses the deploy result.
package e2etest

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

	"github.com/gantryhq/gantry/e2e/proxy"
	"github.com/gantryhq/gantry/internal/emulatortest"
)

// Shared by every test of the suite (set up by Main).
var (
	Emu    *emulatortest.Emulator
	Binary string // the gantry binary built for this run
	Repo   string // repository root: the working directory of every gantry run
)

// MainOptions names a suite in Main's temporary folder and messages.
type MainOptions struct {
	TempPrefix string // prefix of the folder the binary is built in
	Name       string // prefix of Main's error messages
	LogTimes   bool   // report build and start times under -v
}

// Main is a suite's TestMain: it builds gantry, starts the emulator, runs
// the tests and exits with their code.
func Main(m *testing.M, o MainOptions) {
	os.Exit(runMain(m, o))
}

func runMain(m *testing.M, o MainOptions) int {
	flag.Parse()
	var err error
	if Repo, err = emulatortest.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tmp, err := os.MkdirTemp("", o.TempPrefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	Binary = filepath.Join(tmp, "gantry")
	build := exec.Command("go", "build", "-o", Binary, "./cmd/gantry")
	build.Dir = Repo
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: building gantry (go build -o %s ./cmd/gantry in %s): %v\n", o.Name, Binary, Repo, err)
		return 1
	}
	built := time.Since(start)
	e, stop, err := emulatortest.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	Emu = e
	if o.LogTimes && testing.Verbose() {
		fmt.Fprintf(os.Stderr, "%s: gantry built in %s; emulator at %s (started in %s)\n",
			o.Name, built.Round(time.Millisecond), Emu.Endpoint, (time.Since(start) - built).Round(time.Millisecond))
	}
	return m.Run()
}

// NewProxy makes a proxy (no faults, zero counts, seed 1) to the emulator;
// the caller serves it.
func NewProxy(t *testing.T) *proxy.Proxy {
	t.Helper()
	p, err := proxy.New(Emu.Endpoint, proxy.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Run is one finished gantry command. Tail is how many lines of stderr
// String shows.
type Run struct {
	Args   []string
	Code   int
	Stdout string
	Stderr string
	Took   time.Duration
	Tail   int
}

// String is the command and its output, for failure messages.
func (r Run) String() string {
	return fmt.Sprintf("gantry %s\nexit %d after %s\n--- stdout\n%s\n--- stderr (last %d lines)\n%s",
		strings.Join(r.Args, " "), r.Code, r.Took.Round(time.Millisecond), r.Stdout, r.Tail, Tail(r.Stderr, r.Tail))
}

// Tail is the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Runner runs the built gantry against an endpoint.
type Runner struct {
	Endpoint string        // gantry's --endpoint-url
	Env      []string      // added to the base environment
	Timeout  time.Duration // bounds one command
	Tail     int           // lines of stderr in failure messages
	// SignalCodes reports a process killed by a signal as minus the signal.
	SignalCodes bool
}

// Command makes a gantry command pointed at the endpoint: no TTY (stdin is
// /dev/null, stdout and stderr are pipes), test credentials, nothing of
// the caller's AWS configuration, and then r.Env.
func (r Runner) Command(ctx context.Context, args ...string) *exec.Cmd {
	full := append(slices.Clone(args), "--endpoint-url", r.Endpoint)
	cmd := exec.CommandContext(ctx, Binary, full...)
	cmd.Dir = Repo
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
	cmd.Env = append(cmd.Env, r.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Run runs gantry and waits for it.
func (r Runner) Run(t *testing.T, args ...string) Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	defer cancel()
	cmd := r.Command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := Run{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start), Tail: r.Tail}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	default:
		t.Fatalf("running gantry %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("gantry %s did not finish within %s\n%s", strings.Join(args, " "), r.Timeout, res)
	}
	return res
}

// MustRun runs gantry and fails the test unless it exits with code.
func (r Runner) MustRun(t *testing.T, code int, args ...string) Run {
	t.Helper()
	res := r.Run(t, args...)
	if res.Code != code {
		t.Fatalf("want exit %d\n%s", code, res)
	}
	return res
}

// Proc is a gantry command running in the background.
type Proc struct {
	t      *testing.T
	r      Runner
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

// Start runs gantry in the background; the test's cleanup kills it if it
// is still running.
func (r Runner) Start(t *testing.T, args ...string) *Proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	p := &Proc{t: t, r: r, args: args, cancel: cancel, done: make(chan struct{}), grow: make(chan struct{})}
	p.cmd = r.Command(ctx, args...)
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = (*procStderr)(p)
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting gantry %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
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

type procStderr Proc

func (w *procStderr) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.stderr.Write(b)
	close(w.grow)
	w.grow = make(chan struct{})
	return n, err
}

func (p *Proc) stderrText() (string, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String(), p.grow
}

// Pid is the process ID of gantry.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// WaitStderr waits until stderr has a line containing every one of parts,
// and returns that line.
func (p *Proc) WaitStderr(timeout time.Duration, parts ...string) string {
	p.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		text, grow := p.stderrText()
		for line := range strings.SplitSeq(text, "\n") {
			if ContainsAll(line, parts...) {
				return line
			}
		}
		select {
		case <-grow:
		case <-p.done:
			text, _ := p.stderrText()
			for line := range strings.SplitSeq(text, "\n") {
				if ContainsAll(line, parts...) {
					return line
				}
			}
			p.t.Fatalf("gantry %s exited (%v) before stderr said %q\n--- stdout\n%s\n--- stderr\n%s",
				strings.Join(p.args, " "), p.err, parts, p.stdout.String(), Tail(text, p.r.Tail))
		case <-deadline.C:
			p.t.Fatalf("gantry %s: stderr did not say %q within %s\n--- stderr\n%s", strings.Join(p.args, " "), parts, timeout, Tail(text, p.r.Tail))
		}
	}
}

// ContainsAll says whether s contains every one of parts.
func ContainsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// Wait waits for the process to end and returns what it did.
func (p *Proc) Wait() Run {
	p.t.Helper()
	<-p.done
	p.cancel()
	text, _ := p.stderrText()
	r := Run{Args: p.args, Stdout: p.stdout.String(), Stderr: text, Took: time.Since(p.start), Tail: p.r.Tail}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
	case errors.As(p.err, &ee):
		r.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); p.r.SignalCodes && ok && ws.Signaled() {
			r.Code = -int(ws.Signal())
		}
	default:
		p.t.Fatalf("gantry %s: %v", strings.Join(p.args, " "), p.err)
	}
	return r
}

// Signal sends sig to gantry (SIGTERM: what a cancelled CI job sends) and
// waits for it to end.
func (p *Proc) Signal(sig syscall.Signal) Run {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v to gantry: %v", sig, err)
	}
	return p.Wait()
}

// Kill sends SIGKILL to gantry (not its process group: gantry starts no
// children) and waits for it to die.
func (p *Proc) Kill() Run {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("kill -9 gantry: %v", err)
	}
	return p.Wait()
}

// ---- the JSON result (design: `gantry deploy --output json`) ----

// Result is what gantry deploy --output json prints.
type Result struct {
	Service string         `json:"service"`
	Version string         `json:"version"`
	Result  string         `json:"result"`
	Regions []RegionResult `json:"regions"`
	// RolloutID and Notes are issue 16's additions.
	RolloutID string   `json:"rolloutId"`
	Notes     []string `json:"notes"`
}

// RegionResult is one region of a Result.
type RegionResult struct {
	Stage  string        `json:"stage"`
	Region string        `json:"region"`
	Wave   int           `json:"wave"`
	Status string        `json:"status"`
	Stacks []StackResult `json:"stacks"`
	Error  string        `json:"error"`
	// Canary is set when the region ran a canary (issue 13).
	Canary *Canary `json:"canary"`
}

// Canary is a region's canary in a Result.
type Canary struct {
	Steps         int      `json:"steps"`
	Step          int      `json:"step"`
	Weight        int      `json:"weight"`
	StableVersion string   `json:"stableVersion"`
	Promoted      bool     `json:"promoted"`
	Aborted       string   `json:"aborted"`
	AbortSeconds  *float64 `json:"abortSeconds"`
	Changes       []struct {
		Step   int    `json:"step"`
		Weight int    `json:"weight"`
		Why    string `json:"why"`
	} `json:"changes"`
}

// StackResult is one stack of a RegionResult.
type StackResult struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Action  string `json:"action"`
	Status  string `json:"status"`
	Changes int    `json:"changes"`
}

// Key is stage/region.
func (r RegionResult) Key() string { return r.Stage + "/" + r.Region }

// Stack returns the region's stack of a kind (data, app).
func (r RegionResult) Stack(kind string) (StackResult, bool) {
	for _, s := range r.Stacks {
		if s.Kind == kind {
			return s, true
		}
	}
	return StackResult{}, false
}

// ParseResult reads the one JSON object gantry deploy --output json
// prints, and checks it has the design's keys and no others.
func ParseResult(t *testing.T, r Run) *Result {
	t.Helper()
	out := strings.TrimSpace(r.Stdout)
	if strings.Count(out, "\n") != 0 {
		t.Fatalf("stdout is not one line holding one JSON object\n%s", r)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, r)
	}
	// The design's keys, and issue 16's rolloutId and notes.
	if got, want := slices.Sorted(maps.Keys(raw)), []string{"notes", "regions", "result", "rolloutId", "service", "version"}; !slices.Equal(got, want) {
		t.Errorf("JSON result keys = %v, want %v", got, want)
	}
	var regions []map[string]json.RawMessage
	if err := json.Unmarshal(raw["regions"], &regions); err != nil {
		t.Fatalf("regions: %v\n%s", err, r)
	}
	// canary is issue 13's: the step reached and the final weight of a
	// region that ran a canary.
	allowed := []string{"canary", "error", "region", "stacks", "stage", "status", "wave"}
	for _, reg := range regions {
		for k := range reg {
			if !slices.Contains(allowed, k) {
				t.Errorf("region object has key %q, not one of the design's %v", k, allowed)
			}
		}
	}
	var res Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("decoding the result: %v\n%s", err, r)
	}
	return &res
}

// DecodeResult reads the one JSON object gantry deploy --output json
// prints, without checking its keys.
func DecodeResult(t *testing.T, r Run) *Result {
	t.Helper()
	out := strings.TrimSpace(r.Stdout)
	if out == "" || strings.Contains(out, "\n") {
		t.Fatalf("stdout is not one line holding one JSON object\n%s", r)
	}
	var res Result
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not the deploy result: %v\n%s", err, r)
	}
	return &res
}

// Statuses maps stage/region to status.
func (r *Result) Statuses() map[string]string {
	out := map[string]string{}
	for _, rr := range r.Regions {
		out[rr.Key()] = rr.Status
	}
	return out
}

// Region returns the result of one region of a stage.
func (r *Result) Region(t *testing.T, stage, region string) RegionResult {
	t.Helper()
	for _, rr := range r.Regions {
		if rr.Stage == stage && rr.Region == region {
			return rr
		}
	}
	t.Fatalf("the result has no region %s/%s: %v", stage, region, r.Statuses())
	return RegionResult{}
}

// Summary is the result and how many regions ended in each status.
func (r *Result) Summary() string {
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
