package cfn

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestPaceLandsAtTheExpectedEndThenPollsDensely(t *testing.T) {
	p := pace{expected: 10 * time.Second}
	tail := tailInterval(p.expected)
	if tail != 100*time.Millisecond {
		t.Fatalf("tail interval for 10 s = %v, want 100ms", tail)
	}
	// Before the tail: never sleeps past its start.
	if d := p.next(9600*time.Millisecond, 5*time.Second); d != 300*time.Millisecond {
		t.Errorf("at 9.6 s with a 5 s back-off: sleeps %v, want 300ms (to 9.9 s)", d)
	}
	if d := p.next(time.Second, 500*time.Millisecond); d != 500*time.Millisecond {
		t.Errorf("early: sleeps %v, want the back-off's 500ms", d)
	}
	// In the tail: the dense interval, until well past the expected end.
	for _, at := range []time.Duration{9900 * time.Millisecond, 10 * time.Second, 12 * time.Second} {
		if d := p.next(at, 5*time.Second); d != tail {
			t.Errorf("at %v: sleeps %v, want %v", at, d, tail)
		}
	}
	// Past the window: back to the back-off.
	if d := p.next(16*time.Second, 5*time.Second); d != 800*time.Millisecond {
		t.Errorf("at 16 s: sleeps %v, want the back-off within a twentieth of the wait (800ms)", d)
	}
	// No expectation: the back-off alone.
	if d := (pace{}).next(2*time.Minute, 5*time.Second); d != 5*time.Second {
		t.Errorf("no expectation, two minutes in: sleeps %v, want the back-off's 5 s", d)
	}
	// Never more than a twentieth of the wait so far (at least 500 ms).
	if d := (pace{}).next(8*time.Second, 5*time.Second); d != 500*time.Millisecond {
		t.Errorf("no expectation, 8 s in: sleeps %v, want 500ms", d)
	}
	if d := (pace{}).next(30*time.Second, 5*time.Second); d != 1500*time.Millisecond {
		t.Errorf("no expectation, 30 s in: sleeps %v, want 1.5 s", d)
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
// tail interval, where the back-off alone notices a 10 s update ~2 s late.
func TestExpectingNoticesTheEndWithinATailInterval(t *testing.T) {
	blind, blindCalls, _ := runFor(t, 10*time.Second, 0)
	for _, op := range []time.Duration{10 * time.Second, 10200 * time.Millisecond, 9 * time.Second, 12 * time.Second} {
		late, calls, res := runFor(t, op, 0, Expecting(10*time.Second))
		t.Logf("%v update expecting 10 s: noticed %v late, %d describe calls, Took %v (blind 10 s: %v late, %d calls)", op, late, calls, res.Took, blind, blindCalls)
		limit := 100 * time.Millisecond
		if op < 9900*time.Millisecond {
			limit = time.Second // before the tail: the back-off, capped at the tail's start
		}
		if late > limit {
			t.Errorf("%v update expecting 10 s noticed %v late; want at most %v", op, late, limit)
		}
		if res.Took > op || res.Took < op-limit {
			t.Errorf("%v update: Took %v, want within %v below it", op, res.Took, limit)
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
