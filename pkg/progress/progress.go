// Package progress shows a rollout as it happens and reports its outcome:
// the Observer the deploy engine calls, a live TTY view, plain timestamped
// lines for logs, the final result (the --output json object) and a Markdown
// summary for $GITHUB_STEP_SUMMARY. It imports nothing else of gantry's.
//
// Observer methods are called from several goroutines at once (regions of a
// wave deploy in parallel); every implementation here is safe for that.
package progress

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gantryhq/gantry/pkg/iostreams"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// Multi sends every event to each of obs in turn.
func Multi(obs ...rollout.Observer) rollout.Observer { return multi(obs) }

type multi []rollout.Observer

func (m multi) RolloutStarted(s rollout.Start) {
	for _, o := range m {
		o.RolloutStarted(s)
	}
}
func (m multi) RegionStarted(r rollout.Ref) {
	for _, o := range m {
		o.RegionStarted(r)
	}
}
func (m multi) StepChanged(r rollout.Ref, s rollout.Step, res string) {
	for _, o := range m {
		o.StepChanged(r, s, res)
	}
}
func (m multi) StackEvent(r rollout.Ref, e rollout.StackEvent) {
	for _, o := range m {
		o.StackEvent(r, e)
	}
}
func (m multi) RegionDone(r rollout.Ref, rr rollout.RegionResult) {
	for _, o := range m {
		o.RegionDone(r, rr)
	}
}
func (m multi) Message(r rollout.Ref, l slog.Level, t string) {
	for _, o := range m {
		o.Message(r, l, t)
	}
}
func (m multi) RolloutDone(r *rollout.Result) {
	for _, o := range m {
		o.RolloutDone(r)
	}
}

// Clock tells the time; renderers use it for timestamps and elapsed times.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Recorder is an Observer that keeps every event, for tests.
type Recorder struct {
	mu     sync.Mutex
	Events []Event
}

// Event is one recorded call.
type Event struct {
	Kind     string // the method's name
	Ref      rollout.Ref
	Step     rollout.Step
	Resource string
	Stack    rollout.StackEvent
	Region   rollout.RegionResult
	Level    slog.Level
	Text     string
	Start    *rollout.Start
	Result   *rollout.Result
}

func (r *Recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Events = append(r.Events, e)
}

// Snapshot returns a copy of the events so far.
func (r *Recorder) Snapshot() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.Events...)
}

func (r *Recorder) RolloutStarted(s rollout.Start) { r.add(Event{Kind: "RolloutStarted", Start: &s}) }
func (r *Recorder) RegionStarted(ref rollout.Ref)  { r.add(Event{Kind: "RegionStarted", Ref: ref}) }
func (r *Recorder) StepChanged(ref rollout.Ref, s rollout.Step, res string) {
	r.add(Event{Kind: "StepChanged", Ref: ref, Step: s, Resource: res})
}
func (r *Recorder) StackEvent(ref rollout.Ref, e rollout.StackEvent) {
	r.add(Event{Kind: "StackEvent", Ref: ref, Stack: e})
}
func (r *Recorder) RegionDone(ref rollout.Ref, rr rollout.RegionResult) {
	r.add(Event{Kind: "RegionDone", Ref: ref, Region: rr})
}
func (r *Recorder) Message(ref rollout.Ref, l slog.Level, t string) {
	r.add(Event{Kind: "Message", Ref: ref, Level: l, Text: t})
}
func (r *Recorder) RolloutDone(res *rollout.Result) { r.add(Event{Kind: "RolloutDone", Result: res}) }

// ForStderr is the view a command shows a rollout in: the live table when
// stderr is a terminal, plain lines otherwise, both on stderr so that
// stdout stays for the result. stop ends the live view; it may be called
// more than once.
// summary says whether the view ends with the result's summary line: not
// when the command prints it on stdout (said once).
func ForStderr(ios *iostreams.IOStreams, summary bool) (obs rollout.Observer, stop func()) {
	if !ios.IsStderrTTY() {
		p := NewPlain(ios.ErrOut, nil)
		p.NoSummary = !summary
		return p, func() {}
	}
	tty := NewTTY(ios.ErrOut, TTYOptions{Color: ios.ColorEnabledStderr(), Width: ios.TerminalWidth(), NoSummary: !summary})
	tty.Start()
	var once sync.Once
	return tty, func() { once.Do(tty.Stop) }
}
