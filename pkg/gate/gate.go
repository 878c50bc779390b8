// Package gate decides, through OpenFeature, whether a region of a rollout
// may start (the descriptor's rollout.gate flag) and whether the rollout
// must stop (rollout.halt). It fails closed: an evaluation that errs, a flag
// that is missing, a provider that is not ready or a reason of ERROR holds
// the region (gate) or stops the rollout (halt), and says why.
//
// Open builds an OpenFeature client on an isolated API instance from a
// --flags / GANTRY_FLAGS spec (file:PATH for a flagd flag file,
// launchdarkly for LaunchDarkly); New wraps it as the rollout engine's
// deploy.Gate, which is also a deploy.GateWatcher.
package gate

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// Evaluation kinds.
const (
	KindGate = "gate"
	KindHalt = "halt"
)

// Context attribute names, besides the targeting key <service>/<stage>/<region>.
const (
	AttrService   = "service"
	AttrTeam      = "team"
	AttrStage     = "stage"
	AttrRegion    = "region"
	AttrWave      = "wave"
	AttrVersion   = "version"
	AttrAccount   = "account"
	AttrRolloutID = "rolloutId"
)

// Evaluation is one evaluation of the gate or halt flag, as logged and as
// given to Options.OnEvaluation (to journal it).
type Evaluation struct {
	Time time.Time
	// Kind is KindGate or KindHalt.
	Kind string
	Flag string
	// TargetingKey is <service>/<stage>/<region>.
	TargetingKey string
	// Context holds the attributes evaluated with (not the targeting key).
	Context map[string]any
	// Value is the flag's value (false when the evaluation failed or the
	// flag is disabled; Failed, not Value, decides then).
	Value bool
	// Weight is a weight flag's value (KindWeight), 0 when it failed.
	Weight       int64
	Variant      string
	Reason       string
	ErrorCode    string
	ErrorMessage string
	// Failed reports an evaluation that fails closed: an error, an error
	// code or a reason of ERROR.
	Failed bool
	// Outcome is what the rollout does: for a gate "open" or "closed", for
	// halt "halted" or "running".
	Outcome string
	// Why is the sentence a person reads.
	Why string
	// Metadata is the flag's metadata (a flagd flag file's flag and flag
	// set "metadata"), without the provider's own keys below.
	Metadata map[string]any
	// Fractional names the fractional bucketing algorithm that decided
	// ("v2" or "v3"), when a flagd fractional split ran: a change of
	// algorithm re-buckets regions.
	Fractional string
	// Explain says which rule branch decided, or which error (flagd: the
	// if-branch taken and operators that returned null; LaunchDarkly: the
	// evaluation reason, e.g. RULE_MATCH rule 0).
	Explain  string
	Duration time.Duration
}

// Attrs flattens the evaluation for a journal entry's attributes.
func (e Evaluation) Attrs() map[string]string {
	a := map[string]string{
		"flag": e.Flag, "targetingKey": e.TargetingKey, "value": fmt.Sprint(e.Value),
		"reason": e.Reason, "outcome": e.Outcome,
	}
	if e.Kind == KindWeight {
		a["value"] = fmt.Sprint(e.Weight)
	}
	if e.Variant != "" {
		a["variant"] = e.Variant
	}
	if e.ErrorCode != "" {
		a["errorCode"] = e.ErrorCode
	}
	if e.ErrorMessage != "" {
		a["errorMessage"] = e.ErrorMessage
	}
	for k, v := range e.Context {
		a["context."+k] = fmt.Sprint(v)
	}
	for k, v := range e.Metadata {
		a["metadata."+k] = fmt.Sprint(v)
	}
	if e.Fractional != "" {
		a["fractional"] = e.Fractional
	}
	if e.Explain != "" {
		a["explain"] = e.Explain
	}
	return a
}

// Keys providers add to flag metadata for gantry (see flagd.MetaExplain):
// read into Evaluation's fields, kept out of its Metadata.
const (
	metaFractional     = "gantry.fractional"
	metaExplain        = "gantry.explain"
	metaOperatorErrors = "gantry.operatorErrors"
)

// fromMetadata fills the evaluation's metadata, algorithm and explanation.
func (e *Evaluation) fromMetadata(md of.FlagMetadata) {
	for k, v := range md {
		switch k {
		case metaFractional:
			e.Fractional, _ = v.(string)
		case metaExplain:
			e.Explain, _ = v.(string)
		case metaOperatorErrors:
		default:
			if e.Metadata == nil {
				e.Metadata = map[string]any{}
			}
			e.Metadata[k] = v
		}
	}
}

// Options configure a Gate.
type Options struct {
	// Logger receives one record per evaluation; nil discards.
	Logger *slog.Logger
	// OnEvaluation, when set, is called after every evaluation (from the
	// evaluating goroutine; regions of a wave evaluate concurrently).
	OnEvaluation func(Evaluation)
	// Describe names the flag source in reasons (e.g. "flag file
	// flags.json"); optional.
	Describe string
}

// Gate evaluates a descriptor's gate and halt flags. It implements
// deploy.Gate and deploy.GateWatcher.
type Gate struct {
	client   *of.Client
	gateFlag string
	haltFlag string
	opts     Options
	log      *slog.Logger

	mu      sync.Mutex
	changed chan struct{}
	handler of.EventCallback
}

// New returns the gate of d's rollout.gate and rollout.halt flags read
// through client. A descriptor without a gate flag is always open; without
// a halt flag, never halted. A nil client (no provider configured) holds
// every region of a descriptor that names a gate flag, and stops a rollout
// whose descriptor names a halt flag: fail closed. Close releases the
// event subscription.
func New(client *of.Client, d *descriptor.Descriptor, opts Options) *Gate {
	g := &Gate{client: client, opts: opts, changed: make(chan struct{})}
	if d != nil {
		g.gateFlag, g.haltFlag = d.Rollout.Gate, d.Rollout.Halt
	}
	g.log = opts.Logger
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if client != nil {
		cb := func(of.EventDetails) { g.signal() }
		g.handler = &cb
		// A changed flag file (or LaunchDarkly update), and a provider
		// that recovers, may open a closed gate.
		client.AddHandler(of.ProviderConfigChange, g.handler)
		client.AddHandler(of.ProviderReady, g.handler)
	}
	return g
}

// NewFlags is New for explicit flag names (either may be "").
func NewFlags(client *of.Client, gateFlag, haltFlag string, opts Options) *Gate {
	return New(client, &descriptor.Descriptor{Rollout: descriptor.Rollout{Gate: gateFlag, Halt: haltFlag}}, opts)
}

// Close stops watching the provider's events.
func (g *Gate) Close() {
	if g.client != nil && g.handler != nil {
		g.client.RemoveHandler(of.ProviderConfigChange, g.handler)
		g.client.RemoveHandler(of.ProviderReady, g.handler)
	}
}

// Changed implements deploy.GateWatcher: the channel closes at the
// provider's next PROVIDER_CONFIGURATION_CHANGED (or PROVIDER_READY) event.
func (g *Gate) Changed() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.changed
}

func (g *Gate) signal() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.changed)
	g.changed = make(chan struct{})
}

// Context returns the evaluation context of a request: targeting key
// <service>/<stage>/<region> and the design's attributes plus rolloutId.
func Context(req rollout.GateRequest) of.EvaluationContext {
	return of.NewEvaluationContext(req.TargetingKey(), attributes(req))
}

func attributes(req rollout.GateRequest) map[string]any {
	return map[string]any{
		AttrService: req.Service, AttrTeam: req.Team, AttrStage: req.Stage, AttrRegion: req.Region,
		AttrWave: req.Wave, AttrVersion: req.Version, AttrAccount: req.Account, AttrRolloutID: req.RolloutID,
	}
}

// Check implements deploy.Gate: the gate flag, evaluated for the region.
// An evaluation that fails returns a closed decision and an *EvalError
// whose message says why.
func (g *Gate) Check(ctx context.Context, req rollout.GateRequest) (rollout.Decision, error) {
	if g.gateFlag == "" {
		return rollout.Decision{Open: true, Reason: "no gate flag configured"}, nil
	}
	ev := g.evaluate(ctx, KindGate, g.gateFlag, false, req)
	if ev.Failed {
		return rollout.Decision{Open: false, Reason: ev.Why, Attrs: ev.Attrs()}, &EvalError{Evaluation: ev}
	}
	return rollout.Decision{Open: ev.Value, Reason: ev.Why, Attrs: ev.Attrs()}, nil
}

// Halted implements deploy.Gate: the halt flag, evaluated for the region.
// An evaluation that fails reports halted with an *EvalError (the engine
// stops the rollout: fail closed).
func (g *Gate) Halted(ctx context.Context, req rollout.GateRequest) (bool, string, error) {
	if g.haltFlag == "" {
		return false, "", nil
	}
	ev := g.evaluate(ctx, KindHalt, g.haltFlag, false, req)
	if ev.Failed {
		return true, ev.Why, &EvalError{Evaluation: ev}
	}
	return ev.Value, ev.Why, nil
}

// EvalError is a flag evaluation that failed, so the gate holds or the
// rollout stops.
type EvalError struct{ Evaluation Evaluation }

func (e *EvalError) Error() string { return e.Evaluation.Why }

// Evaluate evaluates kind's flag for req without deciding anything: what
// `gantry gates` shows. Kind is KindGate or KindHalt; a kind whose flag the
// descriptor does not name returns ok false.
func (g *Gate) Evaluate(ctx context.Context, kind string, req rollout.GateRequest) (ev Evaluation, ok bool) {
	switch kind {
	case KindGate:
		if g.gateFlag == "" {
			return Evaluation{}, false
		}
		return g.evaluate(ctx, KindGate, g.gateFlag, false, req), true
	case KindHalt:
		if g.haltFlag == "" {
			return Evaluation{}, false
		}
		return g.evaluate(ctx, KindHalt, g.haltFlag, false, req), true
	}
	return Evaluation{}, false
}

func (g *Gate) evaluate(ctx context.Context, kind, flag string, def bool, req rollout.GateRequest) Evaluation {
	start := time.Now()
	ev := Evaluation{Time: start, Kind: kind, Flag: flag, TargetingKey: req.TargetingKey(), Context: attributes(req)}
	if g.client == nil {
		ev.Value, ev.Reason, ev.ErrorCode = def, string(of.ErrorReason), string(of.ProviderNotReadyCode)
		ev.ErrorMessage = "no flag provider configured: pass --flags file:PATH or --flags launchdarkly, or set GANTRY_FLAGS"
		ev.Failed = true
	} else {
		d, err := g.client.BooleanValueDetails(ctx, flag, def, Context(req))
		ev.Value, ev.Variant, ev.Reason = d.Value, d.Variant, string(d.Reason)
		ev.ErrorCode, ev.ErrorMessage = string(d.ErrorCode), d.ErrorMessage
		ev.fromMetadata(d.FlagMetadata)
		if err != nil || d.ErrorCode != "" || d.Reason == of.ErrorReason {
			ev.Failed = true
			if ev.ErrorCode == "" {
				ev.ErrorCode = string(of.GeneralCode)
			}
			if ev.ErrorMessage == "" && err != nil {
				ev.ErrorMessage = err.Error()
			}
			ev.Value = def
		}
	}
	ev.Duration = time.Since(start)
	ev.Outcome, ev.Why = g.explain(ev)
	g.log.LogAttrs(ctx, level(ev), "flag evaluated",
		slog.String("kind", kind), slog.String("flag", flag), slog.String("targetingKey", ev.TargetingKey),
		slog.Any("context", ev.Context), slog.Bool("value", ev.Value), slog.String("variant", ev.Variant),
		slog.String("reason", ev.Reason), slog.String("errorCode", ev.ErrorCode),
		slog.String("errorMessage", ev.ErrorMessage), slog.String("outcome", ev.Outcome),
		slog.Any("metadata", ev.Metadata), slog.String("fractional", ev.Fractional), slog.String("explain", ev.Explain),
		slog.Duration("took", ev.Duration))
	if g.opts.OnEvaluation != nil {
		g.opts.OnEvaluation(ev)
	}
	return ev
}

func level(ev Evaluation) slog.Level {
	if ev.Failed {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

func (g *Gate) explain(ev Evaluation) (outcome, why string) {
	src := ""
	if g.opts.Describe != "" {
		src = " in " + g.opts.Describe
	}
	if ev.Failed {
		msg := ev.ErrorMessage
		if msg == "" {
			msg = "reason " + ev.Reason
		}
		why = fmt.Sprintf("flag %q%s could not be evaluated for %s (%s: %s); failing closed", ev.Flag, src, ev.TargetingKey, ev.ErrorCode, msg)
		if ev.Kind == KindGate {
			return "closed", why
		}
		return "halted", why
	}
	detail := "reason " + ev.Reason
	if ev.Variant != "" {
		detail = fmt.Sprintf("variant %q, reason %s", ev.Variant, ev.Reason)
	}
	if ev.Fractional != "" {
		detail += ", fractional " + ev.Fractional
	}
	why = fmt.Sprintf("flag %q is %t for %s (%s)", ev.Flag, ev.Value, ev.TargetingKey, detail)
	switch {
	case ev.Kind == KindGate && ev.Value:
		return "open", why
	case ev.Kind == KindGate:
		return "closed", why
	case ev.Value:
		return "halted", why
	}
	return "running", why
}
