package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/gantryhq/gantry/pkg/gate/flagd"
	"github.com/gantryhq/gantry/pkg/gate/ldprovider"
)

// Environment variables.
const (
	// EnvFlags is the --flags fallback.
	EnvFlags = "GANTRY_FLAGS"
	// EnvLaunchDarklyKey holds the LaunchDarkly server-side SDK key.
	EnvLaunchDarklyKey = "LAUNCHDARKLY_SDK_KEY"
)

// DefaultOpenTimeout bounds how long Open waits for a provider to be ready.
const DefaultOpenTimeout = 15 * time.Second

// ErrNoProvider is returned by Open when neither --flags nor GANTRY_FLAGS
// names a provider.
var ErrNoProvider = errors.New("no flag provider configured: pass --flags file:PATH or --flags launchdarkly, or set " + EnvFlags)

// SpecError is a --flags value gantry does not understand, or a provider
// that lacks its configuration (bad usage: exit 2).
type SpecError struct{ Msg string }

func (e *SpecError) Error() string { return e.Msg }

// Spec is a parsed --flags value.
type Spec struct {
	// Kind is "file" or "launchdarkly".
	Kind string
	// Path is the flag file of a "file" spec.
	Path string
}

func (s Spec) String() string {
	if s.Kind == "file" {
		return "flag file " + s.Path
	}
	return s.Kind
}

// ParseSpec parses a --flags value: file:PATH or launchdarkly.
func ParseSpec(v string) (Spec, error) {
	v = strings.TrimSpace(v)
	switch {
	case strings.HasPrefix(v, "file:"):
		p := strings.TrimPrefix(v, "file:")
		if p == "" {
			return Spec{}, &SpecError{Msg: "--flags file: needs a path, e.g. --flags file:flags.json"}
		}
		return Spec{Kind: "file", Path: p}, nil
	case v == "launchdarkly" || v == "ld":
		return Spec{Kind: "launchdarkly"}, nil
	}
	return Spec{}, &SpecError{Msg: fmt.Sprintf("invalid flag provider %q: use file:PATH (a flagd flag file) or launchdarkly (key in %s)", v, EnvLaunchDarklyKey)}
}

// ResolveSpec returns the --flags value, or GANTRY_FLAGS when flag is "".
func ResolveSpec(flag string, getenv func(string) string) string {
	if strings.TrimSpace(flag) != "" {
		return flag
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	return getenv(EnvFlags)
}

// OpenOptions configure Open.
type OpenOptions struct {
	Logger *slog.Logger
	// Timeout bounds the wait for the provider to be ready; zero means
	// DefaultOpenTimeout.
	Timeout time.Duration
	// Getenv reads the environment (GANTRY_FLAGS, LAUNCHDARKLY_SDK_KEY);
	// nil is os.Getenv.
	Getenv func(string) string
	// PollInterval is the file provider's polling interval (see
	// flagd.Options); zero is its default.
	PollInterval time.Duration
}

// Opened is what Open built.
type Opened struct {
	Client *of.Client
	Spec   Spec
	// Provider is the provider behind the client (*flagd.Provider or
	// *ldprovider.Provider).
	Provider of.FeatureProvider
	api      *of.EvaluationAPI
}

// Close shuts the provider down (stops watching the file, closes the
// LaunchDarkly connection).
func (o *Opened) Close() {
	if o == nil || o.api == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = o.api.Shutdown(ctx)
}

// Open builds an OpenFeature client, on an isolated API instance, from a
// --flags value (spec, or GANTRY_FLAGS when spec is ""), and waits (at
// most opts.Timeout) for its provider to be ready. It returns ErrNoProvider
// when nothing is configured, a *SpecError for a bad value or a missing
// LaunchDarkly key, and a *flagd.LoadError (with line:column) for a flag
// file that cannot be used. The returned func closes the provider.
func Open(ctx context.Context, spec string, opts OpenOptions) (*of.Client, func(), error) {
	o, err := OpenProvider(ctx, spec, opts)
	if err != nil {
		return nil, func() {}, err
	}
	return o.Client, o.Close, nil
}

// OpenProvider is Open returning the provider too.
func OpenProvider(ctx context.Context, spec string, opts OpenOptions) (*Opened, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	raw := ResolveSpec(spec, getenv)
	if strings.TrimSpace(raw) == "" {
		return nil, ErrNoProvider
	}
	s, err := ParseSpec(raw)
	if err != nil {
		return nil, err
	}
	var provider of.FeatureProvider
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultOpenTimeout
	}
	switch s.Kind {
	case "file":
		provider = flagd.New(s.Path, flagd.Options{Logger: log, PollInterval: opts.PollInterval})
	case "launchdarkly":
		key := strings.TrimSpace(getenv(EnvLaunchDarklyKey))
		if key == "" {
			return nil, &SpecError{Msg: fmt.Sprintf("--flags launchdarkly needs the server-side SDK key in %s", EnvLaunchDarklyKey)}
		}
		p, err := ldprovider.Connect(key, ldprovider.Options{Logger: log, WaitFor: timeout})
		if err != nil {
			return nil, fmt.Errorf("connecting to LaunchDarkly: %w", err)
		}
		provider = p
	}
	api := isolated.NewAPI()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := api.SetProviderAndWait(wctx, provider); err != nil {
		_ = api.Shutdown(context.Background())
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s was not ready within %s", s, timeout)
		}
		return nil, err
	}
	return &Opened{Client: api.NewClient(), Spec: s, Provider: provider, api: api}, nil
}
