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
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/e2e/proxy"
	"github.com/gantryhq/gantry/internal/emulatortest"
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
	e2etest.Main(m, e2etest.MainOptions{TempPrefix: "gantry-e2e-", Name: "e2e", LogTimes: true})
}

// The harness's types, as this suite names them.
type (
	run    = e2etest.Run
	proc   = e2etest.Proc
	result = e2etest.Result
)

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
	e2etest.Emu.Reset(t)
	p, rec, url := newProxy(t)
	return &env{t: t, proxy: p, rec: rec, url: url, tmp: t.TempDir()}
}

// newProxy starts a proxy to the emulator, served through a recorder that
// attributes each request to an account. It stops with the test.
func newProxy(t *testing.T) (*proxy.Proxy, *recorder, string) {
	t.Helper()
	p := e2etest.NewProxy(t)
	rec := newRecorder(p)
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return p, rec, srv.URL
}

// runner runs gantry against endpoint, every gate open and halt off: the
// rollout suite is about stacks; e2e/gates is about flags.
func runner(endpoint string) e2etest.Runner {
	return e2etest.Runner{
		Endpoint:    endpoint,
		Env:         []string{"GANTRY_FLAGS=file:examples/flags/all-open.flagd.json"},
		Timeout:     cmdTimeout,
		Tail:        60,
		SignalCodes: true,
	}
}

// gantry runs gantry against this test's proxy and waits for it.
func (e *env) gantry(args ...string) run {
	e.t.Helper()
	return gantryAt(e.t, e.url, args...)
}

func gantryAt(t *testing.T, endpoint string, args ...string) run {
	t.Helper()
	return runner(endpoint).Run(t, args...)
}

// mustRun runs gantry and fails the test unless it exits with code.
func (e *env) mustRun(code int, args ...string) run {
	e.t.Helper()
	return runner(e.url).MustRun(e.t, code, args...)
}

// bootstrap runs gantry bootstrap FILE --demo-platform.
func (e *env) bootstrap(file string, extra ...string) {
	e.t.Helper()
	r := e.mustRun(0, append([]string{"bootstrap", file, "--demo-platform"}, extra...)...)
	e.t.Logf("bootstrap %s: %s", file, r.Took.Round(time.Millisecond))
}

// deploy runs gantry deploy FILE --version V --output json with extra
// flags, checks the exit code and returns the parsed result.
func (e *env) deploy(code int, file, version string, extra ...string) (*result, run) {
	e.t.Helper()
	args := append([]string{"deploy", file, "--version", version, "--output", "json"}, extra...)
	r := e.mustRun(code, args...)
	res := parseResult(e.t, r)
	e.t.Logf("deploy %s %s: exit %d, %s in %s", file, version, r.Code, res.Summary(), r.Took.Round(time.Millisecond))
	return res, r
}

// start runs gantry in the background; the test's cleanup kills it if it
// is still running.
func (e *env) start(args ...string) *proc {
	e.t.Helper()
	return runner(e.url).Start(e.t, args...)
}

// parseResult reads the one JSON object gantry deploy --output json
// prints, and checks it has the design's keys and no others.
func parseResult(t *testing.T, r run) *result {
	t.Helper()
	return e2etest.ParseResult(t, r)
}

// wantStatuses checks every region's status: want maps stage/region to a
// status, and "*" to the status of every region not named.
func wantStatuses(t *testing.T, res *result, want map[string]string) {
	t.Helper()
	for _, rr := range res.Regions {
		w, ok := want[rr.Key()]
		if !ok {
			w, ok = want["*"]
		}
		if !ok {
			continue
		}
		if rr.Status != w {
			t.Errorf("%s: status %q, want %q (error: %s)", rr.Key(), rr.Status, w, rr.Error)
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
