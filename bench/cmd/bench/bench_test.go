package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// The 13-region descriptor is the one the issue asks for: waves of 1, 4
// and 8 regions, each all at once, so its critical path is three stack
// operations.
func TestFleetCriticalPath(t *testing.T) {
	chdirRepo(t)
	d, pl, err := loadPlan(fleet)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, w := range pl.Stages[0].Waves {
		sizes = append(sizes, len(w.Steps))
		if w.Parallel() != len(w.Steps) {
			t.Errorf("wave %d deploys %d of its %d regions at a time", w.Index, w.Parallel(), len(w.Steps))
		}
	}
	if len(pl.Stages) != 1 || !slices.Equal(sizes, []int{1, 4, 8}) {
		t.Fatalf("%d stage(s), waves of %v; want one stage, waves of 1, 4 and 8", len(pl.Stages), sizes)
	}
	got, lines := criticalPath(pl, stacksPerRegion(d), 10*time.Second)
	if got != 30*time.Second || len(lines) != 3 {
		t.Errorf("critical path %s in %d lines, want 30s in 3: %q", got, len(lines), lines)
	}
	// payments: 2 stacks per region; prod's third wave takes two rounds.
	d, pl, err = loadPlan(payments)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := criticalPath(pl, stacksPerRegion(d), 5*time.Second); got != 60*time.Second {
		t.Errorf("payments critical path %s, want 60s", got)
	}
}

func TestSummaryHasEveryKeyInOrder(t *testing.T) {
	r := &Results{
		Lint:       &LintResult{Speedup: 40, GantryRunsMS: []float64{1}},
		Fleet:      &FleetResult{RolloutResult: RolloutResult{OverheadRatio: 1.04321, WallSeconds: 31, PeakRSSMB: 50}},
		AWSCLI13:   &AWSCLIResult{WallSeconds: 403, Stacks: 13},
		Canary:     &CanaryResult{AbortMedianSeconds: 1.234, RestoreMedianSeconds: 27.5, AbortRunsSeconds: []float64{1.234}, RestoreRunsSeconds: []float64{27.5}, StackOperationSeconds: 10},
		QuotaFleet: quotaFleetSample(),
	}
	r.summarize()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Summary map[string]any
		Goals   map[string]Goal
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	want := []string{"lint_vs_cfnlint_speedup", "lint_1000_seconds", "render_payments_ms", "rollout_overhead_ratio",
		"rollout_vs_awscli_speedup", "noop_rerun_seconds", "noop_mutating_calls", "describe_calls_per_stack_10s",
		"describe_calls_per_stack_60s", "peak_rss_mb", "canary_abort_seconds", "restore_seconds",
		"fleet_20_succeeded", "fleet_20_notice_p95_seconds", "describe_calls_per_stack_minute", "fleet_20_overhead_ratio"}
	var order []string
	for _, f := range r.Summary {
		order = append(order, f.key)
	}
	if !slices.Equal(order, want) || len(back.Summary) != len(want) {
		t.Fatalf("summary keys %v, want %v", order, want)
	}
	// The fleet's keys: the worse series of the 20-at-once updates; the
	// describe calls of the single updates over both series together.
	for key, v := range map[string]any{"lint_vs_cfnlint_speedup": 40.0, "rollout_overhead_ratio": 1.043,
		"rollout_vs_awscli_speedup": 13.0, "noop_mutating_calls": 0.0, "render_payments_ms": nil,
		"canary_abort_seconds": 1.234, "restore_seconds": 27.5,
		"fleet_20_succeeded": 19.0, "fleet_20_notice_p95_seconds": 2.5, "fleet_20_overhead_ratio": 1.2,
		"describe_calls_per_stack_minute": 28.0} {
		if back.Summary[key] != v {
			t.Errorf("summary %s = %v, want %v", key, back.Summary[key], v)
		}
	}
	met := func(key string) string {
		g, ok := back.Goals[key]
		if !ok {
			return "no goal"
		}
		if g.Met == nil {
			return "null"
		}
		return map[bool]string{true: "true", false: "false"}[*g.Met]
	}
	for key, want := range map[string]string{"lint_vs_cfnlint_speedup": "false", "rollout_overhead_ratio": "false",
		"rollout_vs_awscli_speedup": "true", "noop_mutating_calls": "true", "peak_rss_mb": "no goal",
		"canary_abort_seconds": "true", "restore_seconds": "no goal",
		"fleet_20_succeeded": "false", "fleet_20_notice_p95_seconds": "false", "fleet_20_overhead_ratio": "false",
		"describe_calls_per_stack_minute": "true"} {
		if got := met(key); got != want {
			t.Errorf("goal of %s met: %s, want %s", key, got, want)
		}
	}
	if table := markdown(r); !strings.Contains(table, "| `rollout_overhead_ratio` | 1.043 | ≤ 1.02 | **no** |") ||
		!strings.Contains(table, "| `render_payments_ms` | not measured |") ||
		!strings.Contains(table, "| `fleet_20_succeeded` | 19/20 | 20/20 | **no** |") {
		t.Errorf("table:\n%s", table)
	}
}

// A rerun replaces the generated section and keeps the prose around it.
func TestReplaceSection(t *testing.T) {
	doc := "# Benchmarks\n\nprose before\n\n" + beginMarker + "\nold table\n" + endMarker + "\n\nprose after\n"
	once, err := replaceSection([]byte(doc), "| new |\n")
	if err != nil {
		t.Fatal(err)
	}
	twice, err := replaceSection(once, "| new |\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\nprose before\n\n" + beginMarker + "\n\n| new |\n\n" + endMarker + "\n\nprose after\n"
	if string(once) != want || string(twice) != want {
		t.Errorf("got\n%s\nthen\n%s\nwant\n%s", once, twice, want)
	}
	if _, err := replaceSection([]byte("# no markers\n"), "x"); err == nil {
		t.Error("a file without the markers was accepted")
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-skip-rollout", "-skip", "render, cfnlint"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range allParts() {
		want := p == partRender || p == partCfnLint || slices.Contains(stackParts(), p)
		if c.on(p) == want {
			t.Errorf("part %s on: %v", p, c.on(p))
		}
	}
	if _, err := parseFlags([]string{"-skip", "lnt"}); err == nil || !strings.Contains(err.Error(), "lint1000") {
		t.Errorf("unknown part: %v, want an error listing the parts", err)
	}
}

func TestNumber(t *testing.T) {
	for v, want := range map[float64]string{365.75547: "365.8", 12345.6: "12346", 1.2148913: "1.215", 0.92264: "0.9226", 0: "0", 13: "13"} {
		if got := number(v); got != want {
			t.Errorf("number(%v) = %s, want %s", v, got, want)
		}
	}
}

// quotaFleetSample is two series: at 10 s, 20/20 with a notice p95 of
// 1.5 s and a ratio of 1.2; at 60 s, 19/20, 2.5 s, 1.05. The single
// updates: 40 describe calls over 1 stack-minute, and 100 over 4: 28
// a stack-minute together.
func quotaFleetSample() *QuotaFleetResult {
	return &QuotaFleetResult{Series: []QuotaSeries{
		{StackOperationSeconds: 10, Rounds: []QuotaRound{
			{Name: "first deploy, 20 at once", Rollouts: 20, Succeeded: 0, NoticeP95Seconds: 9, OverheadRatio: 9},
			{Update: true, Rollouts: 1, Succeeded: 1, DescribeCalls: 40, StackMinutes: 1},
			{Update: true, Rollouts: 20, Succeeded: 20, NoticeP95Seconds: 1.5, OverheadRatio: 1.2},
		}},
		{StackOperationSeconds: 60, Rounds: []QuotaRound{
			{Update: true, Rollouts: 1, Succeeded: 1, DescribeCalls: 100, StackMinutes: 4},
			{Update: true, Rollouts: 20, Succeeded: 19, NoticeP95Seconds: 2.5, OverheadRatio: 1.05},
		}},
	}}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for q, want := range map[float64]float64{0.5: 5, 0.95: 10, 0.9: 9, 0: 1} {
		if got := percentile(xs, q); got != want {
			t.Errorf("percentile %v = %v, want %v", q, got, want)
		}
	}
	if percentile(nil, 0.95) != 0 {
		t.Error("the percentile of nothing is not 0")
	}
}
