// Package plan turns a descriptor's stages into the ordered steps of a
// rollout: stages in file order, each an ordered list of waves, each wave a
// set of (stage, region) steps deployed in parallel. It is pure: it reads the
// descriptor and makes no AWS call.
package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// Plan is the rollout of one service over the selected stages.
type Plan struct {
	Service string
	Stages  []Stage
}

// Stage is one stage of the rollout.
type Stage struct {
	Name     string
	Account  string
	Approval bool
	// Index is the stage's 0-based position in the descriptor's stages list.
	Index int
	// StateRegion is where the stage's state table lives: the first region
	// of its first wave.
	StateRegion string
	Waves       []Wave
}

// Wave is a set of regions deployed in parallel, then baked.
type Wave struct {
	// Index is 1-based.
	Index int
	// Bake is how long alarms are watched after the wave (already defaulted
	// from the stage by the descriptor).
	Bake time.Duration
	// MaxParallel bounds how many regions deploy at once; 0 means all.
	MaxParallel int
	Steps       []Step
}

// Step is the deployment of one (stage, region).
type Step struct {
	Stage   string
	Account string
	Region  string
	// Wave is the 1-based index of the step's wave.
	Wave int
}

// Build plans the rollout of d over the named stages, in the descriptor's
// order whatever the order of names. An empty names list selects every stage.
func Build(d *descriptor.Descriptor, names []string) (*Plan, error) {
	if d == nil {
		return nil, fmt.Errorf("planning: no descriptor")
	}
	if len(d.Stages) == 0 {
		return nil, fmt.Errorf("planning %s: the descriptor has no stages", d.Service)
	}
	all := make([]string, len(d.Stages))
	for i, st := range d.Stages {
		if slices.Contains(all[:i], st.Name) {
			return nil, fmt.Errorf("planning %s: stage %q is declared twice", d.Service, st.Name)
		}
		all[i] = st.Name
	}
	want := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(all, n) {
			return nil, fmt.Errorf("unknown stage %q: the descriptor's stages are %s", n, strings.Join(all, ", "))
		}
		want[n] = true
	}
	p := &Plan{Service: d.Service}
	for i := range d.Stages {
		src := &d.Stages[i]
		if len(want) > 0 && !want[src.Name] {
			continue
		}
		st, err := buildStage(src, i)
		if err != nil {
			return nil, fmt.Errorf("planning %s: %w", d.Service, err)
		}
		p.Stages = append(p.Stages, st)
	}
	return p, nil
}

func buildStage(src *descriptor.Stage, index int) (Stage, error) {
	waves := src.Waves
	if len(waves) == 0 && len(src.Regions) > 0 {
		// A descriptor that skipped normalisation: regions is one wave.
		waves = []descriptor.Wave{{Regions: src.Regions, Bake: src.Bake}}
	}
	if len(waves) == 0 {
		return Stage{}, fmt.Errorf("stage %q has no regions", src.Name)
	}
	st := Stage{Name: src.Name, Account: src.Account, Approval: src.Approval, Index: index}
	seen := map[string]int{}
	for j, w := range waves {
		if len(w.Regions) == 0 {
			return Stage{}, fmt.Errorf("wave %d of stage %q has no regions", j+1, src.Name)
		}
		pw := Wave{Index: j + 1, Bake: w.Bake.Duration, MaxParallel: max(w.MaxParallel, 0)}
		if pw.Bake < 0 {
			return Stage{}, fmt.Errorf("wave %d of stage %q has a negative bake time %s", j+1, src.Name, pw.Bake)
		}
		for _, r := range w.Regions {
			if r == "" {
				return Stage{}, fmt.Errorf("wave %d of stage %q has an empty region", j+1, src.Name)
			}
			if prev, dup := seen[r]; dup {
				return Stage{}, fmt.Errorf("region %s appears twice in stage %q (waves %d and %d)", r, src.Name, prev, j+1)
			}
			seen[r] = j + 1
			pw.Steps = append(pw.Steps, Step{Stage: src.Name, Account: src.Account, Region: r, Wave: j + 1})
		}
		st.Waves = append(st.Waves, pw)
	}
	st.StateRegion = st.Waves[0].Steps[0].Region
	return st, nil
}

// Steps lists every step of the plan: stages, waves and regions in order.
func (p *Plan) Steps() []Step {
	var out []Step
	for _, st := range p.Stages {
		out = append(out, st.Steps()...)
	}
	return out
}

// Stage returns the named stage of the plan.
func (p *Plan) Stage(name string) (Stage, bool) {
	for _, st := range p.Stages {
		if st.Name == name {
			return st, true
		}
	}
	return Stage{}, false
}

// Steps lists the stage's steps in wave order.
func (s Stage) Steps() []Step {
	var out []Step
	for _, w := range s.Waves {
		out = append(out, w.Steps...)
	}
	return out
}

// Regions lists the stage's regions in wave order.
func (s Stage) Regions() []string {
	var out []string
	for _, st := range s.Steps() {
		out = append(out, st.Region)
	}
	return out
}

// Parallel is how many of the wave's regions may deploy at once.
func (w Wave) Parallel() int {
	if w.MaxParallel <= 0 || w.MaxParallel > len(w.Steps) {
		return len(w.Steps)
	}
	return w.MaxParallel
}
