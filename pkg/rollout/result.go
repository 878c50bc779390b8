package rollout

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Status is a region's outcome in a
type Status string

// Region statuses, as the design's deploy JSON names them.
const (
	StatusDeployed   Status = "deployed"
	StatusUnchanged  Status = "unchanged"
	StatusFailed     Status = "failed"
	StatusHeld       Status = "held"
	StatusRolledBack Status = "rolled-back"
	StatusPending    Status = "pending"
)

// Outcome is a whole rollout's result.
type Outcome string

// Rollout outcomes.
const (
	Succeeded Outcome = "succeeded"
	Failed    Outcome = "failed"
	Held      Outcome = "held"
)

// Exit codes of a rollout, as the design fixes them.
const (
	ExitSucceeded = 0
	ExitFailed    = 1
	ExitHeld      = 3
)

// Stack actions.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionUnchanged = "unchanged"
	ActionRestore   = "restore"
)

// StackResult is what happened to one stack of a region.
type StackResult struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // naming.Data | naming.App
	// Action is create, update, unchanged or restore.
	Action string `json:"action"`
	// Status is the stack's CloudFormation status afterwards, when known.
	Status string `json:"status,omitempty"`
	// Changes is the number of resource changes in the change set.
	Changes int `json:"changes"`
}

// RegionResult is one region's outcome.
type RegionResult struct {
	Stage  string        `json:"stage"`
	Region string        `json:"region"`
	Wave   int           `json:"wave"`
	Status Status        `json:"status"`
	Stacks []StackResult `json:"stacks"`
	// Error says why the region failed, was held or rolled back (and notes
	// such as a bake cut short); omitted when empty.
	Error string `json:"error,omitempty"`
	// Canary is what the region's canary did, when it ran one.
	Canary *CanaryResult `json:"canary,omitempty"`
}

// Ref is the region's Ref.
func (r RegionResult) Ref() Ref { return Ref{Stage: r.Stage, Region: r.Region, Wave: r.Wave} }

// MarshalJSON writes stacks as [] rather than null.
func (r RegionResult) MarshalJSON() ([]byte, error) {
	type plain RegionResult
	if r.Stacks == nil {
		r.Stacks = []StackResult{}
	}
	return json.Marshal(plain(r))
}

// Result is the outcome of a rollout: `gantry deploy --output json` prints
// it. Every region of the plan appears exactly once, in rollout order.
type Result struct {
	Service string         `json:"service"`
	Version string         `json:"version"`
	Result  Outcome        `json:"result"`
	Regions []RegionResult `json:"regions"`

	// RolloutID identifies the rollout in the journal, the lock and
	// `gantry status`.
	RolloutID string `json:"rolloutId,omitempty"`
	// Notes are things the user must not miss, such as a --bake override:
	// every one is in the JSON, so a pipeline's log shows it too.
	Notes []string `json:"notes"`
}

// MarshalJSON writes regions as [] rather than null.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	if r.Regions == nil {
		r.Regions = []RegionResult{}
	}
	if r.Notes == nil {
		r.Notes = []string{}
	}
	return json.Marshal(plain(r))
}

// ExitCode is the process exit code for the result: 0 succeeded, 1 failed,
// 3 held.
func (r *Result) ExitCode() int {
	switch r.Result {
	case Succeeded:
		return ExitSucceeded
	case Held:
		return ExitHeld
	}
	return ExitFailed
}

// Count returns how many regions have each status.
func (r *Result) Count() map[Status]int {
	out := map[Status]int{}
	for _, rr := range r.Regions {
		out[rr.Status]++
	}
	return out
}

// Summary is one line: "succeeded: 3 deployed, 2 unchanged".
func (r *Result) Summary() string {
	c := r.Count()
	var parts []string
	for _, s := range []Status{StatusDeployed, StatusUnchanged, StatusRolledBack, StatusFailed, StatusHeld, StatusPending} {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
		}
	}
	if len(parts) == 0 {
		return string(r.Result)
	}
	return string(r.Result) + ": " + strings.Join(parts, ", ")
}
