package rollout

import (
	"slices"
	"time"
)

// StepCanary is a region moving traffic to its canary in steps, or baking
// a step; the resource says which step and what weight.
const StepCanary Step = "canary"

// CanaryResult is what a region's canary did; deploy's JSON gives it as
// the region's "canary".
type CanaryResult struct {
	// Steps is how many steps the canary has; Step the last one it reached
	// (1-based; 0 when none was).
	Steps int `json:"steps"`
	Step  int `json:"step"`
	// Weight is the canary's share of the region's traffic at the end, in
	// percent: 0 after a promotion or an abort, the step's (or the weight
	// flag's) when the region was held.
	Weight int `json:"weight"`
	// StableVersion is the version the stable service ran during the canary.
	StableVersion string `json:"stableVersion"`
	// Promoted: every step passed and the stable service took the version.
	Promoted bool `json:"promoted"`
	// Aborted says why the canary was aborted ("" when it was not), and
	// AbortSeconds how long it took from noticing that to all traffic on
	// the stable service (null when no traffic had to move).
	Aborted      string   `json:"aborted,omitempty"`
	AbortSeconds *float64 `json:"abortSeconds,omitempty"`
	// Changes are the weight changes, in order.
	Changes []WeightChange `json:"changes"`
}

// WeightChange is one change of a canary's weight.
type WeightChange struct {
	Time   time.Time `json:"time"`
	Step   int       `json:"step"`
	Weight int       `json:"weight"`
	// Why is "step", "weight flag", "abort" or "promotion".
	Why string `json:"why"`
}

// Clone is a deep copy.
func (c *CanaryResult) Clone() *CanaryResult {
	if c == nil {
		return nil
	}
	out := *c
	out.Changes = slices.Clone(c.Changes)
	if c.AbortSeconds != nil {
		s := *c.AbortSeconds
		out.AbortSeconds = &s
	}
	return &out
}
