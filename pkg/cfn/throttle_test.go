package cfn

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddle "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Throttling is retried however many attempts it takes (the context ends
// it); other retryable errors stop after MaxAttempts.
func TestPatientRetryerRetriesThrottlingWithoutLimit(t *testing.T) {
	r := NewLimiter().Retryer("123456789012", "us-east-1")
	throttle := &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded", Fault: smithy.FaultClient}
	timeout := &smithy.GenericAPIError{Code: "RequestTimeout", Message: "try later", Fault: smithy.FaultServer}
	if r.MaxAttempts() != 0 {
		t.Fatalf("MaxAttempts = %d, want 0 (no limit; RetryDelay ends the other errors' retries)", r.MaxAttempts())
	}
	if !r.IsErrorRetryable(throttle) || !r.IsErrorRetryable(timeout) {
		t.Fatal("throttling and a request time-out must be retryable")
	}
	for _, attempt := range []int{1, MaxAttempts, 50} {
		d, err := r.RetryDelay(attempt, throttle)
		if err != nil || d <= 0 || d > maxThrottleBackoff {
			t.Errorf("attempt %d throttled: delay %v, err %v; want a delay of at most %v and no error", attempt, d, err, maxThrottleBackoff)
		}
	}
	if _, err := r.RetryDelay(MaxAttempts-1, timeout); err != nil {
		t.Errorf("attempt %d of a time-out: %v, want another try", MaxAttempts-1, err)
	}
	_, err := r.RetryDelay(MaxAttempts, timeout)
	var max *retry.MaxAttemptsError
	var ae smithy.APIError
	if !errors.As(err, &max) || !errors.As(err, &ae) || ae.ErrorCode() != "RequestTimeout" {
		t.Errorf("attempt %d of a time-out: %v, want MaxAttemptsError wrapping it", MaxAttempts, err)
	}
}

// One bucket per account, region and operation: every client of the
// process there gets the same one, picked by the call's operation.
func TestLimiterSharesABucketPerAccountRegionAndOperation(t *testing.T) {
	l := NewLimiter()
	a, b := l.Retryer("111122223333", "eu-west-1").(patient), l.Retryer("111122223333", "eu-west-1").(patient)
	if l.limit(a.scope, "DescribeStacks") != l.limit(b.scope, "DescribeStacks") {
		t.Error("two clients of one account and region got different buckets")
	}
	c, d := l.Retryer("111122223333", "eu-west-2").(patient), l.Retryer("444455556666", "eu-west-1").(patient)
	for _, other := range []*rateLimit{l.limit(c.scope, "DescribeStacks"), l.limit(d.scope, "DescribeStacks"), l.limit(a.scope, "CreateChangeSet")} {
		if other == l.limit(a.scope, "DescribeStacks") {
			t.Error("another region, account or operation shares the bucket")
		}
	}
}

// The client-side limit: off until a call is throttled; then 2.5 calls a
// second, halved per throttling answer (one cut per second however many
// answers), never below one call per 5 s; regrowing by 0.25/s every
// second and off again above 10/s.
func TestRateLimitCutsOnThrottlingAndRegrowsWithTime(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	var l rateLimit
	for i := range 50 {
		if w := l.reserve(at(time.Duration(i) * time.Millisecond)); w != 0 {
			t.Fatalf("off, call %d waits %v", i, w)
		}
	}
	l.done(at(0), true)
	if on, rate := l.state(at(0)); !on || rate != startRate {
		t.Fatalf("after the first throttling: on %v at %v/s, want on at %v/s", on, rate, startRate)
	}
	if w := l.reserve(at(0)); w != 400*time.Millisecond {
		t.Errorf("the next call waits %v, want 400ms (one token at 2.5/s)", w)
	}
	// A burst of answers is one cut; a second later, another.
	for i := range 5 {
		l.done(at(time.Duration(i)*100*time.Millisecond), true)
	}
	if _, rate := l.state(at(500 * time.Millisecond)); rate < 2.6 || rate > 2.7 {
		t.Errorf("after a burst of throttling within a second: %v/s, want one cut only (2.5 regrown to ~2.6)", rate)
	}
	l.done(at(time.Second), true)
	if _, rate := l.state(at(time.Second)); math.Abs(rate-1.375) > 1e-9 {
		t.Errorf("cut a second later: %v/s, want (2.5 + 0.25) / 2", rate)
	}
	for i := 2; i < 30; i++ {
		l.done(at(time.Duration(i)*time.Second), true)
	}
	// Halved every second, regrowing 0.25/s: it settles at 0.25/s.
	if _, rate := l.state(at(29 * time.Second)); math.Abs(rate-0.25) > 1e-6 {
		t.Errorf("after a throttle a second for 30 s: %v/s, want 0.25/s", rate)
	}
	// Tokens saved up while quiet: at most two seconds' worth (at least 1).
	if w := l.reserve(at(59 * time.Second)); w != 0 {
		t.Errorf("after 30 s quiet, the first call waits %v", w)
	}
	if on, rate := l.state(at(59 * time.Second)); !on || math.Abs(rate-7.75) > 1e-6 {
		t.Errorf("30 s without throttling: on %v at %v/s, want 0.25 + 30 x 0.25 = 7.75/s", on, rate)
	}
	n := 0
	for l.reserve(at(59*time.Second)) == 0 {
		n++
	}
	if n != 14 {
		t.Errorf("%d more calls at once after a quiet spell, want 14 (two seconds' worth at 7.75/s, one taken)", n)
	}
	if on, _ := l.state(at(69 * time.Second)); on {
		t.Error("regrown past 10/s and still on")
	}
	// The floor holds against cuts many times a second (one per second
	// counts) and against a single cut at a low rate.
	l = rateLimit{limited: true, rate: 0.1, grown: t0, cut: t0, refilled: t0}
	l.done(at(time.Second), true)
	if _, rate := l.state(at(time.Second)); rate != minRate {
		t.Errorf("a cut of 0.35/s: %v/s, want the floor %v/s", rate, minRate)
	}
}

// A call waiting for a token stops when its context ends; a retryer's
// release turns the limit on at a throttling answer.
func TestRetryerWaitsForItsOperationsToken(t *testing.T) {
	l := NewLimiter()
	clock := time.Unix(1000, 0)
	l.now = func() time.Time { return clock }
	var slept time.Duration
	l.sleep = func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		slept += d
		clock = clock.Add(d)
		return nil
	}
	r := l.Retryer("111122223333", "eu-west-1").(aws.RetryerV2)
	ctx := awsmiddle.SetOperationName(context.Background(), "DescribeStacks")
	release, err := r.GetAttemptToken(ctx)
	if err != nil || slept != 0 {
		t.Fatalf("unthrottled: slept %v, %v", slept, err)
	}
	_ = release(&smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"})
	if _, err := r.GetAttemptToken(ctx); err != nil || slept != 400*time.Millisecond {
		t.Errorf("after a throttling answer: slept %v, %v; want 400ms", slept, err)
	}
	other := awsmiddle.SetOperationName(context.Background(), "CreateChangeSet")
	if _, err := r.GetAttemptToken(other); err != nil || slept != 400*time.Millisecond {
		t.Errorf("another operation waited: slept %v in all, %v", slept, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.GetAttemptToken(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled wait: %v", err)
	}
}
