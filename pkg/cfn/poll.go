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
// of waiting costs about 730 polls rather than 14,400 at 250 ms. A stack
// wait also never sleeps more than a twentieth of the time waited so far (at
// least 500 ms, see pace), so a 10 s operation is seen about a quarter
// of a second after it ends rather than two.
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

// pace shapes a stack wait around the time the operation is expected to
// take (learnt from an earlier operation of the same stack, or of the same
// kind of stack in another region). A back-off alone notices the end of a
// 10 s operation up to ~2 s late; knowing roughly when it ends, the wait
// sleeps through the middle and polls densely around the expected end.
type pace struct {
	expected time.Duration // 0: no expectation, plain back-off
}

// minRelativeCap is the shortest sleep the twentieth-of-the-wait rule
// imposes.
const minRelativeCap = 500 * time.Millisecond

// tailInterval is how often a wait polls around its expected end: 1% of
// the expected time, within [100 ms, 5 s], so the lateness stays a small
// share of the operation whatever its length.
func tailInterval(expected time.Duration) time.Duration {
	return min(max(expected/100, 100*time.Millisecond), 5*time.Second)
}

// next is the delay before the next poll, elapsed into the operation,
// given the back-off's own next delay.
func (p pace) next(elapsed, backoff time.Duration) time.Duration {
	// Late by at most a twentieth of the wait so far: the back-off's
	// growth is for long waits, not for the first minute of one.
	backoff = min(backoff, max(elapsed/20, minRelativeCap))
	if p.expected <= 0 {
		return backoff
	}
	tail := tailInterval(p.expected)
	from := p.expected - tail
	until := p.expected + p.expected/4 + 2*tail
	switch {
	case elapsed < from:
		return min(backoff, from-elapsed)
	case elapsed < until:
		return tail
	default:
		return backoff
	}
}

// timing is what a wait saw of an operation's duration: it was still
// running at lastBusy and had ended by settled (both since the execute).
type timing struct {
	lastBusy, settled time.Duration
}

// estimate is the operation's duration: the span of its own stack events
// (start to end, on CloudFormation's clock) when that fits what the polls
// saw, otherwise the last time it was seen running, the tighter bound when
// the polls were dense around the end.
func (t timing) estimate(events time.Duration) time.Duration {
	if events > t.lastBusy && events <= t.settled {
		return events
	}
	return t.lastBusy
}
