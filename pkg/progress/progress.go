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
	"strings"
	"sync"
	"time"
)

// Ref names one region of a rollout.
type Ref struct {
	Stage  string
	Region string
	// Wave is 1-based; 0 with an empty Region for a stage-wide message.
	Wave int
}

// String is "stage/region", or "stage" for a stage-wide Ref.
func (r Ref) String() string {
	switch {
	case r.Stage == "" && r.Region == "":
		return ""
	case r.Region == "":
		return r.Stage
	}
	return r.Stage + "/" + r.Region
}

// Step is what a region is doing now.
type Step string

// The steps of a region, in the order they happen.
const (
	StepPending  Step = "pending"   // not started
	StepCheck    Step = "check"     // reading the app stack's status and tags
	StepGate     Step = "gate"      // evaluating the gate and halt flags
	StepGateWait Step = "gate-wait" // gate closed; waiting for it (--gate-wait)
	StepData     Step = "data"      // deploying the data stack
	StepApp      Step = "app"       // deploying the app stack
	StepWaiting  Step = "waiting"   // deployed; waiting for the rest of the wave
	StepBake     Step = "bake"      // watching alarms and the halt flag
	StepRestore  Step = "restore"   // an alarm fired: redeploying the previous version
	StepDone     Step = "done"
)

// StackEvent is one CloudFormation stack event.
type StackEvent struct {
	Time      time.Time
	Stack     string // stack name
	LogicalID string // the resource's logical ID; the stack name for the stack itself
	Type      string // resource type, e.g. AWS::ECS::Service
	Status    string // e.g. UPDATE_IN_PROGRESS
	Reason    string
}

// Failed reports whether the event is a resource failure.
func (e StackEvent) Failed() bool { return strings.Contains(e.Status, "FAILED") }

// StackLevel reports whether the event is about the stack itself.
func (e StackEvent) StackLevel() bool {
	return e.Type == "AWS::CloudFormation::Stack" || (e.LogicalID != "" && e.LogicalID == e.Stack)
}

// Start describes a rollout about to run.
type Start struct {
	Service   string
	Version   string
	RolloutID string
	// Regions are every region of the plan, in rollout order.
	Regions []Ref
	// Notes are things the user must not miss (a --bake override).
	Notes []string
}

// Observer receives a rollout's events.
type Observer interface {
	RolloutStarted(s Start)
	RegionStarted(ref Ref)
	// StepChanged says ref moved to step; resource is what the step works on
	// (a stack name), or "".
	StepChanged(ref Ref, step Step, resource string)
	StackEvent(ref Ref, e StackEvent)
	// RegionDone gives a region's final outcome.
	RegionDone(ref Ref, r RegionResult)
	// Message is a line worth showing: a decision, a warning, a note. ref
	// may be a stage-wide or empty Ref.
	Message(ref Ref, level slog.Level, text string)
	RolloutDone(r *Result)
}

// Discard is an Observer that ignores everything.
type Discard struct{}

func (Discard) RolloutStarted(Start)            {}
func (Discard) RegionStarted(Ref)               {}
func (Discard) StepChanged(Ref, Step, string)   {}
func (Discard) StackEvent(Ref, StackEvent)      {}
func (Discard) RegionDone(Ref, RegionResult)    {}
func (Discard) Message(Ref, slog.Level, string) {}
func (Discard) RolloutDone(*Result)             {}

// Multi sends every event to each of obs in turn.
func Multi(obs ...Observer) Observer { return multi(obs) }

type multi []Observer

func (m multi) RolloutStarted(s Start) {
	for _, o := range m {
		o.RolloutStarted(s)
	}
}
func (m multi) RegionStarted(r Ref) {
	for _, o := range m {
		o.RegionStarted(r)
	}
}
func (m multi) StepChanged(r Ref, s Step, res string) {
	for _, o := range m {
		o.StepChanged(r, s, res)
	}
}
func (m multi) StackEvent(r Ref, e StackEvent) {
	for _, o := range m {
		o.StackEvent(r, e)
	}
}
func (m multi) RegionDone(r Ref, rr RegionResult) {
	for _, o := range m {
		o.RegionDone(r, rr)
	}
}
func (m multi) Message(r Ref, l slog.Level, t string) {
	for _, o := range m {
		o.Message(r, l, t)
	}
}
func (m multi) RolloutDone(r *Result) {
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
	Ref      Ref
	Step     Step
	Resource string
	Stack    StackEvent
	Region   RegionResult
	Level    slog.Level
	Text     string
	Start    *Start
	Result   *Result
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

func (r *Recorder) RolloutStarted(s Start) { r.add(Event{Kind: "RolloutStarted", Start: &s}) }
func (r *Recorder) RegionStarted(ref Ref)  { r.add(Event{Kind: "RegionStarted", Ref: ref}) }
func (r *Recorder) StepChanged(ref Ref, s Step, res string) {
	r.add(Event{Kind: "StepChanged", Ref: ref, Step: s, Resource: res})
}
func (r *Recorder) StackEvent(ref Ref, e StackEvent) {
	r.add(Event{Kind: "StackEvent", Ref: ref, Stack: e})
}
func (r *Recorder) RegionDone(ref Ref, rr RegionResult) {
	r.add(Event{Kind: "RegionDone", Ref: ref, Region: rr})
}
func (r *Recorder) Message(ref Ref, l slog.Level, t string) {
	r.add(Event{Kind: "Message", Ref: ref, Level: l, Text: t})
}
func (r *Recorder) RolloutDone(res *Result) { r.add(Event{Kind: "RolloutDone", Result: res}) }
