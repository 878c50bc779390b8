package cfn

import (
	"context"
	"time"
)

// Backoff is a polling schedule: Initial, then ×Factor each time up to Max,
// each delay jittered by ±Jitter (a fraction).
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
	Jitter  float64
}

// DefaultBackoff polls after 250 ms, then 375 ms, 560 ms, ... up to 5 s:
// a stack that finishes quickly is seen within about a second, and an hour
// of waiting costs about 730 polls rather than 14,400 at 250 ms.
func DefaultBackoff() Backoff {
	return Backoff{Initial: 250 * time.Millisecond, Max: 5 * time.Second, Factor: 1.5, Jitter: 0.2}
}

// schedule returns a function giving successive delays. random returns
// values in [0,1).
func (b Backoff) schedule(random func() float64) func() time.Duration {
	cur := float64(b.Initial)
	return func() time.Duration {
		base := min(cur, float64(b.Max))
		cur = base * max(b.Factor, 1)
		d := base * (1 + b.Jitter*(2*random()-1))
		return time.Duration(max(d, 0))
	}
}

// sleepContext waits d or until ctx ends, whichever is first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
