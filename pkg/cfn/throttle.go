package cfn

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddle "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// CloudFormation throttles its API per account, region and operation
// (DescribeStacks at about 5 requests a second, not raisable), and every
// rollout, plan and status in that account and region draws on the same
// quota. The Limiter is how one gantry process stays within it, as the
// SDK's adaptive retry mode does: a client-side token bucket, off until a
// call is throttled, cut at each throttling answer and regrowing while
// calls get through (see rateLimit for how it differs). There is one
// bucket per account, region and operation, shared by every
// CloudFormation client the process makes there (the rollout's regions,
// change sets made ahead, previews), rather than one per client: the
// process as a whole backs off, and only from the operation that was
// throttled (polls throttled in DescribeStacks do not hold back a
// CreateChangeSet). And throttling alone never fails a call: it is
// retried until the caller's context ends.

// Limiter hands out the retryers of one process's CloudFormation clients.
// Safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	limits map[string]*rateLimit // by account/region/operation
	std    *retry.Standard       // delays and retryability, stateless

	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// NewLimiter returns a Limiter with no limit in force.
func NewLimiter() *Limiter {
	return &Limiter{limits: map[string]*rateLimit{}, std: retry.NewStandard(standardOptions), now: time.Now, sleep: sleepContext}
}

// MaxAttempts is how many times a CloudFormation call is tried on errors
// other than throttling (5xx, dropped connections).
const MaxAttempts = 8

// maxThrottleBackoff bounds the retryer's own sleep between attempts: the
// shared buckets already space the calls out.
const maxThrottleBackoff = 5 * time.Second

func standardOptions(s *retry.StandardOptions) {
	s.MaxAttempts = MaxAttempts
	s.MaxBackoff = maxThrottleBackoff
	s.RateLimiter = ratelimit.None // no retry quota: a long wait would drain it
}

// Retryer is the retryer for a CloudFormation client acting in account
// and region: each call waits for its operation's shared bucket there,
// throttling is retried for as long as the call's context allows, other
// retryable errors MaxAttempts times. Use it as the client's
// Options.Retryer.
func (l *Limiter) Retryer(account, region string) aws.Retryer {
	return patient{l: l, scope: account + "/" + region}
}

// ClientOptions is the option that gives a CloudFormation client made for
// account and region the shared retryer.
func (l *Limiter) ClientOptions(account, region string) func(*cloudformation.Options) {
	r := l.Retryer(account, region)
	return func(o *cloudformation.Options) { o.Retryer = r }
}

// Attach tells c's waits when the process's DescribeStacks calls in
// account and region are being throttled, so that they leave out the
// polls they can do without. c must be a client of account and region
// made with ClientOptions.
func (l *Limiter) Attach(c *Client, account, region string) {
	lim := l.limit(account+"/"+region, "DescribeStacks")
	c.pressed = func() bool {
		on, _ := lim.state(l.now())
		return on
	}
}

// limit is the bucket of a scope's operation, made on first use.
func (l *Limiter) limit(scope, operation string) *rateLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := scope + "/" + operation
	r := l.limits[k]
	if r == nil {
		r = &rateLimit{}
		l.limits[k] = r
	}
	return r
}

// patient retries throttling without a limit on attempts (the adaptive
// bucket and the context bound it) and anything else MaxAttempts times.
type patient struct {
	l     *Limiter
	scope string // account/region
}

func (p patient) IsErrorRetryable(err error) bool { return p.l.std.IsErrorRetryable(err) }

// MaxAttempts is 0, no limit: RetryDelay ends the other errors' retries.
func (patient) MaxAttempts() int { return 0 }

func (p patient) RetryDelay(attempt int, err error) (time.Duration, error) {
	if !isThrottling(err) && attempt >= MaxAttempts {
		return 0, &retry.MaxAttemptsError{Attempt: attempt, Err: err}
	}
	return p.l.std.RetryDelay(attempt, err)
}

func (p patient) GetRetryToken(ctx context.Context, err error) (func(error) error, error) {
	return p.l.std.GetRetryToken(ctx, err)
}

func (p patient) GetInitialToken() func(error) error { return p.l.std.GetInitialToken() }

// GetAttemptToken waits for a token of the call's operation's bucket; the
// release tells the bucket whether the attempt was throttled.
func (p patient) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	lim := p.l.limit(p.scope, awsmiddle.GetOperationName(ctx))
	if err := lim.take(ctx, p.l.now, p.l.sleep); err != nil {
		return nil, err
	}
	return func(err error) error {
		lim.done(p.l.now(), err != nil && isThrottling(err))
		return nil
	}, nil
}

// isThrottling reports whether err is a throttling answer (CloudFormation's
// "Throttling: Rate exceeded", and the other services' codes the SDK
// knows).
func isThrottling(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool()
}

// throttlingReturned is the option of a stack wait's poll: throttling
// comes back at once rather than being retried, so that the wait decides
// when to ask again (a throttled poll is only no news). Other errors are
// retried as usual, and the shared bucket still learns of the throttling.
func throttlingReturned(o *cloudformation.Options) {
	if o.Retryer == nil {
		return
	}
	v2, ok := o.Retryer.(aws.RetryerV2)
	if !ok {
		v2 = retryerV2{o.Retryer}
	}
	o.Retryer = throttleReturns{v2}
}

type throttleReturns struct{ aws.RetryerV2 }

func (r throttleReturns) IsErrorRetryable(err error) bool {
	return !isThrottling(err) && r.RetryerV2.IsErrorRetryable(err)
}

// retryerV2 adapts a Retryer that predates GetAttemptToken.
type retryerV2 struct{ aws.Retryer }

func (r retryerV2) GetAttemptToken(context.Context) (func(error) error, error) {
	return r.GetInitialToken(), nil
}
