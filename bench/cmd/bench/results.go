package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// Results is bench/results.json: what was measured where, the flat summary
// of issue 5's and issue 15's keys with their goals, and each measurement
// in detail.
type Results struct {
	Date    string `json:"date"`
	Machine string `json:"machine"`
	// LoadStart and LoadEnd are the 1-minute load average when the run
	// started and ended: how much else the machine was doing.
	LoadStart    float64  `json:"load_average_start"`
	LoadEnd      float64  `json:"load_average_end"`
	GoVersion    string   `json:"go_version"`
	Gantry       string   `json:"gantry_version"`
	CfnLint      string   `json:"cfn_lint_version,omitempty"`
	AWSCLI       string   `json:"awscli_version,omitempty"`
	Runs         int      `json:"runs"`
	Skipped      []string `json:"skipped_parts,omitempty"`
	BenchSeconds float64  `json:"bench_seconds"`

	// Summary holds every key of issue 5, null when its part was skipped.
	Summary ordered `json:"summary"`
	// Goals holds, per summary key with a goal, the goal and whether this
	// run met it (null when not measured).
	Goals ordered `json:"goals"`

	Lint            *LintResult     `json:"lint,omitempty"`
	Lint1000        *LintManyResult `json:"lint_1000,omitempty"`
	Render          *RenderResult   `json:"render,omitempty"`
	Rerun           *RerunResult    `json:"rerun,omitempty"`
	PaymentsRollout *RolloutResult  `json:"rollout,omitempty"`
	Fleet           *FleetResult    `json:"rollout_13_regions,omitempty"`
	AWSCLI13        *AWSCLIResult   `json:"awscli_13_regions,omitempty"`
	Describe        *DescribeResult `json:"describe_calls,omitempty"`
	Canary          *CanaryResult   `json:"canary_abort,omitempty"`
	// QuotaFleet is issue 15's fleet: many rollouts at once under
	// CloudFormation's API quotas.
	QuotaFleet *QuotaFleetResult `json:"fleet_under_quota,omitempty"`
}

// metric is one summary key: its value (nil when not measured), its goal
// and how the table explains it.
type metric struct {
	key   string
	value *float64
	unit  string // after the value in the table: "x", " s", " ms", ...
	goal  string // "" when issue 5 sets none
	met   func(float64) bool
	what  string // the table's explanation, with the raw numbers
}

// Goal is one entry of Results.Goals.
type Goal struct {
	Goal string `json:"goal"`
	Met  *bool  `json:"met"`
}

func (m metric) isMet() *bool {
	if m.value == nil || m.met == nil {
		return nil
	}
	ok := m.met(*m.value)
	return &ok
}

func ptr(v float64) *float64 { return &v }

func atLeast(goal float64) func(float64) bool { return func(v float64) bool { return v >= goal } }
func atMost(goal float64) func(float64) bool  { return func(v float64) bool { return v <= goal } }

// metrics lists issue 5's and 15's keys in the order the summary and the
// table show them.
func (r *Results) metrics() []metric {
	ms := []metric{
		{key: "lint_vs_cfnlint_speedup", unit: "x", goal: ">= 50", met: atLeast(50)},
		{key: "lint_1000_seconds", unit: " s"},
		{key: "render_payments_ms", unit: " ms"},
		{key: "rollout_overhead_ratio", goal: "<= 1.02", met: atMost(1.02)},
		{key: "rollout_vs_awscli_speedup", unit: "x", goal: ">= 3", met: atLeast(3)},
		{key: "noop_rerun_seconds", unit: " s"},
		{key: "noop_mutating_calls", goal: "0", met: func(v float64) bool { return v == 0 }},
		{key: "describe_calls_per_stack_10s"},
		{key: "describe_calls_per_stack_60s"},
		{key: "peak_rss_mb", unit: " MB"},
		{key: "canary_abort_seconds", unit: " s", goal: "<= 5", met: atMost(5)},
		{key: "restore_seconds", unit: " s"},
		// Issue 15: the fleet under CloudFormation's quotas.
		{key: "fleet_20_succeeded", unit: "/20", goal: "20/20", met: func(v float64) bool { return v == 20 }},
		{key: "fleet_20_notice_p95_seconds", unit: " s", goal: "<= 2 s", met: atMost(2)},
		{key: "describe_calls_per_stack_minute", goal: "<= 30", met: atMost(30)},
		{key: "fleet_20_overhead_ratio", goal: "<= 1.15", met: atMost(1.15)},
	}
	set := func(key string, v float64, what string, args ...any) {
		for i := range ms {
			if ms[i].key == key {
				ms[i].value, ms[i].what = ptr(v), fmt.Sprintf(what, args...)
			}
		}
	}
	if l := r.Lint; l != nil {
		set("lint_vs_cfnlint_speedup", l.Speedup, "cfn-lint on payments' %d rendered templates %.0f ms / `gantry lint` on payments %.1f ms (whole process, medians of %d)",
			l.Templates, l.CfnLintMedianMS, l.GantryMedianMS, len(l.GantryRunsMS))
	}
	if l := r.Lint1000; l != nil {
		set("lint_1000_seconds", l.Seconds, "one `gantry lint DIR` over %d generated descriptors (%.1f MB; %d errors, %d warnings), median of %d",
			l.Files, float64(l.Bytes)/1e6, l.Errors, l.Warnings, len(l.RunsMS))
	}
	if x := r.Render; x != nil {
		set("render_payments_ms", x.MedianMS, "`gantry render` payments, every stage and region (%d files), whole process, median of %d", x.Files, len(x.RunsMS))
	}
	if f := r.Fleet; f != nil {
		set("rollout_overhead_ratio", f.OverheadRatio, "13-region rollout %.1f s / critical path %.0f s (%d waves, %d stack per region x %.0f s, bake %.0f s)",
			f.WallSeconds, f.CriticalPathSeconds, len(f.CriticalPath), f.StacksPerRegion, f.StackOperationSeconds, f.BakeSeconds)
		set("noop_rerun_seconds", f.Noop.RerunSeconds, "the 13-region rollout again, unchanged: %d calls", f.Noop.RerunCalls)
		set("noop_mutating_calls", float64(f.Noop.MutatingCalls), "mutating calls at the proxy during that rerun")
		set("peak_rss_mb", f.PeakRSSMB, "peak RSS of the `gantry deploy` process of the 13-region rollout (ru_maxrss)")
	}
	if a := r.AWSCLI13; a != nil && r.Fleet != nil {
		set("rollout_vs_awscli_speedup", a.WallSeconds/r.Fleet.WallSeconds, "`aws cloudformation deploy` region after region %.1f s (%d stacks, %.1f s each) / gantry %.1f s",
			a.WallSeconds, a.Stacks, a.SecondsPerStack, r.Fleet.WallSeconds)
	}
	if c := r.Canary; c != nil {
		set("canary_abort_seconds", c.AbortMedianSeconds, "a canary at 10%%: its alarm set to ALARM until the listener rule gives it 0 (elbv2 polled every 10 ms), median of %d; stack operations %.0f s", len(c.AbortRunsSeconds), c.StackOperationSeconds)
		set("restore_seconds", c.RestoreMedianSeconds, "the same service deployed whole: its 5xx alarm set to ALARM during the bake until the app stack runs the previous version again (bake poll %.0f s, then a %.0f s stack update), median of %d", 15.0, c.StackOperationSeconds, len(c.RestoreRunsSeconds))
	}
	if d := r.Describe; d != nil {
		for _, run := range d.Runs {
			set(fmt.Sprintf("describe_calls_per_stack_%.0fs", run.StackOperationSeconds), run.PerStack,
				"DescribeStacks %d + DescribeStackEvents %d + DescribeChangeSet %d, one stack operation of %.0f s",
				run.DescribeStacks, run.DescribeStackEvents, run.DescribeChangeSet, run.StackOperationSeconds)
		}
	}
	if q := r.QuotaFleet; q != nil {
		q.fleetMetrics(set)
	}
	return ms
}

// summarize fills Summary and Goals from the measurements.
func (r *Results) summarize() {
	r.Summary, r.Goals = nil, nil
	for _, m := range r.metrics() {
		var v any
		if m.value != nil {
			v = round(*m.value)
		}
		r.Summary = append(r.Summary, field{m.key, v})
		if m.goal != "" {
			r.Goals = append(r.Goals, field{m.key, Goal{Goal: m.goal, Met: m.isMet()}})
		}
	}
}

// round keeps 4 significant digits (whole numbers stay whole): the
// summary is for reading; the sections below it keep every digit.
func round(v float64) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	scale := math.Pow(10, 4-math.Ceil(math.Log10(math.Abs(v))))
	scale = max(scale, 1)
	return math.Round(v*scale) / scale
}

type field struct {
	key   string
	value any
}

// ordered is a JSON object that keeps its keys in order.
type ordered []field

func (o ordered) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func writeJSON(path string, r *Results) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep the goals' ">=" and "<=" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
