package cfn

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func half() float64 { return 0.5 }

// With an expectation a wait is quiet early (a poll every third of the
// expected time), lands on the start of the dense window, polls just past
// the expected end, then every 1% of it, thins out past it (a quarter of the overrun)
// and backs off again past a quarter more than expected.
func TestPaceIsQuietEarlyAndDenseAtTheEnd(t *testing.T) {
	p := pace{expected: 45 * time.Second}
	for _, c := range []struct {
		at, backoff, want time.Duration
		why               string
	}{
		{0, 250 * time.Millisecond, 15 * time.Second, "the first poll a third of the way in"},
		{15 * time.Second, time.Second, 15 * time.Second, "quiet: a third of the expected time, whatever the back-off"},
		{20 * time.Second, 5 * time.Second, 15 * time.Second, "quiet, a poll at 35 s still well before the end"},
		{30 * time.Second, 5 * time.Second, 15090 * time.Millisecond, "no quiet poll just before the end's: to a fifth of the dense interval (1%) past the expected end"},
		{44300 * time.Millisecond, 5 * time.Second, 790 * time.Millisecond, "to the end's first poll (45.09 s)"},
		{45090 * time.Millisecond, 5 * time.Second, 450 * time.Millisecond, "dense: 1% of the expected time"},
		{45500 * time.Millisecond, 5 * time.Second, 450 * time.Millisecond, "still dense just past the expected end"},
		{49 * time.Second, 5 * time.Second, time.Second, "thinning out past it: a quarter of the overrun"},
		{60 * time.Second, 5 * time.Second, 3 * time.Second, "past the window (57.15 s): the back-off within a twentieth of the wait"},
	} {
		if got := p.next(c.at, c.backoff, half); got != c.want {
			t.Errorf("at %v (back-off %v): sleeps %v, want %v: %s", c.at, c.backoff, got, c.want, c.why)
		}
	}
	// Short operations are not polled before their end.
	if got := (pace{expected: 10 * time.Second}).next(0, 250*time.Millisecond, half); got != 10020*time.Millisecond {
		t.Errorf("10 s expected: first poll after %v, want the end's first poll (10.02 s)", got)
	}
	// Long operations: at most a minute between quiet polls, 5 s dense.
	long := pace{expected: 40 * time.Minute}
	if got := long.next(time.Minute, time.Second, half); got != time.Minute {
		t.Errorf("40 min expected, a minute in: sleeps %v, want a minute", got)
	}
	if got := long.next(40*time.Minute+time.Second, time.Second, half); got != 5*time.Second {
		t.Errorf("40 min expected, past its end: sleeps %v, want 5 s", got)
	}
	// No expectation: the back-off alone, never more than a twentieth of
	// the wait so far (at least 500 ms).
	for _, c := range []struct{ at, backoff, want time.Duration }{
		{0, 250 * time.Millisecond, 250 * time.Millisecond},
		{8 * time.Second, 5 * time.Second, 500 * time.Millisecond},
		{30 * time.Second, 5 * time.Second, 1500 * time.Millisecond},
		{2 * time.Minute, 5 * time.Second, 5 * time.Second},
	} {
		if got := (pace{}).next(c.at, c.backoff, half); got != c.want {
			t.Errorf("no expectation, %v in (back-off %v): sleeps %v, want %v", c.at, c.backoff, got, c.want)
		}
	}
}

// Throttling stretches the delays: doubled per throttled poll up to 8
// times, halved per answered one, jittered ±25%, never stretched past
// 1 s -- and the quiet ones never past the end's first poll.
func TestSlowdownDoublesHalvesAndIsBounded(t *testing.T) {
	var s slowdown
	for i, want := range []int{2, 4, 8, 8} {
		s.throttled()
		if s.factor != want {
			t.Fatalf("after %d throttled polls: factor %d, want %d", i+1, s.factor, want)
		}
	}
	p := pace{expected: 10 * time.Second, slow: s}
	if got := p.next(10100*time.Millisecond, time.Second, half); got != 800*time.Millisecond {
		t.Errorf("dense delay at 8x: %v, want 0.8 s", got)
	}
	lo, hi := p.next(10100*time.Millisecond, time.Second, func() float64 { return 0 }), p.next(10100*time.Millisecond, time.Second, func() float64 { return 0.999999 })
	if lo != 600*time.Millisecond || hi < 999*time.Millisecond || hi > time.Second {
		t.Errorf("jitter spans [%v, %v], want [0.6 s, 1 s]", lo, hi)
	}
	if got := (pace{expected: 45 * time.Second, slow: s}).next(0, time.Second, half); got != 15*time.Second {
		t.Errorf("a 15 s quiet delay under throttling: %v, want it unchanged (longer than the 2 s cap)", got)
	}
	if got := (pace{slow: s}).next(5*time.Minute, 5*time.Second, half); got != 5*time.Second {
		t.Errorf("a 5 s back-off stretched: %v, want it unchanged, never shortened", got)
	}
	if got := (pace{slow: s}).next(4*time.Second, 5*time.Second, half); got != maxStretched {
		t.Errorf("a 500 ms back-off stretched 8x: %v, want the %v cap", got, maxStretched)
	}
	for _, want := range []int{4, 2, 1, 1} {
		s.answered()
		if s.factor != want {
			t.Fatalf("answered: factor %d, want %d", s.factor, want)
		}
	}
}

func TestQuietIntervalBounds(t *testing.T) {
	for exp, want := range map[time.Duration]time.Duration{
		2 * time.Second:  10 * time.Second,
		10 * time.Second: 10 * time.Second,
		45 * time.Second: 15 * time.Second,
		time.Minute:      20 * time.Second,
		30 * time.Minute: time.Minute,
	} {
		if got := quietInterval(exp); got != want {
			t.Errorf("quietInterval(%v) = %v, want %v", exp, got, want)
		}
	}
}

func TestTailIntervalBounds(t *testing.T) {
	for exp, want := range map[time.Duration]time.Duration{
		2 * time.Second:  100 * time.Millisecond,
		time.Minute:      600 * time.Millisecond,
		30 * time.Minute: 5 * time.Second,
	} {
		if got := tailInterval(exp); got != want {
			t.Errorf("tailInterval(%v) = %v, want %v", exp, got, want)
		}
	}
}

// runFor executes an update that takes d on the fake, with opts, and
// returns how late its end was noticed, the calls it cost and the Result.
func runFor(t *testing.T, d time.Duration, history time.Duration, opts ...ExecuteOption) (time.Duration, int, *Result) {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.pageSize = 100
	if history > 0 {
		// The previous update, as its stack events tell it.
		f.addEvent("h1", f.stackName, stackResourceType, "UPDATE_IN_PROGRESS", "User Initiated")
		clock.now = clock.now.Add(history)
		f.addEvent("h2", f.stackName, stackResourceType, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "")
		f.addEvent("h3", f.stackName, stackResourceType, "UPDATE_COMPLETE", "")
		clock.now = clock.now.Add(time.Hour)
	}
	f.status, f.finalStatus = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"
	f.doneAt = clock.Now().Add(d)
	res, err := newFakeClient(f).Execute(context.Background(), updateChangeSet(f), nil, opts...)
	if err != nil || res.Status != "UPDATE_COMPLETE" {
		t.Fatalf("%+v, %v", res, err)
	}
	return clock.Now().Sub(f.doneAt), f.count("DescribeStacks") + f.count("DescribeStackEvents"), res
}

// Knowing how long the operation takes, its end is noticed within one
// tail interval when it ends on time, within a quarter of the overrun
// when later, within a quiet interval when earlier -- where the back-off
// alone notices a 10 s update ~2 s late -- and its Took is within half
// the gap between the polls around its end.
func TestExpectingNoticesTheEndWithinATailInterval(t *testing.T) {
	blind, blindCalls, _ := runFor(t, 10*time.Second, 0)
	for _, c := range []struct{ op, limit time.Duration }{
		{10 * time.Second, 100 * time.Millisecond},
		{10200 * time.Millisecond, 100 * time.Millisecond},
		{9 * time.Second, 1050 * time.Millisecond}, // ended early: seen at the end's first poll (10.02 s)
		{12 * time.Second, 500 * time.Millisecond}, // a quarter of the 2 s overrun
	} {
		late, calls, res := runFor(t, c.op, 0, Expecting(10*time.Second))
		t.Logf("%v update expecting 10 s: noticed %v late, %d describe calls, Took %v (blind 10 s: %v late, %d calls)", c.op, late, calls, res.Took, blind, blindCalls)
		if late > c.limit {
			t.Errorf("%v update expecting 10 s noticed %v late; want at most %v", c.op, late, c.limit)
		}
		if d := res.Took - c.op; d > c.limit || -d > c.limit {
			t.Errorf("%v update: Took %v, want within %v of it", c.op, res.Took, c.limit)
		}
	}
	if late, _, _ := runFor(t, 10*time.Second, 0, Expecting(10*time.Second)); late > blind {
		t.Errorf("expecting 10 s noticed a 10 s update %v late, later than the back-off alone (%v)", late, blind)
	}
}

// Without Expecting, the stack's previous update (from its events) is the
// expectation.
func TestPreviousOperationFromEventsIsTheExpectation(t *testing.T) {
	late, _, _ := runFor(t, 10*time.Second, 10*time.Second)
	if late > 100*time.Millisecond {
		t.Errorf("10 s update after a 10 s one noticed %v late; want at most 100ms", late)
	}
	// A previous operation under a second (an emulator) is no expectation.
	quick, _, _ := runFor(t, 10*time.Second, 200*time.Millisecond)
	blind, _, _ := runFor(t, 10*time.Second, 0)
	if quick != blind {
		t.Errorf("a 200 ms previous update changed the schedule: %v late vs %v blind", quick, blind)
	}
}

// OrExpecting stands in only when the stack's history says nothing.
func TestOrExpectingIsTheFallback(t *testing.T) {
	late, calls, _ := runFor(t, 10*time.Second, 0, OrExpecting(10*time.Second))
	if late > 100*time.Millisecond || calls > 7 {
		t.Errorf("no history, fallback 10 s: noticed %v late with %d calls; want it used (within 100ms, at most 7 calls)", late, calls)
	}
	// History (a 10 s update) wins over a wrong fallback of 3 s.
	late, calls, _ = runFor(t, 10*time.Second, 10*time.Second, OrExpecting(3*time.Second))
	if late > 100*time.Millisecond || calls > 7 {
		t.Errorf("history 10 s, fallback 3 s: noticed %v late with %d calls; want the history used", late, calls)
	}
}

// An expectation far off costs little: a long update expected to be short
// polls densely only in the short window, then backs off again.
func TestWrongExpectationCostsFewCalls(t *testing.T) {
	_, blind, _ := runFor(t, 10*time.Minute, 0)
	_, wrong, _ := runFor(t, 10*time.Minute, 0, Expecting(10*time.Second))
	t.Logf("10 min update: %d calls blind, %d expecting 10 s", blind, wrong)
	if wrong > blind+70 {
		t.Errorf("expecting 10 s for a 10 min update cost %d calls, blind %d; want at most 70 more", wrong, blind)
	}
}

// Events marked ahead of the execution stand in for reading them then.
func TestMarkedEventsSaveTheReadBeforeExecuting(t *testing.T) {
	run := func(mark bool) (reads int, streamed []string) {
		clock := &fakeClock{now: time.Unix(1000, 0)}
		f := newFake(clock)
		f.pageSize = 100
		f.addEvent("old", f.stackName, stackResourceType, "UPDATE_COMPLETE", "")
		f.status, f.finalStatus = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"
		c := newFakeClient(f)
		cs := updateChangeSet(f)
		if mark {
			if err := c.MarkEvents(context.Background(), cs); err != nil {
				t.Fatal(err)
			}
		}
		before := f.count("DescribeStackEvents")
		f.doneAt = clock.Now().Add(3 * time.Second)
		if _, err := c.Execute(context.Background(), cs, func(e Event) { streamed = append(streamed, e.ID) }); err != nil {
			t.Fatal(err)
		}
		return f.count("DescribeStackEvents") - before, streamed
	}
	marked, streamed := run(true)
	unmarked, _ := run(false)
	if slices.Contains(streamed, "old") {
		t.Error("an event from before the mark was streamed")
	}
	if marked != unmarked-1 {
		t.Errorf("Execute read events %d times after MarkEvents, %d times without; want one fewer", marked, unmarked)
	}
}

// What a wait costs when the expectation is right: a poll every third
// of the operation (none for one of 10 s), one or two at its end, and
// its events read once, at the end (plus the read that marks where they
// begin) -- under rain's cost at 10 s, a sixth of it at a minute, and a
// poll a minute on long operations.
func TestScheduleOfAnExpectedOperation(t *testing.T) {
	for _, c := range []struct {
		op                  time.Duration
		maxDescribes, wantN int
	}{
		{10 * time.Second, 1, 2},
		{time.Minute, 3, 2},
		{30 * time.Minute, 32, 2},
	} {
		clock := &fakeClock{now: time.Unix(1000, 0)}
		f := newFake(clock)
		f.status, f.finalStatus = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"
		f.doneAt = clock.Now().Add(c.op)
		res, err := newFakeClient(f).Execute(context.Background(), updateChangeSet(f), nil, Expecting(c.op))
		if err != nil || res.Failed {
			t.Fatalf("%v: %+v, %v", c.op, res, err)
		}
		late := clock.Now().Sub(f.doneAt)
		t.Logf("%v: %d DescribeStacks, %d DescribeStackEvents, noticed %v late", c.op, f.count("DescribeStacks"), f.count("DescribeStackEvents"), late)
		if n := f.count("DescribeStacks"); n > c.maxDescribes {
			t.Errorf("%v expected and taken: %d DescribeStacks, want at most %d", c.op, n, c.maxDescribes)
		}
		if n := f.count("DescribeStackEvents"); n != c.wantN {
			t.Errorf("%v: %d DescribeStackEvents, want %d (the mark and the end)", c.op, n, c.wantN)
		}
		if late > tailInterval(c.op) {
			t.Errorf("%v: noticed %v late, want within %v", c.op, late, tailInterval(c.op))
		}
	}
}

// Events are read when the status changes and at the end, not on every
// poll: an update that fails and rolls back, polled blind (many polls),
// costs three reads: the mark, the change to UPDATE_ROLLBACK_IN_PROGRESS,
// the end. The first event is announced as the execution starts, and
// CloudFormation's own record of it is not sent again.
func TestEventsReadOnlyWhenTheStatusChangesOrAtTheEnd(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.pageSize = 100
	f.status, f.finalStatus = "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"
	start := clock.Now()
	f.doneAt = start.Add(20 * time.Second)
	var streamed []string
	f.onDescribeCall = func(n int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if n == 1 {
			f.addEvent("in", f.stackName, stackResourceType, "UPDATE_IN_PROGRESS", "User Initiated")
		}
		if f.status == "UPDATE_IN_PROGRESS" && clock.Now().Sub(start) >= 8*time.Second {
			f.addEvent("fail", "Svc", "AWS::ECS::Service", "UPDATE_FAILED", "circuit breaker")
			f.addEvent("rb", f.stackName, stackResourceType, "UPDATE_ROLLBACK_IN_PROGRESS", "")
			f.status = "UPDATE_ROLLBACK_IN_PROGRESS"
		}
	}
	var rollbackSeen time.Duration
	res, err := newFakeClient(f).Execute(context.Background(), updateChangeSet(f), func(e Event) {
		streamed = append(streamed, e.ID)
		if e.ID == "rb" {
			rollbackSeen = clock.Now().Sub(start)
		}
	})
	if err != nil || !res.Failed || len(res.Reasons) != 1 || res.Reasons[0].LogicalID != "Svc" {
		t.Fatalf("%+v, %v", res, err)
	}
	describes, reads := f.count("DescribeStacks"), f.count("DescribeStackEvents")
	t.Logf("%d DescribeStacks, %d DescribeStackEvents; the rollback streamed at %v", describes, reads, rollbackSeen)
	if reads != 3 || describes < 10 {
		t.Errorf("%d event reads over %d polls, want 3 (mark, change, end) over many", reads, describes)
	}
	if strings.Join(streamed, ",") != ",fail,rb" {
		t.Errorf("streamed %q; want the announced start (no ID), then CloudFormation's events but its own record of the start (in)", streamed)
	}
	if rollbackSeen > 9*time.Second {
		t.Errorf("the rollback's events were streamed %v in; want at the first poll after it began (8 s)", rollbackSeen)
	}
}

// A throttled poll is no news: the wait stretches its delays (so a
// throttled minute costs a poll a second or so, not hundreds), never fails
// for it, and after the throttling stops sees the end within a back-off.
func TestThrottledPollsSlowDownAndNeverFailTheWait(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status, f.finalStatus = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"
	start := clock.Now()
	f.doneAt = start.Add(10 * time.Second)
	f.throttleUntil = start.Add(70 * time.Second) // throttled from before the end until a minute past it
	res, err := newFakeClient(f).Execute(context.Background(), updateChangeSet(f), nil, Expecting(10*time.Second))
	if err != nil || res.Failed || res.Status != "UPDATE_COMPLETE" {
		t.Fatalf("a throttled wait ended %+v, %v; want it to go on to the end", res, err)
	}
	throttled := f.count("DescribeStacks:throttled")
	late := clock.Now().Sub(f.throttleUntil)
	t.Logf("%d polls throttled over a minute, Result.Throttled %d; seen %v after the throttling stopped", throttled, res.Throttled, late)
	if throttled != res.Throttled || throttled == 0 {
		t.Errorf("Result.Throttled = %d, the fake throttled %d", res.Throttled, throttled)
	}
	if throttled > 45 {
		t.Errorf("%d throttled polls in a minute; want the delays stretched to about one a second (at most 45)", throttled)
	}
	if late > 4*time.Second {
		t.Errorf("seen %v after the throttling stopped; want within a back-off, a twentieth of the 70 s waited (3.5 s)", late)
	}
}

// While the process's DescribeStacks calls are throttled, a wait leaves
// out its quiet polls: one poll for a minute's operation that ends when
// expected, where an unpressed wait makes three.
func TestPressedWaitSkipsTheQuietPolls(t *testing.T) {
	p := pace{expected: time.Minute, pressed: true}
	if got := p.next(0, 250*time.Millisecond, half); got != time.Minute+120*time.Millisecond {
		t.Errorf("pressed, first poll after %v; want a fifth of a dense interval past the expected end (60.12 s)", got)
	}
	if got := (pace{pressed: true}).next(5*time.Second, 500*time.Millisecond, half); got != 2*time.Second {
		t.Errorf("pressed and blind: polls every %v, want no faster than rain's 2 s", got)
	}
	for pressed, want := range map[bool]int{true: 1, false: 3} {
		clock := &fakeClock{now: time.Unix(1000, 0)}
		f := newFake(clock)
		f.status, f.finalStatus = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"
		f.doneAt = clock.Now().Add(time.Minute)
		c := newFakeClient(f)
		c.pressed = func() bool { return pressed }
		if _, err := c.Execute(context.Background(), updateChangeSet(f), nil, Expecting(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n := f.count("DescribeStacks"); n != want {
			t.Errorf("pressed %v: %d DescribeStacks for a 1 min update expected to take 1 min, want %d", pressed, n, want)
		}
	}
}
