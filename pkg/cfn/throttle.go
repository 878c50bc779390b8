package cfn

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// CloudFormation throttles its API per account and region (DescribeStacks
// at about 5 requests a second, not raisable), and every rollout, plan
// and status in that account and region draws on the same quota. The
// Limiter is how one gantry process stays within it, as the SDK's
// adaptive retry mode does -- a client-side token bucket that each
// throttling answer shrinks and each success regrows -- but with one
// bucket per account and region shared by every CloudFormation client
// the process makes there (the rollout's regions, change sets made ahead,
// previews), rather than one per client, so that the process as a whole
// backs off. And throttling alone never fails a call: it is retried until
// the caller's context ends.

// Limiter hands out the retryers of one process's CloudFormation clients.
// Safe for concurrent use.
type Limiter struct {
	mu    sync.Mutex
	modes map[string]*retry.AdaptiveMode // by account/region
}

// NewLimiter returns a Limiter with no bucket yet.
func NewLimiter() *Limiter { return &Limiter{modes: map[string]*retry.AdaptiveMode{}} }

// MaxAttempts is how many times a CloudFormation call is tried on errors
// other than throttling (5xx, dropped connections).
const MaxAttempts = 8

// maxThrottleBackoff bounds the retryer's own sleep between attempts: the
// shared bucket already spaces the calls out.
const maxThrottleBackoff = 5 * time.Second

// Retryer is the retryer for a CloudFormation client acting in account
// and region: the SDK's adaptive mode on the bucket the process shares
// there, retrying throttling for as long as the call's context allows and
// other retryable errors MaxAttempts times. Use it as the client's
// Options.Retryer.
func (l *Limiter) Retryer(account, region string) aws.Retryer {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := account + "/" + region
	m := l.modes[k]
	if m == nil {
		m = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, func(s *retry.StandardOptions) {
				s.MaxAttempts = MaxAttempts
				s.MaxBackoff = maxThrottleBackoff
				s.RateLimiter = ratelimit.None // no retry quota: a wait would drain it
			})
		})
		l.modes[k] = m
	}
	return patient{m}
}

// ClientOptions is the option that gives a CloudFormation client made for
// account and region the shared retryer.
func (l *Limiter) ClientOptions(account, region string) func(*cloudformation.Options) {
	r := l.Retryer(account, region)
	return func(o *cloudformation.Options) { o.Retryer = r }
}

// patient retries throttling without a limit on attempts (the adaptive
// bucket and the context bound it) and anything else MaxAttempts times.
type patient struct{ *retry.AdaptiveMode }

// MaxAttempts is 0, no limit: RetryDelay ends the other errors' retries.
func (patient) MaxAttempts() int { return 0 }

func (p patient) RetryDelay(attempt int, err error) (time.Duration, error) {
	if !isThrottling(err) && attempt >= MaxAttempts {
		return 0, &retry.MaxAttemptsError{Attempt: attempt, Err: err}
	}
	return p.AdaptiveMode.RetryDelay(attempt, err)
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
