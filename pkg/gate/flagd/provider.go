package flagd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	of "github.com/open-feature/go-sdk/openfeature"
)

// Name is the provider's name in OpenFeature metadata.
const Name = "flagd-file"

// DefaultPollInterval is how often the file is also checked by polling,
// in case file-system events are missed (network file systems, some
// editors' atomic saves).
const DefaultPollInterval = 2 * time.Second

// Options configure a Provider.
type Options struct {
	// Logger receives reloads, load problems and operator errors; nil
	// discards them.
	Logger *slog.Logger
	// PollInterval is how often the file is checked besides file-system
	// events; zero means DefaultPollInterval, negative disables polling.
	PollInterval time.Duration
	// NoWatch loads the file once and never reloads it.
	NoWatch bool
	// Now tells the time for $flagd.timestamp; nil is time.Now.
	Now func() time.Time
}

// Provider is an OpenFeature provider serving a flagd flag file. It loads
// the file at Init, failing with a *LoadError when the file is invalid, and
// reloads it when it changes: a change that alters flags emits
// PROVIDER_CONFIGURATION_CHANGED with the changed keys. A reload that finds
// the file invalid or gone emits PROVIDER_ERROR, and every evaluation is
// then an ERROR (PARSE_ERROR or GENERAL) naming the problem until the file
// is fixed: a broken flag file never silently serves stale or default
// values.
type Provider struct {
	path string
	opts Options
	log  *slog.Logger

	mu      sync.RWMutex
	set     *FlagSet
	loadErr error // set while the file on disk is unusable
	content []byte

	events chan of.Event
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

var (
	_ of.FeatureProvider          = (*Provider)(nil)
	_ of.EventHandler             = (*Provider)(nil)
	_ of.ContextAwareStateHandler = (*Provider)(nil)
)

// New returns a provider for the flag file at path; Init loads it.
func New(path string, opts Options) *Provider {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Provider{path: path, opts: opts, log: log.With("flags", path), events: make(chan of.Event, 16)}
}

// Load parses the flag file at path.
func Load(path string) (*FlagSet, error) {
	data, err := readCapped(path)
	if err != nil {
		return nil, &LoadError{File: path, Err: err}
	}
	return Parse(path, data)
}

// Path is the flag file's path.
func (p *Provider) Path() string { return p.path }

// FlagSet returns the flags currently served (nil before Init).
func (p *Provider) FlagSet() *FlagSet {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.set
}

// Metadata implements of.FeatureProvider.
func (p *Provider) Metadata() of.Metadata { return of.Metadata{Name: Name} }

// Hooks implements of.FeatureProvider.
func (p *Provider) Hooks() []of.Hook { return nil }

// EventChannel implements of.EventHandler.
func (p *Provider) EventChannel() <-chan of.Event { return p.events }

// Init implements of.StateHandler.
func (p *Provider) Init(of.EvaluationContext) error {
	return p.InitWithContext(context.Background(), of.EvaluationContext{})
}

// InitWithContext loads the file and starts watching it.
func (p *Provider) InitWithContext(_ context.Context, _ of.EvaluationContext) error {
	data, err := readCapped(p.path)
	if err != nil {
		return &LoadError{File: p.path, Err: err}
	}
	set, err := Parse(p.path, data)
	if err != nil {
		return err
	}
	p.logWarnings(set)
	p.mu.Lock()
	p.set, p.content, p.loadErr = set, data, nil
	p.mu.Unlock()
	p.log.Info("flag file loaded", "flagCount", len(set.Flags))
	if !p.opts.NoWatch {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.watch()
	}
	return nil
}

// Shutdown implements of.StateHandler.
func (p *Provider) Shutdown() { _ = p.ShutdownWithContext(context.Background()) }

// ShutdownWithContext stops watching the file.
func (p *Provider) ShutdownWithContext(ctx context.Context) error {
	p.once.Do(func() {
		if p.stop == nil {
			return
		}
		close(p.stop)
		select {
		case <-p.done:
		case <-ctx.Done():
		}
	})
	return nil
}

func (p *Provider) logWarnings(set *FlagSet) {
	for _, w := range set.Warnings {
		p.log.Warn("flag file: " + w.String())
	}
}

// watch reloads the file on file-system events in its folder (editors often
// replace a file rather than write it) and on a slow poll.
func (p *Provider) watch() {
	defer close(p.done)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w, err := fsnotify.NewWatcher(); err != nil {
		p.log.Warn("cannot watch the flag file; polling only", "error", err)
	} else {
		defer w.Close()
		if err := w.Add(filepath.Dir(p.path)); err != nil {
			p.log.Warn("cannot watch the flag file's folder; polling only", "error", err)
		} else {
			events, errs = w.Events, w.Errors
		}
	}
	var tick <-chan time.Time
	if p.opts.PollInterval > 0 {
		t := time.NewTicker(p.opts.PollInterval)
		defer t.Stop()
		tick = t.C
	}
	base := filepath.Base(p.path)
	var settle <-chan time.Time
	for {
		select {
		case <-p.stop:
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if filepath.Base(ev.Name) == base {
				// Let a burst of writes (truncate, write, rename) settle.
				settle = time.After(50 * time.Millisecond)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			p.log.Warn("watching the flag file", "error", err)
		case <-settle:
			settle = nil
			p.reload()
		case <-tick:
			p.reload()
		}
	}
}

// Reload re-reads the file now (the watcher does this by itself).
func (p *Provider) Reload() { p.reload() }

func (p *Provider) reload() {
	data, err := readCapped(p.path)
	p.mu.RLock()
	same := err == nil && p.loadErr == nil && bytes.Equal(data, p.content)
	hadErr := p.loadErr != nil
	p.mu.RUnlock()
	if same {
		return
	}
	var set *FlagSet
	if err != nil {
		err = &LoadError{File: p.path, Err: err}
	} else {
		set, err = Parse(p.path, data)
	}
	if err != nil {
		p.mu.Lock()
		prevErr := p.loadErr
		p.loadErr, p.content = err, nil
		p.mu.Unlock()
		if prevErr == nil || prevErr.Error() != err.Error() {
			p.log.Error("flag file is invalid; every flag evaluates to an error until it is fixed", "error", err)
			p.emit(of.ProviderError, "flag file is invalid: "+err.Error(), nil, of.ParseErrorCode)
		}
		return
	}
	p.logWarnings(set)
	p.mu.Lock()
	old := p.set
	p.set, p.content, p.loadErr = set, data, nil
	p.mu.Unlock()
	changed := changedFlags(old, set)
	p.log.Info("flag file reloaded", "changed", changed)
	if hadErr {
		p.emit(of.ProviderReady, "flag file is valid again", nil, "")
	}
	if len(changed) > 0 || hadErr {
		p.emit(of.ProviderConfigChange, "flag file changed", changed, "")
	}
}

func (p *Provider) emit(t of.EventType, msg string, changed []string, code of.ErrorCode) {
	ev := of.Event{ProviderName: Name, EventType: t, ProviderEventDetails: of.ProviderEventDetails{
		Message: msg, FlagChanges: changed, ErrorCode: code,
	}}
	select {
	case p.events <- ev:
	default:
		p.log.Warn("provider event dropped: nobody is reading events", "event", t)
	}
}

// changedFlags lists the keys added, removed or modified between two sets.
func changedFlags(old, cur *FlagSet) []string {
	var out []string
	if old == nil {
		return cur.Keys()
	}
	for k, f := range cur.Flags {
		if o, ok := old.Flags[k]; !ok || o.canon != f.canon {
			out = append(out, k)
		}
	}
	for k := range old.Flags {
		if _, ok := cur.Flags[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// evaluate serves one evaluation from the current flags.
func (p *Provider) evaluate(flag string, t Type, def any, ctx of.FlattenedContext) Result {
	p.mu.RLock()
	set, loadErr := p.set, p.loadErr
	p.mu.RUnlock()
	var r Result
	switch {
	case loadErr != nil:
		code := of.ParseErrorCode
		var le *LoadError
		if errors.As(loadErr, &le) && le.Err != nil {
			code = of.GeneralCode
		}
		r = errResult(def, code, "flag file is unusable: "+loadErr.Error())
	case set == nil:
		r = errResult(def, of.ProviderNotReadyCode, "flag file not loaded yet")
	default:
		r = set.Evaluate(flag, t, def, ctx, p.opts.Now())
	}
	if r.OperatorError != "" {
		p.log.Debug("flagd operator returned null; the rule went on without it", "flag", flag, "error", r.OperatorError)
	}
	return r
}

// Metadata keys the provider adds to a result's flag metadata, beside the
// flag file's own: what a gate journals and --explain shows.
const (
	// MetaFractional names the fractional algorithm that decided.
	MetaFractional = "gantry.fractional"
	// MetaOperatorErrors holds the operator errors that evaluated to null.
	MetaOperatorErrors = "gantry.operatorErrors"
	// MetaExplain says which rule branch decided.
	MetaExplain = "gantry.explain"
)

func detail(r Result) of.ProviderResolutionDetail {
	md := of.FlagMetadata{}
	for k, v := range r.Metadata {
		md[k] = v
	}
	if r.Fractional != "" {
		md[MetaFractional] = r.Fractional
	}
	if r.OperatorError != "" {
		md[MetaOperatorErrors] = r.OperatorError
	}
	if r.Explain != "" {
		md[MetaExplain] = r.Explain
	}
	d := of.ProviderResolutionDetail{Reason: r.Reason, Variant: r.Variant, FlagMetadata: md}
	switch r.ErrorCode {
	case "":
	case of.FlagNotFoundCode:
		d.ResolutionError = of.NewFlagNotFoundResolutionError(r.ErrorMessage)
	case of.ParseErrorCode:
		d.ResolutionError = of.NewParseErrorResolutionError(r.ErrorMessage)
	case of.TypeMismatchCode:
		d.ResolutionError = of.NewTypeMismatchResolutionError(r.ErrorMessage)
	case of.ProviderNotReadyCode:
		d.ResolutionError = of.NewProviderNotReadyResolutionError(r.ErrorMessage)
	default:
		d.ResolutionError = of.NewGeneralResolutionError(r.ErrorMessage)
	}
	return d
}

// BooleanEvaluation implements of.FeatureProvider.
func (p *Provider) BooleanEvaluation(_ context.Context, flag string, def bool, ctx of.FlattenedContext) of.BoolResolutionDetail {
	r := p.evaluate(flag, Boolean, def, ctx)
	v, _ := r.Value.(bool)
	return of.BoolResolutionDetail{Value: v, ProviderResolutionDetail: detail(r)}
}

// StringEvaluation implements of.FeatureProvider.
func (p *Provider) StringEvaluation(_ context.Context, flag string, def string, ctx of.FlattenedContext) of.StringResolutionDetail {
	r := p.evaluate(flag, String, def, ctx)
	v, _ := r.Value.(string)
	return of.StringResolutionDetail{Value: v, ProviderResolutionDetail: detail(r)}
}

// FloatEvaluation implements of.FeatureProvider.
func (p *Provider) FloatEvaluation(_ context.Context, flag string, def float64, ctx of.FlattenedContext) of.FloatResolutionDetail {
	r := p.evaluate(flag, Float, def, ctx)
	v, _ := r.Value.(float64)
	return of.FloatResolutionDetail{Value: v, ProviderResolutionDetail: detail(r)}
}

// IntEvaluation implements of.FeatureProvider.
func (p *Provider) IntEvaluation(_ context.Context, flag string, def int64, ctx of.FlattenedContext) of.IntResolutionDetail {
	r := p.evaluate(flag, Integer, def, ctx)
	v, _ := r.Value.(int64)
	return of.IntResolutionDetail{Value: v, ProviderResolutionDetail: detail(r)}
}

// ObjectEvaluation implements of.FeatureProvider.
func (p *Provider) ObjectEvaluation(_ context.Context, flag string, def any, ctx of.FlattenedContext) of.InterfaceResolutionDetail {
	r := p.evaluate(flag, Object, def, ctx)
	return of.InterfaceResolutionDetail{Value: r.Value, ProviderResolutionDetail: detail(r)}
}

// String describes the provider for messages.
func (p *Provider) String() string { return fmt.Sprintf("flag file %s", p.path) }
