// Package rollout_test is gantry's end-to-end rollout suite (issue 3, item
// 9): it builds the gantry binary once, starts the local AWS emulator once
// with the fault-injecting proxy of e2e/proxy in front of it, and drives
// the binary as a CI pipeline would -- a subprocess without a TTY, with
// --output json on stdout and progress on stderr -- then checks exit codes,
// the JSON result and the stacks in the emulator through the AWS SDK.
//
// The emulator is reset before every test, so the tests run one after
// another (the reset is global). See e2e/README.md for what each proves.
package rollout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path"
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

// Shared by every test of the package (set up in TestMain).
var (
	emu    *emulatortest.Emulator
	binary string // the gantry binary built for this run
	repo   string // repository root: the working directory of every gantry run
)

// cmdTimeout bounds one gantry command.
const cmdTimeout = 4 * time.Minute

// payments is the example every stage-and-wave test rolls out.
const payments = "examples/payments/payments.sd.yaml"

// The payments example's accounts.
const (
	devAccount     = "111122223333"
	stagingAccount = "444455556666"
	prodAccount    = "777788889999"
)

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
	tmp, err := os.MkdirTemp("", "gantry-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	binary = filepath.Join(tmp, "gantry")
	build := exec.Command("go", "build", "-o", binary, "./cmd/gantry")
	build.Dir = repo
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building gantry (go build -o %s ./cmd/gantry in %s): %v\n", binary, repo, err)
		return 1
	}
	built := time.Since(start)
	e, stop, err := emulatortest.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	emu = e
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: gantry built in %s; emulator at %s (started in %s)\n",
			built.Round(time.Millisecond), emu.Endpoint, (time.Since(start) - built).Round(time.Millisecond))
	}
	return m.Run()
}

// env is one test's world: the reset emulator behind a fresh proxy.
type env struct {
	t     *testing.T
	proxy *proxy.Proxy
	rec   *recorder
	url   string // the proxy's URL, gantry's --endpoint-url
	tmp   string
}

// newEnv resets the emulator and puts a fresh proxy (no faults, zero
// counts) in front of it.
func newEnv(t *testing.T) *env {
	t.Helper()
	emu.Reset(t)
	p, rec, url := newProxy(t)
	return &env{t: t, proxy: p, rec: rec, url: url, tmp: t.TempDir()}
}

// newProxy starts a proxy to the emulator, served through a recorder that
// attributes each request to an account. It stops with the test.
func newProxy(t *testing.T) (*proxy.Proxy, *recorder, string) {
	t.Helper()
	p, err := proxy.New(emu.Endpoint, proxy.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(p)
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return p, rec, srv.URL
}

// run is one finished gantry command.
type run struct {
	args   []string
	code   int
	stdout string
	stderr string
	took   time.Duration
}

// String is the command and its output, for failure messages.
func (r run) String() string {
	return fmt.Sprintf("gantry %s\nexit %d after %s\n--- stdout\n%s\n--- stderr (last 60 lines)\n%s",
		strings.Join(r.args, " "), r.code, r.took.Round(time.Millisecond), r.stdout, tail(r.stderr, 60))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// command makes a gantry command pointed at endpoint: no TTY (stdin is
// /dev/null, stdout and stderr are pipes), test credentials, nothing of
// the caller's AWS configuration.
func command(ctx context.Context, endpoint string, args ...string) *exec.Cmd {
	full := append(slices.Clone(args), "--endpoint-url", endpoint)
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
		// Every gate open, halt off: the rollout suite is about stacks;
		// e2e/gates is about flags.
		"GANTRY_FLAGS=file:examples/flags/all-open.flagd.json",
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// gantry runs gantry against this test's proxy and waits for it.
func (e *env) gantry(args ...string) run {
	e.t.Helper()
	return gantryAt(e.t, e.url, args...)
}

func gantryAt(t *testing.T, endpoint string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := command(ctx, endpoint, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := run{args: args, stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	switch ee := err.(type) {
	case nil:
	case *exec.ExitError:
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running gantry %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("gantry %s did not finish within %s\n%s", strings.Join(args, " "), cmdTimeout, r)
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
func (e *env) bootstrap(file string, extra ...string) {
	e.t.Helper()
	r := e.mustRun(0, append([]string{"bootstrap", file, "--demo-platform"}, extra...)...)
	e.t.Logf("bootstrap %s: %s", file, r.took.Round(time.Millisecond))
}

// deploy runs gantry deploy FILE --version V --output json with extra
// flags, checks the exit code and returns the parsed result.
func (e *env) deploy(code int, file, version string, extra ...string) (*result, run) {
	e.t.Helper()
	args := append([]string{"deploy", file, "--version", version, "--output", "json"}, extra...)
	r := e.mustRun(code, args...)
	res := parseResult(e.t, r)
	e.t.Logf("deploy %s %s: exit %d, %s in %s", file, version, r.code, summary(res), r.took.Round(time.Millisecond))
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
	p.cmd = command(ctx, e.url, args...)
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

func (p *proc) stderrText() (string, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String(), p.grow
}

// waitStderr waits until stderr has a line containing every one of parts,
// and returns that line.
func (p *proc) waitStderr(timeout time.Duration, parts ...string) string {
	p.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		text, grow := p.stderrText()
		for line := range strings.SplitSeq(text, "\n") {
			if containsAll(line, parts...) {
				return line
			}
		}
		select {
		case <-grow:
		case <-p.done:
			text, _ := p.stderrText()
			for line := range strings.SplitSeq(text, "\n") {
				if containsAll(line, parts...) {
					return line
				}
			}
			p.t.Fatalf("gantry %s exited (%v) before stderr said %q\n--- stdout\n%s\n--- stderr\n%s",
				strings.Join(p.args, " "), p.err, parts, p.stdout.String(), tail(text, 60))
		case <-deadline.C:
			p.t.Fatalf("gantry %s: stderr did not say %q within %s\n--- stderr\n%s", strings.Join(p.args, " "), parts, timeout, tail(text, 60))
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
	text, _ := p.stderrText()
	r := run{args: p.args, stdout: p.stdout.String(), stderr: text, took: time.Since(p.start)}
	switch ee := p.err.(type) {
	case nil:
	case *exec.ExitError:
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = -int(ws.Signal())
		}
	default:
		p.t.Fatalf("gantry %s: %v", strings.Join(p.args, " "), p.err)
	}
	return r
}

// kill sends SIGKILL to gantry (not its process group: gantry starts no
// children) and waits for it to die.
func (p *proc) kill() run {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("kill -9 gantry: %v", err)
	}
	return p.wait()
}

// ---- the JSON result (design: `gantry deploy --output json`) ----

type result struct {
	Service string         `json:"service"`
	Version string         `json:"version"`
	Result  string         `json:"result"`
	Regions []regionResult `json:"regions"`
}

type regionResult struct {
	Stage  string        `json:"stage"`
	Region string        `json:"region"`
	Wave   int           `json:"wave"`
	Status string        `json:"status"`
	Stacks []stackResult `json:"stacks"`
	Error  string        `json:"error"`
}

type stackResult struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Action  string `json:"action"`
	Status  string `json:"status"`
	Changes int    `json:"changes"`
}

func (r regionResult) key() string { return r.Stage + "/" + r.Region }

// stack returns the region's stack of a kind (data, app).
func (r regionResult) stack(kind string) (stackResult, bool) {
	for _, s := range r.Stacks {
		if s.Kind == kind {
			return s, true
		}
	}
	return stackResult{}, false
}

// parseResult reads the one JSON object gantry deploy --output json
// prints, and checks it has the design's keys and no others.
func parseResult(t *testing.T, r run) *result {
	t.Helper()
	out := strings.TrimSpace(r.stdout)
	if strings.Count(out, "\n") != 0 {
		t.Fatalf("stdout is not one line holding one JSON object\n%s", r)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, r)
	}
	if got, want := slices.Sorted(maps.Keys(raw)), []string{"regions", "result", "service", "version"}; !slices.Equal(got, want) {
		t.Errorf("JSON result keys = %v, want the design's %v", got, want)
	}
	var regions []map[string]json.RawMessage
	if err := json.Unmarshal(raw["regions"], &regions); err != nil {
		t.Fatalf("regions: %v\n%s", err, r)
	}
	allowed := []string{"error", "region", "stacks", "stage", "status", "wave"}
	for _, reg := range regions {
		for k := range reg {
			if !slices.Contains(allowed, k) {
				t.Errorf("region object has key %q, not one of the design's %v", k, allowed)
			}
		}
	}
	var res result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("decoding the result: %v\n%s", err, r)
	}
	return &res
}

// statuses maps stage/region to status.
func (r *result) statuses() map[string]string {
	out := map[string]string{}
	for _, rr := range r.Regions {
		out[rr.key()] = rr.Status
	}
	return out
}

func (r *result) region(t *testing.T, stage, region string) regionResult {
	t.Helper()
	for _, rr := range r.Regions {
		if rr.Stage == stage && rr.Region == region {
			return rr
		}
	}
	t.Fatalf("the result has no region %s/%s: %v", stage, region, r.statuses())
	return regionResult{}
}

func summary(r *result) string {
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

// wantStatuses checks every region's status: want maps stage/region to a
// status, and "*" to the status of every region not named.
func wantStatuses(t *testing.T, res *result, want map[string]string) {
	t.Helper()
	for _, rr := range res.Regions {
		w, ok := want[rr.key()]
		if !ok {
			w, ok = want["*"]
		}
		if !ok {
			continue
		}
		if rr.Status != w {
			t.Errorf("%s: status %q, want %q (error: %s)", rr.key(), rr.Status, w, rr.Error)
		}
	}
}

// ---- counting requests per account ----

// recorder sits in front of the proxy and counts requests by account,
// region and operation. The account of a request is found from its access
// key: the test's own key is the emulator's default account, and every
// AssumeRole answer that passes through names the account of the key it
// hands out.
type recorder struct {
	next http.Handler

	mu     sync.Mutex
	keys   map[string]string                    // access key ID -> account
	counts map[string]map[string]map[string]int // account -> region -> op -> n
}

func newRecorder(next http.Handler) *recorder {
	return &recorder{next: next, keys: map[string]string{"test": emulatortest.Account}, counts: map[string]map[string]map[string]int{}}
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	key, region, service := credential(r)
	op := operation(r, body)
	rc.mu.Lock()
	account := rc.keys[key]
	if account == "" {
		account = "?"
	}
	byRegion := rc.counts[account]
	if byRegion == nil {
		byRegion = map[string]map[string]int{}
		rc.counts[account] = byRegion
	}
	if byRegion[region] == nil {
		byRegion[region] = map[string]int{}
	}
	byRegion[region][service+":"+op]++
	rc.mu.Unlock()
	if service != "sts" || op != "AssumeRole" {
		rc.next.ServeHTTP(w, r)
		return
	}
	bw := &bufferedWriter{header: http.Header{}}
	rc.next.ServeHTTP(bw, r)
	if bw.status == 0 || bw.status/100 == 2 {
		var out struct {
			Key string `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
			ARN string `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
		}
		if xml.Unmarshal(bw.body.Bytes(), &out) == nil && out.Key != "" {
			// arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
			if parts := strings.Split(out.ARN, ":"); len(parts) >= 5 {
				rc.mu.Lock()
				rc.keys[out.Key] = parts[4]
				rc.mu.Unlock()
			}
		}
	}
	maps.Copy(w.Header(), bw.header)
	if bw.status != 0 {
		w.WriteHeader(bw.status)
	}
	_, _ = w.Write(bw.body.Bytes())
}

type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(s int) {
	if b.status == 0 {
		b.status = s
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// credential returns the access key, region and service of a SigV4
// request.
func credential(r *http.Request) (key, region, service string) {
	auth := r.Header.Get("Authorization")
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", "", "unsigned"
	}
	cred, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return "", "", "unsigned"
	}
	return parts[0], parts[2], parts[3]
}

// operation names the API operation of a request, as the proxy does.
func operation(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:]
	}
	if strings.Contains(r.URL.Path, "/operation/") {
		return path.Base(r.URL.Path)
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if f, err := url.ParseQuery(string(body)); err == nil && f.Get("Action") != "" {
			return f.Get("Action")
		}
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	return r.Method
}

// accountCounts returns the counts of one account: region -> op -> n.
func (rc *recorder) accountCounts(account string) map[string]map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]map[string]int{}
	for region, ops := range rc.counts[account] {
		out[region] = maps.Clone(ops)
	}
	return out
}

// all returns every count: account -> region -> op -> n.
func (rc *recorder) all() map[string]map[string]map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]map[string]map[string]int{}
	for a, byRegion := range rc.counts {
		out[a] = map[string]map[string]int{}
		for region, ops := range byRegion {
			out[a][region] = maps.Clone(ops)
		}
	}
	return out
}

func (rc *recorder) reset() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	clear(rc.counts)
}

// total sums a map of operation counts.
func total(ops map[string]int) int {
	n := 0
	for _, v := range ops {
		n += v
	}
	return n
}

// formatOps is "op=n, ..." sorted by name.
func formatOps(ops map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ops)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, ops[k]))
	}
	return strings.Join(parts, ", ")
}
