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
// take (learnt from an earlier operation of the same stack, of the same
// kind of stack in another region, or from the state table). Knowing
// roughly when it ends, the wait stays quiet through the middle -- a poll
// every third of the expected time, to see an early end or a failure --
// polls just past the expected end, and densely after it. Without an
// expectation it backs off, never sleeping more than a twentieth of the
// time waited.
type pace struct {
	expected time.Duration // 0: no expectation, the back-off alone
	slow     slowdown
	// pressed: the process's DescribeStacks calls in this account and
	// region are being throttled (Limiter). The polls a wait can do
	// without, the quiet ones, are then left out, so that the quota goes
	// to the polls that see ends and to the calls that start operations.
	pressed bool
}

// minRelativeCap is the shortest sleep the twentieth-of-the-wait rule
// imposes.
const minRelativeCap = 500 * time.Millisecond

// quietInterval is how often a wait polls before the expected end: a
// third of the expected time, within [10 s, 1 min]. An operation expected
// to take under about 10 s is not polled before its end at all (seeing an
// early end a few seconds sooner is not worth the calls of many such
// waits against one quota); a long one is polled every minute at the
// most, so that its failure is seen within a minute.
func quietInterval(expected time.Duration) time.Duration {
	return min(max(expected/3, 10*time.Second), time.Minute)
}

// tailInterval is how often a wait polls around its expected end: 1% of
// the expected time, within [100 ms, 5 s], so the lateness stays a small
// share of the operation whatever its length.
func tailInterval(expected time.Duration) time.Duration {
	return min(max(expected/100, 100*time.Millisecond), 5*time.Second)
}

// next is the delay before the next poll, elapsed into the operation,
// given the back-off's own next delay; random (in [0,1)) jitters a delay
// that throttling stretched.
func (p pace) next(elapsed, backoff time.Duration, random func() float64) time.Duration {
	// Late by at most a twentieth of the wait so far: the back-off's
	// growth is for long waits, not for the first minute of one.
	backoff = p.slow.stretch(min(backoff, max(elapsed/20, minRelativeCap)), random)
	if p.pressed {
		backoff = max(backoff, pressedFloor) // rain's pace, not faster
	}
	if p.expected <= 0 {
		return backoff
	}
	tail := tailInterval(p.expected)
	// The end's first poll lands just past the expected end: an operation
	// that takes what it took before is seen within a fifth of the dense
	// interval (as far as the clocks agree), with one call.
	first := p.expected + tail/5
	until := p.expected + p.expected/4 + 2*tail
	switch {
	case elapsed < first && p.pressed:
		return first - elapsed
	case elapsed < first:
		quiet := p.slow.stretch(quietInterval(p.expected), random)
		if first-elapsed <= quiet+tail {
			return first - elapsed // no quiet poll just before the end's
		}
		return quiet
	case elapsed < until:
		// Every 1% past the end, thinning out to a quarter of the
		// overrun: an operation slower than expected is seen without a
		// poll every 1% all the way.
		return p.slow.stretch(max(tail, (elapsed-p.expected)/4), random)
	default:
		return backoff
	}
}

// pressedFloor is the shortest back-off while the process's DescribeStacks
// calls are throttled: a blind wait then polls no faster than rain does.
const pressedFloor = 2 * time.Second

// maxSlowdown and maxStretched bound how far throttling stretches a
// wait's polls: 8 times, and never past 1 s (unless the delay was longer
// already) -- the client-side rate limit spaces the calls out anyway, and
// a poll stretched further would only see the end later.
const (
	maxSlowdown  = 8
	maxStretched = time.Second
)

// slowdown is how throttling stretches one wait's polls, on top of the
// client-side rate limit the process's clients share (Limiter): each
// throttled poll doubles the next delays, each answered one halves the
// stretch again, and stretched delays are jittered so that the waits of
// many rollouts that throttled together do not poll together again.
type slowdown struct {
	factor int // 1: no stretch
}

func (s *slowdown) throttled() { s.factor = min(max(s.factor, 1)*2, maxSlowdown) }

func (s *slowdown) answered() { s.factor = max(s.factor/2, 1) }

// stretch applies the slowdown to d; random returns values in [0,1).
func (s slowdown) stretch(d time.Duration, random func() float64) time.Duration {
	if s.factor <= 1 {
		return d
	}
	stretched := time.Duration(float64(d) * float64(s.factor) * (0.75 + 0.5*random()))
	return max(min(stretched, maxStretched), d)
}

// timing is what a wait saw of an operation's duration: it was still
// running at lastBusy and had ended by settled (both since the execute).
type timing struct {
	lastBusy, settled time.Duration
	throttled         int // polls answered with throttling
}

// estimate is the operation's duration: the span of its own stack events
// (start to end, on CloudFormation's clock) when that fits what the polls
// saw, otherwise the middle of the last poll that saw it running and the
// first that saw it settled (close together around an expected end;
// further apart when it ended early, in the quiet part of the wait), or,
// when no poll saw it running, the expected time if the first settled
// poll allows it, else that poll.
func (t timing) estimate(events, expected time.Duration) time.Duration {
	switch {
	case events > t.lastBusy && events <= t.settled:
		return events
	case t.lastBusy == 0 && expected > 0 && expected <= t.settled:
		return expected // seen settled at the first poll of its end: as expected
	case t.lastBusy == 0:
		return t.settled // never seen running: all that is known is its end
	}
	return (t.lastBusy + t.settled) / 2
}
