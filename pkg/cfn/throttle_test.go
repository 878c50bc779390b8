package cfn

import (
	"errors"
	"testing"

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

// One bucket per account and region: every client of the process there
// gets the same one.
func TestLimiterSharesABucketPerAccountAndRegion(t *testing.T) {
	l := NewLimiter()
	a, b := l.Retryer("111122223333", "eu-west-1").(patient), l.Retryer("111122223333", "eu-west-1").(patient)
	c, d := l.Retryer("111122223333", "eu-west-2").(patient), l.Retryer("444455556666", "eu-west-1").(patient)
	if a.AdaptiveMode != b.AdaptiveMode {
		t.Error("two clients of one account and region got different buckets")
	}
	if a.AdaptiveMode == c.AdaptiveMode || a.AdaptiveMode == d.AdaptiveMode {
		t.Error("another region or account shares the bucket")
	}
}
