// Package ldprovider is an OpenFeature provider over LaunchDarkly's Go
// server SDK (v7). It maps the OpenFeature evaluation context to an LD
// context (a rollout's as a multi-kind context of "service" and "region"
// contexts; see Context), LD reasons and errors to OpenFeature's (with the
// reason's detail as flag metadata "gantry.explain"), and LD flag changes
// to PROVIDER_CONFIGURATION_CHANGED.
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

// LaunchDarkly context kinds of a rollout's evaluation (see Context).
const (
	KindService = ldcontext.Kind("service")
	KindRegion  = ldcontext.Kind("region")
)

// Context maps an OpenFeature evaluation context to a LaunchDarkly one:
//
//   - "kind": "multi" with one object per kind ({"kind": "multi",
//     "service": {"key": "payments", ...}, "region": {"key": ...}}): a
//     multi-kind context, each object's "key" (or "targetingKey") its key;
//   - a rollout's context (attributes service, stage and region, no kind):
//     a multi-kind context of a "service" context (key the service;
//     attributes name, team, version, rolloutId), a "region" context (key
//     the region; attributes stage, wave, account, service and deployment,
//     the targeting key <service>/<stage>/<region>) and, so that rules
//     written before these kinds keep working, the "user" context of the
//     targeting key with every attribute;
//   - anything else: one context of kind "kind" (default "user") keyed by
//     the targeting key.
func Context(flat of.FlattenedContext) (ldcontext.Context, *of.ResolutionError) {
	if k, ok := flat["kind"]; ok && k == "multi" {
		return multiContext(flat)
	}
	single, rerr := singleContext(flat)
	if rerr != nil {
		return single, rerr
	}
	if _, hasKind := flat["kind"]; hasKind || !isRollout(flat) {
		return single, nil
	}
	return rolloutContext(single, flat)
}

func isRollout(flat of.FlattenedContext) bool {
	for _, a := range []string{"service", "stage", "region"} {
		if s, _ := flat[a].(string); s == "" {
			return false
		}
	}
	return true
}

// rolloutContext adds the service and region contexts to the user one.
func rolloutContext(user ldcontext.Context, flat of.FlattenedContext) (ldcontext.Context, *of.ResolutionError) {
	str := func(k string) string { s, _ := flat[k].(string); return s }
	svc := ldcontext.NewBuilder(str("service")).Kind(KindService).Name(str("service"))
	for _, a := range []string{"team", "version", "rolloutId"} {
		if v, ok := flat[a]; ok {
			svc.SetValue(a, ldvalue.CopyArbitraryValue(v))
		}
	}
	reg := ldcontext.NewBuilder(str("region")).Kind(KindRegion)
	for _, a := range []string{"stage", "wave", "account", "service"} {
		if v, ok := flat[a]; ok {
			reg.SetValue(a, ldvalue.CopyArbitraryValue(v))
		}
	}
	reg.SetString("deployment", user.Key())
	c, err := ldcontext.NewMultiBuilder().Add(user).Add(svc.Build()).Add(reg.Build()).TryBuild()
	if err != nil {
		e := of.NewInvalidContextResolutionError(err.Error())
		return ldcontext.Context{}, &e
	}
	return c, nil
}

// multiContext builds a multi-kind context from one object per kind.
func multiContext(flat of.FlattenedContext) (ldcontext.Context, *of.ResolutionError) {
	mb := ldcontext.NewMultiBuilder()
	n := 0
	for name, v := range flat {
		obj, ok := v.(map[string]any)
		if !ok || name == "kind" {
			continue
		}
		attrs := of.FlattenedContext{"kind": name}
		for k, e := range obj {
			attrs[k] = e
		}
		c, rerr := singleContext(attrs)
		if rerr != nil {
			return ldcontext.Context{}, rerr
		}
		mb.Add(c)
		n++
	}
	c, err := mb.TryBuild()
	if err != nil || n == 0 {
		msg := "a multi-kind context needs one object per kind, each with a key"
		if err != nil {
			msg += ": " + err.Error()
		}
		e := of.NewInvalidContextResolutionError(msg)
		return ldcontext.Context{}, &e
	}
	return c, nil
}

// singleContext is one context: kind from "kind" (default user), key from
// the targeting key or "key", "name" and "anonymous" built in, the rest
// custom attributes.
func singleContext(flat of.FlattenedContext) (ldcontext.Context, *of.ResolutionError) {
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
		setAttribute(b, name, v)
	}
	c, err := b.TryBuild()
	if err != nil {
		e := of.NewInvalidContextResolutionError(err.Error())
		return ldcontext.Context{}, &e
	}
	return c, nil
}

// setAttribute sets one attribute: the built-in ones where they fit.
func setAttribute(b *ldcontext.Builder, name string, v any) {
	switch name {
	case of.TargetingKey, "key", "kind":
		return
	case "name":
		if s, ok := v.(string); ok {
			b.Name(s)
			return
		}
	case "anonymous":
		if a, ok := v.(bool); ok {
			b.Anonymous(a)
			return
		}
	case "privateAttributes":
		if list, ok := v.([]any); ok {
			for _, a := range list {
				if s, ok := a.(string); ok {
					b.Private(s)
				}
			}
			return
		}
	}
	b.SetValue(name, ldvalue.CopyArbitraryValue(v))
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

// MetaExplain is the flag-metadata key of Explain's text (the flagd
// provider's key too).
const MetaExplain = "gantry.explain"

// Explain says which part of an LD flag decided: the reason, with the rule
// index and id, the prerequisite or the error kind.
func Explain(r ldreason.EvaluationReason) string {
	s := string(r.GetKind())
	switch r.GetKind() {
	case ldreason.EvalReasonRuleMatch:
		s += fmt.Sprintf(" rule %d", r.GetRuleIndex())
		if id := r.GetRuleID(); id != "" {
			s += fmt.Sprintf(" (id %s)", id)
		}
	case ldreason.EvalReasonPrerequisiteFailed:
		s += " " + r.GetPrerequisiteKey()
	case ldreason.EvalReasonError:
		s += " " + string(r.GetErrorKind())
	}
	if r.IsInExperiment() {
		s += ", in an experiment"
	}
	return s
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
	out := of.ProviderResolutionDetail{Reason: Reason(d.Reason), FlagMetadata: of.FlagMetadata{MetaExplain: Explain(d.Reason)}}
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
