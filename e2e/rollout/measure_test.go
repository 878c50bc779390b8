package rollout_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/plan"
)

// opTime is the stack operation time the proxy adds in the measurement.
const opTime = 5 * time.Second

// TestMeasurePaymentsCriticalPath measures (and asserts nothing about the
// time of) the payments rollout through all three stages with --bake 0s
// while every stack operation takes 5 s through the proxy, against the
// critical path: per wave, ceil(regions / maxParallel) rounds of two
// sequential stacks (data, then app) of 5 s each, summed over the waves of
// every stage. Run it alone with
//
//	go test ./e2e/rollout -run TestMeasure -v
//
// -short skips it.
func TestMeasurePaymentsCriticalPath(t *testing.T) {
	if testing.Short() {
		t.Skip("a 1-2 minute measurement; run without -short")
	}
	e := newEnv(t)
	e.bootstrap(payments)
	p := loadPlan(t, payments)
	critical, lines := criticalPath(p, opTime)

	e.proxy.SetStackDuration(opTime)
	e.rec.reset()
	res, r := e.deploy(0, payments, "1.0.0", fullRollout...)
	wantStatuses(t, res, map[string]string{"*": "deployed"})
	slow := e.rec.all()

	t.Logf("critical path with %s stack operations:", opTime)
	for _, l := range lines {
		t.Logf("  %s", l)
	}
	t.Logf("payments rollout, dev → staging → prod, %d regions, --bake 0s, %s per stack operation:", len(p.Steps()), opTime)
	t.Logf("  wall time     %s", r.Took.Round(10*time.Millisecond))
	t.Logf("  critical path %s", critical)
	t.Logf("  ratio         %.2f (overhead %s, %.1f s per wave)", r.Took.Seconds()/critical.Seconds(),
		(r.Took - critical).Round(10*time.Millisecond), (r.Took-critical).Seconds()/float64(waves(p)))
	var per []string
	for _, s := range p.Steps() {
		per = append(per, fmt.Sprintf("%s/%s=%d", s.Stage, s.Region, total(slow[s.Account][s.Region])))
	}
	t.Logf("  API calls per region with %s operations: %s", opTime, strings.Join(per, " "))
	t.Logf("  by operation: %s", formatOps(flatten(slow)))
}

// criticalPath is the least time the rollout can take when every stack
// operation takes op and nothing else takes time: stages and waves run one
// after another, a wave's regions in rounds of maxParallel, each region
// deploying its two stacks one after the other.
func criticalPath(p *plan.Plan, op time.Duration) (time.Duration, []string) {
	var sum time.Duration
	var lines []string
	for _, st := range p.Stages {
		for _, w := range st.Waves {
			rounds := (len(w.Steps) + w.Parallel() - 1) / w.Parallel()
			d := time.Duration(rounds) * 2 * op
			sum += d
			lines = append(lines, fmt.Sprintf("%-8s wave %d: %d region(s), %d at a time: %d round(s) x 2 stacks x %s = %s",
				st.Name, w.Index, len(w.Steps), w.Parallel(), rounds, op, d))
		}
	}
	lines = append(lines, fmt.Sprintf("total %s", sum))
	return sum, lines
}

func waves(p *plan.Plan) int {
	n := 0
	for _, st := range p.Stages {
		n += len(st.Waves)
	}
	return n
}
