package descriptor

import (
	"slices"
	"time"
)

// Canary moves a region's traffic to the new version in steps: each step
// sends Steps[i] percent of the region's requests to a canary service
// running the new version and bakes for StepBake; after the last step the
// stable service takes the new version and all traffic.
type Canary struct {
	Steps      []int    `yaml:"steps" required:"true" doc:"Percent of the region's traffic on the new version at each step, strictly increasing, each 1-99; 100 follows the last."`
	StepBake   Duration `yaml:"stepBake" doc:"Bake at every step (default 5m)."`
	Stages     []string `yaml:"stages" doc:"Stages that run the canary (default: every stage)."`
	WeightFlag string   `yaml:"weightFlag" doc:"Integer flag (0-100), evaluated per region: the most traffic the canary may take now; 0 aborts."`
	Compare    *Compare `yaml:"compare" doc:"Alarms that compare the canary with the stable version."`
}

// Compare sets the canary-against-stable alarms; each is rendered only
// when given.
type Compare struct {
	ErrorRateMargin *float64 `yaml:"errorRateMargin" doc:"Percentage points of 5xx the canary may have over the stable version's (above 0, below 100)."`
	LatencyFactor   *float64 `yaml:"latencyFactor" doc:"How many times the stable version's p99 latency the canary's may reach (above 1, at most 100)."`
}

// DefaultStepBake is a canary step's bake when stepBake is not given.
const DefaultStepBake = 5 * time.Minute

// Bake is the bake of every step.
func (c *Canary) Bake() time.Duration {
	if c.StepBake.Set {
		return c.StepBake.Duration
	}
	return DefaultStepBake
}

// Compare value ranges (lint reports values outside them; render refuses
// them).
const (
	MaxErrorRateMargin = 100.0
	MinLatencyFactor   = 1.0
	MaxLatencyFactor   = 100.0
)

// CanaryFor returns the canary of a stage: rollout.canary when it names
// the stage in its stages (or names none), nil otherwise.
func (d *Descriptor) CanaryFor(stage string) *Canary {
	c := d.Rollout.Canary
	if c == nil || len(c.Steps) == 0 {
		return nil
	}
	if len(c.Stages) > 0 && !slices.Contains(c.Stages, stage) {
		return nil
	}
	return c
}
