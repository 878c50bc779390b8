// Package ldprovider is an OpenFeature provider over LaunchDarkly's Go
// server SDK (v7). It maps the OpenFeature evaluation context to an LD
// context (targeting key → key; kind from a "kind" attribute, "user" by
// default; "name" and "anonymous" to the built-in attributes; everything
// else to custom attributes), LD reasons and errors to OpenFeature's, and
// LD flag changes to PROVIDER_CONFIGURATION_CHANGED.
package ldprovider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldreason"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ld "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/interfaces"
	"github.com/launchdarkly/go-server-sdk/v7/ldcomponents"
	of "github.com/open-feature/go-sdk/openfeature"
)

// Name is the provider's name in OpenFeature metadata.
const Name = "launchdarkly"

// Options configure the provider.
type Options struct {
	// Logger receives connection status changes; nil discards.
	Logger *slog.Logger
	// WaitFor bounds how long Connect waits for LaunchDarkly's flags.
	WaitFor time.Duration
}

// Provider evaluates flags with a LaunchDarkly client.
type Provider struct {
	client *ld.LDClient
	owns   bool
	log    *slog.Logger

	events chan of.Event
	mu     sync.Mutex
	stop   chan struct{}
	wg     sync.WaitGroup
}

var (
	_ of.FeatureProvider = (*Provider)(nil)
	_ of.EventHandler    = (*Provider)(nil)
	_ of.StateHandler    = (*Provider)(nil)
)

// New wraps an existing LaunchDarkly client; the caller keeps owning it
// (tests build one over the SDK's test data source).
func New(client *ld.LDClient, opts Options) *Provider {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Provider{client: client, log: log.With("provider", Name), events: make(chan of.Event, 16)}
}

// Connect makes a LaunchDarkly client for sdkKey, waits up to
// opts.WaitFor for its flags, and returns a provider that closes the
// client at Shutdown.
func Connect(sdkKey string, opts Options) (*Provider, error) {
	wait := opts.WaitFor
	if wait <= 0 {
		wait = 10 * time.Second
	}
	cfg := ld.Config{Logging: ldcomponents.NoLogging()}
	client, err := ld.MakeCustomClient(sdkKey, cfg, wait)
	if err != nil {
		if client != nil {
			_ = client.Close()
		}
		return nil, err
	}
	p := New(client, opts)
	p.owns = true
	return p, nil
}

// Client is the LaunchDarkly client evaluations go to.
func (p *Provider) Client() *ld.LDClient { return p.client }

// Metadata implements of.FeatureProvider.
func (p *Provider) Metadata() of.Metadata { return of.Metadata{Name: Name} }

// Hooks implements of.FeatureProvider.
func (p *Provider) Hooks() []of.Hook { return nil }

// EventChannel implements of.EventHandler.
func (p *Provider) EventChannel() <-chan of.Event { return p.events }

// Init implements of.StateHandler: ready once the client has its flags,
// then forwarding LD's flag changes and connection status as events.
func (p *Provider) Init(of.EvaluationContext) error {
	if p.client == nil {
		return errors.New("no LaunchDarkly client")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		return nil
	}
	p.stop = make(chan struct{})
	flags := p.client.GetFlagTracker().AddFlagChangeListener()
	status := p.client.GetDataSourceStatusProvider().AddStatusListener()
	p.wg.Add(1)
	go p.listen(p.stop, flags, status)
	if !p.client.Initialized() {
		return fmt.Errorf("LaunchDarkly client has no flags yet (data source %s)", p.client.GetDataSourceStatusProvider().GetStatus().State)
	}
	return nil
}

// Shutdown implements of.StateHandler.
func (p *Provider) Shutdown() {
	p.mu.Lock()
	stop := p.stop
	p.stop = nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		p.wg.Wait()
	}
	if p.owns {
		_ = p.client.Close()
	}
}

func (p *Provider) listen(stop <-chan struct{}, flags <-chan interfaces.FlagChangeEvent, status <-chan interfaces.DataSourceStatus) {
	defer p.wg.Done()
	tracker, statusProv := p.client.GetFlagTracker(), p.client.GetDataSourceStatusProvider()
	defer tracker.RemoveFlagChangeListener(flags)
	defer statusProv.RemoveStatusListener(status)
	for {
		select {
		case <-stop:
			return
		case ev, ok := <-flags:
			if !ok {
				return
			}
			p.emit(of.ProviderConfigChange, "LaunchDarkly flag changed", []string{ev.Key}, "")
		case st, ok := <-status:
			if !ok {
				return
			}
			p.log.Info("LaunchDarkly data source status", "state", st.State)
			switch st.State {
			case interfaces.DataSourceStateValid:
				p.emit(of.ProviderReady, "LaunchDarkly data source valid", nil, "")
			case interfaces.DataSourceStateInterrupted:
				p.emit(of.ProviderStale, "LaunchDarkly connection interrupted: "+st.LastError.Message, nil, "")
			case interfaces.DataSourceStateOff:
				p.emit(of.ProviderError, "LaunchDarkly data source off: "+st.LastError.Message, nil, of.GeneralCode)
			}
		}
	}
}

func (p *Provider) emit(t of.EventType, msg string, changed []string, code of.ErrorCode) {
	select {
	case p.events <- of.Event{ProviderName: Name, EventType: t, ProviderEventDetails: of.ProviderEventDetails{Message: msg, FlagChanges: changed, ErrorCode: code}}:
	default:
		p.log.Warn("provider event dropped: nobody is reading events", "event", t)
	}
}

// Context maps an OpenFeature evaluation context to a LaunchDarkly one.
func Context(flat of.FlattenedContext) (ldcontext.Context, *of.ResolutionError) {
	key, _ := flat[of.TargetingKey].(string)
	if key == "" {
		key, _ = flat["key"].(string)
	}
	if key == "" {
		e := of.NewTargetingKeyMissingResolutionError("LaunchDarkly needs a targeting key")
		return ldcontext.Context{}, &e
	}
	kind := ldcontext.DefaultKind
	if k, ok := flat["kind"]; ok {
		s, ok := k.(string)
		if !ok || s == "" || s == "multi" {
			e := of.NewInvalidContextResolutionError(fmt.Sprintf("context kind %v is not a single LaunchDarkly context kind", k))
			return ldcontext.Context{}, &e
		}
		kind = ldcontext.Kind(s)
	}
	b := ldcontext.NewBuilder(key).Kind(kind)
	for name, v := range flat {
		switch name {
		case of.TargetingKey, "key", "kind":
			continue
		case "name":
			if s, ok := v.(string); ok {
				b.Name(s)
				continue
			}
		case "anonymous":
			if a, ok := v.(bool); ok {
				b.Anonymous(a)
				continue
			}
		case "privateAttributes":
			if list, ok := v.([]any); ok {
				for _, a := range list {
					if s, ok := a.(string); ok {
						b.Private(s)
					}
				}
				continue
			}
		}
		b.SetValue(name, ldvalue.CopyArbitraryValue(v))
	}
	c, err := b.TryBuild()
	if err != nil {
		e := of.NewInvalidContextResolutionError(err.Error())
		return ldcontext.Context{}, &e
	}
	return c, nil
}

// Reason maps an LD evaluation reason to OpenFeature's reason.
func Reason(r ldreason.EvaluationReason) of.Reason {
	switch r.GetKind() {
	case ldreason.EvalReasonOff:
		return of.DisabledReason
	case ldreason.EvalReasonTargetMatch, ldreason.EvalReasonRuleMatch:
		return of.TargetingMatchReason
	case ldreason.EvalReasonFallthrough:
		if r.IsInExperiment() {
			return of.SplitReason
		}
		return of.DefaultReason
	case ldreason.EvalReasonPrerequisiteFailed:
		return of.Reason("PREREQUISITE_FAILED")
	case ldreason.EvalReasonError:
		return of.ErrorReason
	}
	return of.UnknownReason
}

// resolutionError maps an LD error kind to OpenFeature's error.
func resolutionError(kind ldreason.EvalErrorKind, flag string) of.ResolutionError {
	switch kind {
	case ldreason.EvalErrorClientNotReady:
		return of.NewProviderNotReadyResolutionError("LaunchDarkly client is not ready")
	case ldreason.EvalErrorFlagNotFound:
		return of.NewFlagNotFoundResolutionError(fmt.Sprintf("flag %q is not in LaunchDarkly", flag))
	case ldreason.EvalErrorMalformedFlag:
		return of.NewParseErrorResolutionError(fmt.Sprintf("flag %q is malformed in LaunchDarkly", flag))
	case ldreason.EvalErrorUserNotSpecified:
		return of.NewTargetingKeyMissingResolutionError("LaunchDarkly needs a context key")
	case ldreason.EvalErrorWrongType:
		return of.NewTypeMismatchResolutionError(fmt.Sprintf("flag %q has a value of another type", flag))
	}
	return of.NewGeneralResolutionError(fmt.Sprintf("LaunchDarkly could not evaluate flag %q (%s)", flag, kind))
}

func detail(flag string, d ldreason.EvaluationDetail) of.ProviderResolutionDetail {
	out := of.ProviderResolutionDetail{Reason: Reason(d.Reason)}
	if d.VariationIndex.IsDefined() {
		out.Variant = strconv.Itoa(d.VariationIndex.IntValue())
	}
	if d.Reason.GetKind() == ldreason.EvalReasonError {
		out.ResolutionError = resolutionError(d.Reason.GetErrorKind(), flag)
	}
	return out
}

func failed(e *of.ResolutionError) of.ProviderResolutionDetail {
	return of.ProviderResolutionDetail{Reason: of.ErrorReason, ResolutionError: *e}
}

// BooleanEvaluation implements of.FeatureProvider.
func (p *Provider) BooleanEvaluation(_ context.Context, flag string, def bool, flat of.FlattenedContext) of.BoolResolutionDetail {
	c, rerr := Context(flat)
	if rerr != nil {
		return of.BoolResolutionDetail{Value: def, ProviderResolutionDetail: failed(rerr)}
	}
	v, d, _ := p.client.BoolVariationDetail(flag, c, def)
	return of.BoolResolutionDetail{Value: v, ProviderResolutionDetail: detail(flag, d)}
}

// StringEvaluation implements of.FeatureProvider.
func (p *Provider) StringEvaluation(_ context.Context, flag string, def string, flat of.FlattenedContext) of.StringResolutionDetail {
	c, rerr := Context(flat)
	if rerr != nil {
		return of.StringResolutionDetail{Value: def, ProviderResolutionDetail: failed(rerr)}
	}
	v, d, _ := p.client.StringVariationDetail(flag, c, def)
	return of.StringResolutionDetail{Value: v, ProviderResolutionDetail: detail(flag, d)}
}

// FloatEvaluation implements of.FeatureProvider.
func (p *Provider) FloatEvaluation(_ context.Context, flag string, def float64, flat of.FlattenedContext) of.FloatResolutionDetail {
	c, rerr := Context(flat)
	if rerr != nil {
		return of.FloatResolutionDetail{Value: def, ProviderResolutionDetail: failed(rerr)}
	}
	v, d, _ := p.client.Float64VariationDetail(flag, c, def)
	return of.FloatResolutionDetail{Value: v, ProviderResolutionDetail: detail(flag, d)}
}

// IntEvaluation implements of.FeatureProvider.
func (p *Provider) IntEvaluation(_ context.Context, flag string, def int64, flat of.FlattenedContext) of.IntResolutionDetail {
	c, rerr := Context(flat)
	if rerr != nil {
		return of.IntResolutionDetail{Value: def, ProviderResolutionDetail: failed(rerr)}
	}
	v, d, _ := p.client.JSONVariationDetail(flag, c, ldvalue.Float64(float64(def)))
	out := detail(flag, d)
	if out.ResolutionError == (of.ResolutionError{}) {
		f := v.Float64Value()
		if v.Type() != ldvalue.NumberType || !v.IsInt() {
			out = of.ProviderResolutionDetail{Reason: of.ErrorReason, ResolutionError: of.NewTypeMismatchResolutionError(fmt.Sprintf("flag %q is not an integer flag: its value is %s", flag, v.JSONString()))}
			return of.IntResolutionDetail{Value: def, ProviderResolutionDetail: out}
		}
		return of.IntResolutionDetail{Value: int64(f), ProviderResolutionDetail: out}
	}
	return of.IntResolutionDetail{Value: def, ProviderResolutionDetail: out}
}

// ObjectEvaluation implements of.FeatureProvider.
func (p *Provider) ObjectEvaluation(_ context.Context, flag string, def any, flat of.FlattenedContext) of.InterfaceResolutionDetail {
	c, rerr := Context(flat)
	if rerr != nil {
		return of.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: failed(rerr)}
	}
	v, d, _ := p.client.JSONVariationDetail(flag, c, ldvalue.CopyArbitraryValue(def))
	out := detail(flag, d)
	if out.ResolutionError != (of.ResolutionError{}) {
		return of.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: out}
	}
	return of.InterfaceResolutionDetail{Value: v.AsArbitraryValue(), ProviderResolutionDetail: out}
}
