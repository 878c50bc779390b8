package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantryhq/gantry/e2e/proxy"
)

// quotaService is the descriptor the fleet deploys many copies of.
const quotaService = "bench/testdata/quota.sd.yaml"

// quotaWaves is the number of waves of quotaService, each one stack
// deep: a rollout's critical path is quotaWaves stack operations.
const quotaWaves = 2

// QuotaFleetResult is the fleet under CloudFormation's quota (issue 15):
// N separate gantry deploy processes at once, each a service of its own,
// into one account and the same three regions, through one proxy whose
// token buckets per account, region and operation every process shares.
type QuotaFleetResult struct {
	Descriptor string            `json:"descriptor"`
	Account    string            `json:"account"`
	Regions    []string          `json:"regions"`
	Quotas     []QuotaInfo       `json:"quotas"`
	Method     map[string]string `json:"method"`
	Series     []QuotaSeries     `json:"series"`
}

// QuotaInfo is one quota the proxy enforced, and where its numbers come
// from.
type QuotaInfo struct {
	Operation string  `json:"operation"`
	Rate      float64 `json:"rate_per_second"`
	Burst     int     `json:"burst"`
	Source    string  `json:"source"`
}

// QuotaSeries is the rounds at one stack operation time: every service's
// first deploy at once, then N = 1, 5, 20 updates at once.
type QuotaSeries struct {
	StackOperationSeconds float64      `json:"stack_operation_seconds"`
	CriticalPathSeconds   float64      `json:"critical_path_seconds"`
	Rounds                []QuotaRound `json:"rounds"`
}

// QuotaRound is N rollouts started at once.
type QuotaRound struct {
	Name                  string           `json:"name"`
	Update                bool             `json:"update"` // else every service's first deploy
	Rollouts              int              `json:"rollouts"`
	Version               string           `json:"version"`
	Succeeded             int              `json:"succeeded"`
	FailedByThrottling    int              `json:"failed_by_throttling"`
	WallSeconds           float64          `json:"wall_seconds"`
	SlowestSeconds        float64          `json:"slowest_rollout_seconds"`
	OverheadRatio         float64          `json:"overhead_ratio"`
	Requests              int              `json:"requests"`
	Throttled             int              `json:"throttled_requests"`
	ThrottledByOp         map[string]int   `json:"throttled_by_operation"`
	DescribeCalls         int              `json:"describe_calls"`
	StackOperations       int              `json:"stack_operations"`
	StackMinutes          float64          `json:"stack_minutes"`
	DescribePerStackMin   float64          `json:"describe_calls_per_stack_minute"`
	NoticeMedianSeconds   float64          `json:"notice_median_seconds"`
	NoticeP95Seconds      float64          `json:"notice_p95_seconds"`
	NoticeMaxSeconds      float64          `json:"notice_max_seconds"`
	NotNoticed            int              `json:"operations_never_noticed"`
	CallsByOp             map[string]int   `json:"calls_by_operation"`
	Outcomes              []RolloutOutcome `json:"rollouts_detail"`
	LoadAverageAfterRound float64          `json:"load_average_after"`
}

// RolloutOutcome is how one rollout of a round ended.
type RolloutOutcome struct {
	Service     string  `json:"service"`
	Exit        int     `json:"exit"`
	Result      string  `json:"result"`
	WallSeconds float64 `json:"wall_seconds"`
	Error       string  `json:"error,omitempty"`
}

// fleetSizes and fleetOps are the rounds' sizes and the stack operation
// times of the series (issue 15: N = 1, 5, 20; 10 s and 60 s).
func fleetSizes() []int                   { return []int{1, 5, 20} }
func fleetOps() []time.Duration           { return []time.Duration{10 * time.Second, 60 * time.Second} }
func fleetPrefix(op time.Duration) string { return fmt.Sprintf("q%d", int(op.Seconds())) }

func quotaMethod() map[string]string {
	return map[string]string{
		"rounds":                          "per stack operation time: every service's first deploy at once (from nothing: no history, the first wave waits blind), then N = 1, 5, 20 updates at once (version 1.N.0) of services deployed before",
		"throttled_requests":              "requests the proxy answered Throttling: Rate exceeded because their account's and region's bucket was empty (SDK retries included)",
		"describe_calls_per_stack_minute": "(DescribeStacks + DescribeStackEvents + DescribeChangeSet requests at the proxy, throttled ones included) / the stack operations' minutes (each operation's duration, summed)",
		"notice":                          "per stack operation: when a DescribeStacks answer first reported the stack settled, minus when its operation ended (the proxy's own clock)",
		"overhead_ratio":                  "the slowest rollout's wall time / a rollout's critical path (2 waves x 1 stack x the stack operation time)",
	}
}

// benchQuotaFleet runs the series at each stack operation time through
// one proxy enforcing CloudFormation's quotas. The fleet's account is its
// own, so it shares the emulator with whatever else runs (no reset).
func (b *bench) benchQuotaFleet(ctx context.Context) (*QuotaFleetResult, error) {
	p, err := b.newProxy()
	if err != nil {
		return nil, err
	}
	defer p.Close()
	res := &QuotaFleetResult{Descriptor: quotaService, Account: "210987654321", Regions: []string{"us-east-1", "us-west-2", "eu-west-1"}, Method: quotaMethod()}
	for _, q := range proxy.CloudFormationQuotas() {
		res.Quotas = append(res.Quotas, QuotaInfo{Operation: q.Operation, Rate: q.Rate, Burst: q.Burst, Source: q.Source})
	}
	bootstrapped := false
	for _, op := range b.cfg.fleetOps {
		files, err := b.fleetFiles(fleetPrefix(op), slices.Max(b.cfg.fleetSizes))
		if err != nil {
			return nil, err
		}
		if !bootstrapped {
			// The account's state table and platform, once, unthrottled.
			if _, err := b.runGantry(ctx, p.URL(), "bootstrap", files[0], "--demo-platform"); err != nil {
				return nil, err
			}
			p.SetQuotas(proxy.CloudFormationQuotas()...)
			bootstrapped = true
		}
		p.SetStackDuration(op)
		s := QuotaSeries{StackOperationSeconds: op.Seconds(), CriticalPathSeconds: (quotaWaves * op).Seconds()}
		// Every service's first deploy, then the updates.
		sizes := append([]int{len(files)}, b.cfg.fleetSizes...)
		for i, n := range sizes {
			name, version := fmt.Sprintf("first deploy, %d at once", n), "1.0.0"
			if i > 0 {
				name, version = fmt.Sprintf("update, %d at once", n), fmt.Sprintf("1.%d.0", n)
			}
			step("fleet: %s stack operations, %s", op, name)
			round, err := b.fleetRound(ctx, p, files[:n], version, op)
			if err != nil {
				return nil, err
			}
			round.Name, round.Update = name, i > 0
			s.Rounds = append(s.Rounds, round)
		}
		res.Series = append(res.Series, s)
	}
	return res, nil
}

// fleetFiles writes n copies of quotaService, services PREFIX-01 ...
func (b *bench) fleetFiles(prefix string, n int) ([]string, error) {
	src, err := os.ReadFile(quotaService)
	if err != nil {
		return nil, err
	}
	var files []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%s-%02d", prefix, i)
		file := filepath.Join(b.tmp, name+".sd.yaml")
		text := strings.Replace(string(src), "\nservice: quota\n", "\nservice: "+name+"\n", 1)
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			return nil, err
		}
		files = append(files, file)
	}
	return files, nil
}

// fleetRound starts one gantry deploy per file at once and measures the
// round at the proxy, its counts reset first.
func (b *bench) fleetRound(ctx context.Context, p *proxy.Proxy, files []string, version string, op time.Duration) (QuotaRound, error) {
	p.ResetCounts()
	outcomes := make([]RolloutOutcome, len(files))
	errs := make([]error, len(files))
	start := time.Now()
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Go(func() {
			r, err := b.execGantry(ctx, p.URL(), deployVersionArgs(f, version)...)
			outcomes[i], errs[i] = outcomeOf(f, r), err
		})
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return QuotaRound{}, err
	}
	round := QuotaRound{Rollouts: len(files), Version: version, WallSeconds: time.Since(start).Seconds(), Outcomes: outcomes}
	for _, o := range outcomes {
		round.SlowestSeconds = math.Max(round.SlowestSeconds, o.WallSeconds)
		switch {
		case o.Exit == 0 && o.Result == "succeeded":
			round.Succeeded++
		case throttlingIn(o.Error):
			round.FailedByThrottling++
		}
	}
	round.OverheadRatio = round.SlowestSeconds / (quotaWaves * op).Seconds()
	round.measure(p)
	round.LoadAverageAfterRound = loadAverage()
	return round, nil
}

// measure fills in what the proxy counted and saw.
func (r *QuotaRound) measure(p *proxy.Proxy) {
	r.CallsByOp = p.Counts()
	r.Requests = sum(r.CallsByOp)
	r.ThrottledByOp = map[string]int{}
	for k, n := range p.QuotaThrottled() {
		parts := strings.SplitN(k, "/", 3) // account/region/operation
		r.ThrottledByOp[parts[len(parts)-1]] += n
		r.Throttled += n
	}
	r.DescribeCalls = r.CallsByOp["cloudformation:DescribeStacks"] + r.CallsByOp["cloudformation:DescribeStackEvents"] + r.CallsByOp["cloudformation:DescribeChangeSet"]
	var notices []float64
	for _, op := range p.Operations() {
		r.StackOperations++
		r.StackMinutes += op.Ended.Sub(op.Started).Minutes()
		if op.Noticed.IsZero() {
			r.NotNoticed++
			continue
		}
		notices = append(notices, op.Noticed.Sub(op.Ended).Seconds())
	}
	if r.StackMinutes > 0 {
		r.DescribePerStackMin = float64(r.DescribeCalls) / r.StackMinutes
	}
	r.NoticeMedianSeconds = median(notices)
	r.NoticeP95Seconds = percentile(notices, 0.95)
	if len(notices) > 0 {
		r.NoticeMaxSeconds = slices.Max(notices)
	}
}

// outcomeOf reads a deploy's exit status and JSON result.
func outcomeOf(file string, r gantryRun) RolloutOutcome {
	o := RolloutOutcome{Service: strings.TrimSuffix(filepath.Base(file), ".sd.yaml"), Exit: r.code, WallSeconds: r.took.Seconds()}
	var out struct {
		Result  string `json:"result"`
		Regions []struct {
			Region string `json:"region"`
			Error  string `json:"error"`
		} `json:"regions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		o.Result, o.Error = "no result", tail(r.stderr, 5)
		return o
	}
	o.Result = out.Result
	for _, rr := range out.Regions {
		if rr.Error != "" {
			o.Error += rr.Region + ": " + rr.Error + "; "
		}
	}
	if o.Exit != 0 && o.Error == "" {
		o.Error = tail(r.stderr, 5)
	}
	return o
}

// throttlingIn reports whether an error names CloudFormation's throttling.
func throttlingIn(msg string) bool {
	return strings.Contains(msg, "Throttling") || strings.Contains(msg, "Rate exceeded")
}

// percentile is the nearest-rank percentile of xs (0 when empty).
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// updates returns the update rounds of n rollouts at once, one per series,
// with their series' stack operation time.
func (q *QuotaFleetResult) updates(n int) (rounds []QuotaRound, ops []float64) {
	for _, s := range q.Series {
		for _, r := range s.Rounds {
			if r.Update && r.Rollouts == n {
				rounds, ops = append(rounds, r), append(ops, s.StackOperationSeconds)
			}
		}
	}
	return rounds, ops
}

// fleetMetrics fills in issue 15's summary keys: the worst of the series
// for the 20-at-once update rounds, and the describe calls per stack
// minute of the single rollouts, over every series together.
func (q *QuotaFleetResult) fleetMetrics(set func(key string, v float64, what string, args ...any)) {
	if rounds, ops := q.updates(20); len(rounds) > 0 {
		worst := rounds[0]
		var per []string
		for i, r := range rounds {
			if r.Succeeded < worst.Succeeded {
				worst.Succeeded = r.Succeeded
			}
			worst.NoticeP95Seconds = math.Max(worst.NoticeP95Seconds, r.NoticeP95Seconds)
			worst.OverheadRatio = math.Max(worst.OverheadRatio, r.OverheadRatio)
			per = append(per, fmt.Sprintf("%.0f s ops: %d/20, notice p95 %.2f s (median %.2f), slowest %.1f s / %.0f s, %d requests throttled",
				ops[i], r.Succeeded, r.NoticeP95Seconds, r.NoticeMedianSeconds, r.SlowestSeconds, quotaWaves*ops[i], r.Throttled))
		}
		what := "20 updates at once, worst of: " + strings.Join(per, "; ")
		set("fleet_20_succeeded", float64(worst.Succeeded), "%s", what)
		set("fleet_20_notice_p95_seconds", worst.NoticeP95Seconds, "%s", "the same rounds: time from a stack operation's end to the first DescribeStacks answer saying so, 95th percentile")
		set("fleet_20_overhead_ratio", worst.OverheadRatio, "%s", "the same rounds: the slowest rollout's wall time / its critical path (2 waves x 1 stack)")
	}
	if rounds, ops := q.updates(1); len(rounds) > 0 {
		calls, minutes := 0, 0.0
		var per []string
		for i, r := range rounds {
			calls, minutes = calls+r.DescribeCalls, minutes+r.StackMinutes
			per = append(per, fmt.Sprintf("%d calls over %d operations of %.0f s (%.1f a stack-minute)", r.DescribeCalls, r.StackOperations, ops[i], r.DescribePerStackMin))
		}
		set("describe_calls_per_stack_minute", float64(calls)/minutes,
			"one update alone (3 regions), every series: DescribeStacks + DescribeStackEvents + DescribeChangeSet / stack-minutes: %s", strings.Join(per, "; "))
	}
}
