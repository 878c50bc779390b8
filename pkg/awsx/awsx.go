// Package awsx loads gantry's AWS configuration: the SDK's default credential
// chain (optionally a named profile), the standard retryer, an endpoint
// override for emulators, and per-account configs reached by assuming
// gantry's deploy role.
//
// Everything that talks to AWS gets its aws.Config from a Provider, so the
// retry policy, the endpoint and the account switching are decided in one
// place.
package awsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// DefaultRoleName is the role assumed in a stage's account.
const DefaultRoleName = "gantry-deploy"

// RoleSessionName names gantry's assumed-role sessions in CloudTrail.
const RoleSessionName = "gantry"

// MaxAttempts is how many times the retryer tries one API call (throttling,
// 5xx and transient network errors are retried with jittered back-off).
const MaxAttempts = 8

// Options configure a Provider. The zero value uses the default credential
// chain, the SDK's endpoint resolution and the role DefaultRoleName.
type Options struct {
	// Profile selects a profile of the shared config files (--profile).
	Profile string
	// EndpointURL sends every client to this base URL (--endpoint-url).
	// AWS_ENDPOINT_URL is honoured by the SDK itself when this is empty.
	EndpointURL string
	// RoleName is the role assumed in another account; DefaultRoleName if
	// empty.
	RoleName string
	// Logger gets debug lines about identities and assumed roles; nil
	// discards them.
	Logger *slog.Logger
	// Region is the default region, used for STS calls before any target
	// region is known; the shared config's or AWS_REGION when empty, else
	// the region of the first Config call.
	Region string
	// Credentials replaces the default credential chain (tests, or callers
	// that obtained credentials some other way).
	Credentials aws.CredentialsProvider
	// APIOptions are added to every client made from the Provider's configs,
	// including its own STS clients (e.g. a CallCounter's middleware).
	APIOptions []func(*middleware.Stack) error
}

// Provider hands out aws.Configs per (account, region). It is safe for
// concurrent use; identities and assumed-role credentials are cached per
// account for the Provider's life.
type Provider struct {
	base     aws.Config
	roleName string
	log      *slog.Logger
	setting  Setting

	identMu  sync.Mutex // held across GetCallerIdentity so only one runs
	identity *Identity

	mu    sync.Mutex
	creds map[string]aws.CredentialsProvider // account -> cached assumed-role credentials
}

// Identity is who the base credentials are.
type Identity struct {
	Account string
	ARN     string
	UserID  string
}

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// New loads the base configuration. It makes no API call: credentials are
// resolved when first used.
func New(ctx context.Context, o Options) (*Provider, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	roleName := o.RoleName
	if roleName == "" {
		roleName = DefaultRoleName
	}
	load := []func(*config.LoadOptions) error{
		config.WithRetryer(NewRetryer),
		// The SDK's own warnings (a response checksum it could not
		// verify, say) go to gantry's log, not raw onto stderr.
		config.WithLogger(sdkLogger{logger}),
	}
	if o.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(o.Profile))
	}
	if o.EndpointURL != "" {
		load = append(load, config.WithBaseEndpoint(o.EndpointURL))
	}
	if o.Region != "" {
		load = append(load, config.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		load = append(load, config.WithCredentialsProvider(o.Credentials))
	}
	if len(o.APIOptions) > 0 {
		load = append(load, config.WithAPIOptions(o.APIOptions))
	}
	setting := Setting{Profile: o.Profile, EndpointURL: o.EndpointURL}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, configError(err, setting)
	}
	return &Provider{base: cfg, roleName: roleName, log: logger, setting: setting, creds: map[string]aws.CredentialsProvider{}}, nil
}

// configError says why the configuration could not be loaded: always a
// set-up problem, since no call was made yet.
func configError(err error, s Setting) error {
	if se := Classify(err, s); se != nil {
		return se
	}
	where := "the AWS configuration"
	if p := s.profile(); p != "" {
		where = fmt.Sprintf("the AWS configuration of profile %q", p)
	}
	return &SetupError{Problem: BadConfig, Err: err,
		Message: "cannot load " + where,
		Next:    "check the AWS config files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE) and AWS_* variables; aws configure list shows what is used",
	}
}

// Classify is Classify with this Provider's profile and endpoint.
func (p *Provider) Classify(err error) *SetupError { return Classify(err, p.setting) }

// NewRetryer is the retryer every gantry client uses: the SDK's standard
// retryer (throttling, 5xx and transient errors, exponential back-off with
// jitter) with more attempts than the default 3, and without the client-side
// retry quota, which a long rollout under throttling would drain and then
// fail calls that a wait would have saved.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.RateLimiter = ratelimit.None
	})
}

// Base returns a copy of the base configuration (the caller's own
// credentials), with region set when it is not empty.
func (p *Provider) Base(region string) aws.Config {
	cfg := p.base.Copy()
	// Copy shares the APIOptions array; clip it so that a caller appending
	// to one config (CallCounter.Attach) never writes into another's.
	cfg.APIOptions = slices.Clip(cfg.APIOptions)
	if region != "" {
		cfg.Region = region
	}
	return cfg
}

// RoleARN is the role assumed to reach account.
func (p *Provider) RoleARN(account string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, p.roleName)
}

// CallerIdentity returns who the base credentials are (one GetCallerIdentity
// call, cached). region is used for the call when no default region is
// configured.
func (p *Provider) CallerIdentity(ctx context.Context, region string) (*Identity, error) {
	p.identMu.Lock()
	defer p.identMu.Unlock()
	if p.identity != nil {
		return p.identity, nil
	}
	out, err := sts.NewFromConfig(p.stsConfig(region)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("finding the caller's AWS identity (sts get-caller-identity): %w", err)
	}
	id := &Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn), UserID: aws.ToString(out.UserId)}
	p.log.DebugContext(ctx, "aws identity", "account", id.Account, "arn", id.ARN)
	p.identity = id
	return id, nil
}

// Config returns a configuration acting in account and region: the base
// credentials when the caller is already in account, otherwise credentials
// from assuming RoleARN(account), cached and refreshed before they expire.
// The assumed role is tried at once, so a missing role or trust policy
// fails here, naming the role, rather than at the first API call.
func (p *Provider) Config(ctx context.Context, account, region string) (aws.Config, error) {
	if region == "" {
		return aws.Config{}, errors.New("aws config: no region given")
	}
	if !accountRE.MatchString(account) {
		return aws.Config{}, fmt.Errorf("aws config: account %q is not a 12-digit AWS account ID", account)
	}
	id, err := p.CallerIdentity(ctx, region)
	if err != nil {
		return aws.Config{}, err
	}
	cfg := p.Base(region)
	if id.Account == account {
		return cfg, nil
	}
	creds := p.assumed(ctx, account, region)
	if _, err := creds.Retrieve(ctx); err != nil {
		return aws.Config{}, &AssumeRoleError{Account: account, Role: p.RoleARN(account), Caller: id.ARN, Err: err}
	}
	cfg.Credentials = creds
	return cfg, nil
}

// assumed returns the cached credentials provider for account, making it
// on first use. Making one calls nothing; the cache calls AssumeRole when
// credentials are first needed and again shortly before they expire.
func (p *Provider) assumed(ctx context.Context, account, region string) aws.CredentialsProvider {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.creds[account]; ok {
		return c
	}
	arn := p.RoleARN(account)
	p.log.DebugContext(ctx, "assuming role", "account", account, "role", arn)
	client := sts.NewFromConfig(p.stsConfig(region))
	c := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(client, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = RoleSessionName
	}))
	p.creds[account] = c
	return c
}

// stsConfig is the base config for STS calls: the configured default region
// if there is one, else region.
func (p *Provider) stsConfig(region string) aws.Config {
	cfg := p.base.Copy()
	cfg.APIOptions = slices.Clip(cfg.APIOptions)
	if cfg.Region == "" {
		cfg.Region = region
	}
	return cfg
}

// sdkLogger hands the SDK's log lines to slog.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(classification logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if classification == logging.Warn {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, "aws sdk: "+fmt.Sprintf(format, v...))
}
