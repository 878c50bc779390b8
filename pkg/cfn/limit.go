package cfn

import (
	"context"
	"math"
	"sync"
	"time"
)

// rateLimit is the client-side rate limit of one account, region and
// operation, shared by every call of the process there. Like the SDK's
// adaptive retry mode it is a token bucket that is off until a call is
// throttled, is cut on throttling and regrows while calls get through.
// Unlike it, it regrows with time rather than with the rate measured
// (capped at twice that), which never lets a poller -- a call every few
// seconds, then a few close together around the expected end -- back
// above its quiet rate, and it switches off again once it has regrown
// past anything a process asks of one operation.
type rateLimit struct {
	mu       sync.Mutex
	limited  bool
	rate     float64 // tokens a second, while limited
	tokens   float64
	refilled time.Time // when tokens were last topped up
	cut      time.Time // when rate was last cut
	grown    time.Time // when rate last grew
}

// The limit's shape. At the first throttling answer it starts below the
// cited DescribeStacks quota (5/s) and is halved at each further one (at
// most once per cutEvery: one burst of answers is one signal), down to a
// call every five seconds -- the fair share of 25 processes of one quota.
// It regrows by regrowth a second every second without throttling and
// switches off above limitOff.
const (
	startRate = 2.5
	minRate   = 0.2
	regrowth  = 0.25
	limitOff  = 10.0
	cutEvery  = time.Second
	// maxTokens is how many calls a quiet spell saves up: a poll's tail
	// gets a few close together without waiting.
	maxTokensTime = 2 * time.Second
)

// take waits until the limit lets one call through (at once when it is
// off), or ctx ends.
func (l *rateLimit) take(ctx context.Context, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	for {
		wait := l.reserve(now())
		if wait <= 0 {
			return nil
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// reserve takes a token and returns 0, or returns how long until one is
// there.
func (l *rateLimit) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.limited {
		return 0
	}
	l.refill(now)
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}

// refill regrows the rate for the time since it last grew and tops up
// the tokens at that rate; l.mu is held.
func (l *rateLimit) refill(now time.Time) {
	if dt := now.Sub(l.grown).Seconds(); dt > 0 {
		l.rate += regrowth * dt
		l.grown = now
	}
	if l.rate >= limitOff {
		l.limited = false
		return
	}
	if dt := now.Sub(l.refilled).Seconds(); dt > 0 {
		l.tokens = math.Min(l.tokens+dt*l.rate, math.Max(1, l.rate*maxTokensTime.Seconds()))
		l.refilled = now
	}
}

// done records how a call that took a token ended.
func (l *rateLimit) done(now time.Time, throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !throttled {
		return
	}
	switch {
	case !l.limited:
		l.limited, l.rate, l.tokens = true, startRate, 0
	case now.Sub(l.cut) >= cutEvery:
		l.refill(now)
		l.rate = math.Max(minRate, l.rate/2)
		l.tokens = math.Min(l.tokens, 0)
	default:
		return
	}
	l.cut, l.grown, l.refilled = now, now, now
}

// state is the limit now: whether it is on, and its rate (tests, logs).
func (l *rateLimit) state(now time.Time) (bool, float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limited {
		l.refill(now)
	}
	return l.limited, l.rate
}
