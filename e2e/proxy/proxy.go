// Package proxy is a reverse proxy between gantry (or any AWS SDK client)
// and the local AWS emulator that makes the emulator behave more like AWS
// under load and failure: added latency, throttling and 5xx errors in each
// protocol's real wire shape (so the SDK's retryer handles them as it would
// on AWS), CloudFormation stack operations that take time, and stack
// updates that fail and roll back. It counts every request by region and
// operation, for measuring API calls and proving that a rerun mutates
// nothing.
//
// Every knob can be changed while requests flow; the setters are safe for
// concurrent use. A Proxy is meant for tests and benchmarks: it listens on
// 127.0.0.1 only and buffers whole requests and responses.
//
//	p, err := proxy.New(emulatorURL)
//	...
//	if err := p.Start(); err != nil { ... }
//	defer p.Close()
//	p.SetStackDuration(5 * time.Second)
//	p.SetThrottles(proxy.Throttle{Operation: "cloudformation:DescribeStacks", Every: 3})
//	// point gantry at p.URL() (--endpoint-url or AWS_ENDPOINT_URL)
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxBody bounds a request body (CloudFormation takes templates of up to
// 1 MB in the request).
const maxBody = 32 << 20

// Proxy is a running (after Start) or ready reverse proxy to one target.
type Proxy struct {
	target    *url.URL
	log       *slog.Logger
	transport *http.Transport
	client    *http.Client
	now       func() time.Time

	srv     *http.Server
	url     string
	serving chan struct{} // closed when Serve returns

	mu           sync.Mutex
	rng          *rand.Rand // jitter and request IDs
	seed         [2]uint64
	seen         map[string]int // region|operation -> requests since ResetCounts, for the dice
	latency      time.Duration
	jitter       time.Duration
	throttles    []*throttleRule
	serverErrors []*serverErrorRule
	drops        []*dropRule
	durations    []StackDuration
	failures     []Failure
	stacks       stackState
	counts       map[string]map[string]int // region -> operation key -> requests
	throttled    map[string]int
	failed       map[string]int
	droppedEarly map[string]int // dropped BeforeForward, per operation key
	droppedLate  map[string]int // dropped AfterForward
	injected     map[string]int // stack -> injected failures

	quotas         []Quota
	quotaBuckets   map[string]*bucket // account/region/operation key
	quotaThrottled map[string]int     // account/region/operation key -> requests
	accounts       map[string]string  // access key ID -> account, as STS said
}

// Option configures New.
type Option func(*options)

type options struct {
	logger *slog.Logger
	seed   *[2]uint64
}

// WithLogger sends a debug line per request and an info line per injected
// fault to l (nil, the default, discards them).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithSeed makes jitter and Fraction decisions reproducible. A request's
// Fraction dice depend only on the seed, its region and operation, and
// how many requests of that operation in that region came before it since
// the last ResetCounts -- not on how the requests of different regions
// interleave -- so a run of the same calls meets the same faults.
func WithSeed(seed uint64) Option {
	return func(o *options) { o.seed = &[2]uint64{seed, seed ^ 0x9e3779b97f4a7c15} }
}

// New makes a proxy to target, the emulator's base URL
// (http://127.0.0.1:PORT). It does not listen until Start.
func New(target string, opts ...Option) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("proxy target %q: %w", target, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("proxy target %q: want http://HOST:PORT", target)
	}
	u.Path, u.RawQuery = strings.TrimSuffix(u.Path, "/"), ""
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	seed := [2]uint64{rand.Uint64(), rand.Uint64()}
	if o.seed != nil {
		seed = *o.seed
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.Proxy = nil // never via an HTTP(S)_PROXY
	return &Proxy{
		target:       u,
		log:          o.logger,
		transport:    tr,
		client:       &http.Client{Transport: tr},
		now:          time.Now,
		rng:          rand.New(rand.NewPCG(seed[0], seed[1])),
		seed:         seed,
		seen:         map[string]int{},
		stacks:       newStackState(),
		counts:       map[string]map[string]int{},
		throttled:    map[string]int{},
		failed:       map[string]int{},
		droppedEarly: map[string]int{},
		droppedLate:  map[string]int{},
		injected:     map[string]int{},

		quotaBuckets:   map[string]*bucket{},
		quotaThrottled: map[string]int{},
		accounts:       map[string]string{},
	}, nil
}

// Start listens on a free 127.0.0.1 port and serves in the background.
func (p *Proxy) Start() error {
	if p.srv != nil {
		return errors.New("proxy already started")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("proxy: listening: %w", err)
	}
	p.url = "http://" + ln.Addr().String()
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelWarn)}
	p.serving = make(chan struct{})
	go func() {
		defer close(p.serving)
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("proxy stopped serving", "err", err)
		}
	}()
	return nil
}

// URL is the proxy's base URL, http://127.0.0.1:PORT ("" before Start).
func (p *Proxy) URL() string { return p.url }

// Close stops listening, waits up to 5 s for requests in flight, and
// closes idle connections to the target.
func (p *Proxy) Close() error {
	if p.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, p.srv.Close())
	}
	<-p.serving
	p.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("proxy: closing: %w", err)
	}
	return nil
}

// SetLatency delays every request by fixed plus a uniform random part of
// up to jitter, before anything else happens to it.
func (p *Proxy) SetLatency(fixed, jitter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency, p.jitter = max(fixed, 0), max(jitter, 0)
}

// SetThrottles replaces the throttling rules (none: no throttling). Their
// request counters and token buckets start afresh.
func (p *Proxy) SetThrottles(rules ...Throttle) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttles = nil
	for _, r := range rules {
		p.throttles = append(p.throttles, &throttleRule{Throttle: r, buckets: map[string]*bucket{}})
	}
}

// SetServerErrors replaces the 5xx rules (none: no injected 5xx).
func (p *Proxy) SetServerErrors(rules ...ServerError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serverErrors = nil
	for _, r := range rules {
		p.serverErrors = append(p.serverErrors, &serverErrorRule{ServerError: r, buckets: map[string]*bucket{}})
	}
}

// SetDrops replaces the dropped-connection rules (none: no drops). The
// first matching rule decides when the connection closes.
func (p *Proxy) SetDrops(rules ...Drop) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drops = nil
	for _, r := range rules {
		p.drops = append(p.drops, &dropRule{Drop: r, buckets: map[string]*bucket{}})
	}
}

// Counts returns the requests received per operation key
// ("cloudformation:DescribeStacks"), over all regions. Every request
// counts, including the SDK's retries and those the proxy answered itself
// (throttled, 5xx, injected failures).
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for _, ops := range p.counts {
		for k, n := range ops {
			out[k] += n
		}
	}
	return out
}

// CountsByRegion returns the requests per region and operation key. An
// unsigned request counts under region "".
func (p *Proxy) CountsByRegion() map[string]map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]map[string]int, len(p.counts))
	for r, ops := range p.counts {
		out[r] = maps.Clone(ops)
	}
	return out
}

// Throttled returns how many requests were throttled, per operation key.
func (p *Proxy) Throttled() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.throttled)
}

// ServerErrors returns how many requests got an injected 5xx, per
// operation key.
func (p *Proxy) ServerErrors() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.failed)
}

// Dropped returns how many requests had their connection dropped at a
// point (BeforeForward or AfterForward), per operation key.
func (p *Proxy) Dropped(when DropPoint) map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.dropCountsLocked(when))
}

func (p *Proxy) dropCountsLocked(when DropPoint) map[string]int {
	if when == AfterForward {
		return p.droppedLate
	}
	return p.droppedEarly
}

// InjectedFailures returns how many ExecuteChangeSet calls were failed by
// a Failure rule, per "region/stack".
func (p *Proxy) InjectedFailures() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.injected)
}

// ResetCounts sets every counter back to zero (rules and stack overrides
// stay). The Fraction dice start their sequences again.
func (p *Proxy) ResetCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.counts)
	clear(p.throttled)
	clear(p.failed)
	clear(p.seen)
	clear(p.droppedEarly)
	clear(p.droppedLate)
	clear(p.injected)
	clear(p.quotaThrottled)
	p.stacks.ops = nil
}

// mutatingPrefixes begin the names of operations that change something.
func mutatingPrefixes() []string {
	return []string{
		"Create", "Update", "Delete", "Put", "Execute", "Set", "Modify", "Register", "Deregister",
		"Tag", "Untag", "Authorize", "Revoke", "Attach", "Detach", "Cancel", "Continue", "Start", "Stop",
		"Enable", "Disable", "Add", "Remove", "Associate", "Disassociate", "Run", "Terminate",
		"BatchWrite", "TransactWrite", "Import", "Rollback", "Signal", "Reboot",
	}
}

// IsMutating reports whether the operation (a key such as
// "cloudformation:ExecuteChangeSet", or a bare name) changes something,
// judged by its verb. REST operations (counted by HTTP method) are mutating
// unless GET or HEAD.
func IsMutating(op string) bool {
	if _, name, ok := strings.Cut(op, ":"); ok {
		op = name
	}
	switch op {
	case http.MethodGet, http.MethodHead:
		return false
	case http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch:
		return true
	}
	for _, p := range mutatingPrefixes() {
		if strings.HasPrefix(op, p) && (len(op) == len(p) || op[len(p)] >= 'A' && op[len(p)] <= 'Z') {
			return true
		}
	}
	return false
}

// Mutating keeps the mutating operations of counts (see IsMutating).
func Mutating(counts map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range counts {
		if n > 0 && IsMutating(k) {
			out[k] = n
		}
	}
	return out
}

// ServeHTTP handles one request: count, delay, maybe throttle, fail or
// drop it, and otherwise forward it (CloudFormation calls through the
// stack emulation).
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "proxy: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	c := parseCall(r, body)
	delay, throttled, status, drop := p.decide(c)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch {
	case throttled:
		p.log.Info("proxy: throttled", "region", c.Region, "op", c.Key())
		writeError(w, c, throttleError(c), p.requestID())
		return
	case status != 0:
		p.log.Info("proxy: injected server error", "region", c.Region, "op", c.Key(), "status", status)
		writeError(w, c, serverError(c, status), p.requestID())
		return
	}
	if drop != nil {
		p.log.Info("proxy: dropping the connection", "region", c.Region, "op", c.Key(), "when", drop.String())
		if *drop == AfterForward {
			// Let the call happen upstream; the client never hears of it.
			p.handle(discard{}, r, c, body)
		}
		hangUp(w)
		return
	}
	p.handle(w, r, c, body)
}

// handle forwards the call (CloudFormation through the stack emulation)
// and answers it.
func (p *Proxy) handle(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	p.log.Debug("proxy: request", "region", c.Region, "op", c.Key())
	if c.Service == "cloudformation" && c.Protocol == protoQuery {
		p.cloudFormation(w, r, c, body)
		return
	}
	resp, err := p.forward(r, body)
	if err != nil {
		p.badGateway(w, c, err)
		return
	}
	if c.Service == "sts" && resp.ok() {
		p.learnAccount(c, resp.body)
	}
	resp.write(w)
}

// discard is a ResponseWriter that drops the answer.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// hangUp closes the client's connection without writing a byte of the
// answer.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// decide counts c and rolls its dice, all under one lock. drop is non-nil
// when c's connection is to be dropped.
func (p *Proxy) decide(c *call) (delay time.Duration, throttled bool, status int, drop *DropPoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ops := p.counts[c.Region]
	if ops == nil {
		ops = map[string]int{}
		p.counts[c.Region] = ops
	}
	ops[c.Key()]++
	c.Account = p.accountLocked(c.AccessKey)
	delay = p.latency
	if p.jitter > 0 {
		delay += time.Duration(p.rng.Int64N(int64(p.jitter)))
	}
	now := p.now()
	dice := p.diceLocked(c)
	for _, t := range p.throttles {
		// Every rule sees the request, so each rule's Nth is its own.
		if t.throttled(c, now, dice.Float64) {
			throttled = true
		}
	}
	// A request refused anyway takes no token of its quota.
	throttled = throttled || p.overQuotaLocked(c, now)
	if throttled {
		p.throttled[c.Key()]++
		return delay, true, 0, nil
	}
	for _, s := range p.serverErrors {
		if st := s.status(c, dice.Float64()); st != 0 && status == 0 {
			status = st
		}
	}
	if status != 0 {
		p.failed[c.Key()]++
		return delay, false, status, nil
	}
	for _, d := range p.drops {
		if d.dropped(c, dice.Float64) && drop == nil {
			when := d.When
			drop = &when
		}
	}
	if drop != nil {
		p.dropCountsLocked(*drop)[c.Key()]++
	}
	return delay, false, 0, drop
}

// diceLocked is the random source of c's Fraction rules: seeded by the
// proxy's seed, c's region and operation, and c's rank among the requests
// of that region and operation.
func (p *Proxy) diceLocked(c *call) *rand.Rand {
	k := c.Region + "|" + c.Key()
	p.seen[k]++
	h := fnv.New64a()
	_, _ = h.Write([]byte(k))
	return rand.New(rand.NewPCG(p.seed[0]^h.Sum64(), p.seed[1]+uint64(p.seen[k])))
}

func (p *Proxy) requestID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.uuidLocked()
}

// uuidLocked is a random version-4 UUID; p.mu must be held.
func (p *Proxy) uuidLocked() string {
	a, b := p.rng.Uint64(), p.rng.Uint64()
	a = a&^0xf000 | 0x4000
	b = b&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// response is a buffered upstream (or synthesized) response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) ok() bool { return r.status/100 == 2 }

func (r *response) write(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range r.header {
		if hopByHop(k) || strings.EqualFold(k, "Content-Length") {
			continue
		}
		h[k] = vs
	}
	h.Set("Content-Length", strconv.Itoa(len(r.body)))
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

func hopByHop(h string) bool {
	switch http.CanonicalHeaderKey(h) {
	case "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// forward sends the request on to the target unchanged (the Host header
// too, so that URLs the emulator builds point at the proxy) and buffers
// the answer.
func (p *Proxy) forward(r *http.Request, body []byte) (*response, error) {
	u := *p.target
	u.Path += r.URL.Path
	u.RawPath = ""
	if r.URL.RawPath != "" {
		u.RawPath = p.target.EscapedPath() + r.URL.RawPath
	}
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		// Accept-Encoding is left to the transport, which then decodes.
		if hopByHop(k) || strings.EqualFold(k, "Accept-Encoding") {
			continue
		}
		out.Header[k] = vs
	}
	out.Host = r.Host
	return p.roundTrip(out)
}

func (p *Proxy) roundTrip(req *http.Request) (*response, error) {
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// badGateway answers when the target could not be reached: a 502, which
// the SDK retries.
func (p *Proxy) badGateway(w http.ResponseWriter, c *call, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	p.log.Warn("proxy: target unreachable", "op", c.Key(), "err", err)
	writeError(w, c, apiError{Status: http.StatusBadGateway, Code: "BadGateway", Message: "gantry test proxy: " + err.Error()}, p.requestID())
}
