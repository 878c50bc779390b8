package rollout

import (
	"log/slog"
	"strings"
	"time"
)

// Ref names one region of a
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
	StepRelease  Step = "release"   // running a release task (between the release and app stacks)
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

// LevelHeartbeat is the level of a Message that only says a long wait
// goes on (a bake's time left): plain logs show it, so a CI log is never
// silent for minutes; a live view, which shows elapsed times, need not.
const LevelHeartbeat = slog.LevelInfo - 2

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
