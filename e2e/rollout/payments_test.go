package rollout_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/e2e/proxy"
	"github.com/gantryhq/gantry/pkg/plan"
)

func appStack(service, stage string) string  { return service + "-" + stage + "-app" }
func dataStack(service, stage string) string { return service + "-" + stage + "-data" }

// fullRollout is deploy's flags for every stage of payments without bakes.
var fullRollout = []string{"--approve", "prod", "--bake", "0s"}

// TestPayments rolls examples/payments out dev → staging → prod (six
// regions in prod's three waves, three accounts), reruns the same version
// (every region unchanged, nothing mutated), then deploys a new version
// (every app stack updated, every data stack untouched). The subtests
// build on each other.
func TestPayments(t *testing.T) {
	e := newEnv(t)
	e.bootstrap(payments)
	c := newCloud(t)
	p := loadPlan(t, payments)
	if regions, accounts := planSpread(p); len(regions) < 4 || len(accounts) < 2 {
		t.Fatalf("payments spans %d regions and %d accounts; this test needs at least 4 and 2", len(regions), len(accounts))
	}

	var fresh map[string]map[string]map[string]int
	ok := t.Run("deploy", func(t *testing.T) {
		e.t = t
		e.rec.reset()
		e.proxy.ResetCounts()
		res, r := e.deploy(0, payments, "1.0.0", fullRollout...)
		fresh = e.rec.all()
		if res.Result != "succeeded" || res.Service != "payments" || res.Version != "1.0.0" {
			t.Errorf("result %q service %q version %q, want succeeded payments 1.0.0", res.Result, res.Service, res.Version)
		}
		wantPlanRegions(t, res, p)
		wantStatuses(t, res, map[string]string{"*": "deployed"})
		for _, rr := range res.Regions {
			for _, kind := range []string{"data", "app"} {
				if s, ok := rr.Stack(kind); !ok || s.Action != "create" || s.Changes == 0 {
					t.Errorf("%s: %s stack %+v, want a create with changes", rr.Key(), kind, s)
				}
			}
		}
		if !strings.Contains(r.Stderr, "--bake 0s") {
			t.Errorf("stderr does not say loudly that --bake 0s replaced the bake times\n%s", e2etest.Tail(r.Stderr, 40))
		}
		for _, s := range p.Steps() {
			app := c.mustStack(s.Account, s.Region, appStack("payments", s.Stage))
			data := c.mustStack(s.Account, s.Region, dataStack("payments", s.Stage))
			where := fmt.Sprintf("%s (account %s, %s)", s.Stage, s.Account, s.Region)
			if app.Status != "CREATE_COMPLETE" || data.Status != "CREATE_COMPLETE" {
				t.Errorf("%s: app %s, data %s, want CREATE_COMPLETE", where, app.Status, data.Status)
			}
			want := map[string]string{"gantry:service": "payments", "gantry:stage": s.Stage, "gantry:team": "payments-platform", "gantry:version": "1.0.0"}
			for k, v := range want {
				if app.Tags[k] != v {
					t.Errorf("%s: app stack tag %s = %q, want %q", where, k, app.Tags[k], v)
				}
				if k != "gantry:version" && data.Tags[k] != v {
					t.Errorf("%s: data stack tag %s = %q, want %q", where, k, data.Tags[k], v)
				}
			}
			if app.Parameters["Version"] != "1.0.0" {
				t.Errorf("%s: the app stack's Version parameter (the image tag) is %q, want 1.0.0", where, app.Parameters["Version"])
			}
			if !data.Protected {
				t.Errorf("%s: the data stack has no termination protection", where)
			}
		}
		// Each stage's stacks are in its own account, and only there.
		for _, st := range p.Stages {
			for _, other := range []string{devAccount, stagingAccount, prodAccount} {
				if other == st.Account {
					continue
				}
				if s := c.stack(other, st.StateRegion, appStack("payments", st.Name)); s != nil {
					t.Errorf("stack %s exists in account %s too; it belongs to %s only", s.Name, other, st.Account)
				}
			}
		}
	})
	if !ok {
		t.FailNow()
	}

	ok = t.Run("rerun unchanged", func(t *testing.T) {
		e.t = t
		before := stacksOf(c, p, "payments")
		e.rec.reset()
		e.proxy.ResetCounts()
		res, _ := e.deploy(0, payments, "1.0.0", fullRollout...)
		rerun := e.rec.all()
		if res.Result != "succeeded" {
			t.Errorf("result %q, want succeeded", res.Result)
		}
		wantPlanRegions(t, res, p)
		wantStatuses(t, res, map[string]string{"*": "unchanged"})
		counts := e.proxy.Counts()
		for _, op := range []string{"cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:UpdateStack"} {
			if counts[op] != 0 {
				t.Errorf("an unchanged rerun called %s %d times", op, counts[op])
			}
		}
		// Nothing at all is mutated: a stage whose every region is
		// unchanged takes no lock and writes no journal.
		if mutating := proxy.Mutating(counts); len(mutating) > 0 {
			t.Errorf("an unchanged rerun made mutating calls: %s", formatOps(mutating))
		}
		// An unchanged region costs one describe call (issue 3, item 3)
		// and one look that rollout.alarms exist (issue 16, item 2); the
		// stage's state table, in its first region, adds the records.
		for _, s := range p.Steps() {
			st, _ := p.Stage(s.Stage)
			for op, n := range rerun[s.Account][s.Region] {
				switch {
				case op == "cloudformation:DescribeStacks" && n == 1:
				case op == "monitoring:DescribeAlarms" && n == 1:
				case strings.HasPrefix(op, "dynamodb:") && s.Region == st.StateRegion:
				default:
					t.Errorf("%s/%s: the unchanged rerun called %s x%d; want one DescribeStacks and one DescribeAlarms (and the state table in %s)",
						s.Stage, s.Region, op, n, st.StateRegion)
				}
			}
			if rerun[s.Account][s.Region]["cloudformation:DescribeStacks"] != 1 {
				t.Errorf("%s/%s: the unchanged rerun described the app stack %d times, want 1",
					s.Stage, s.Region, rerun[s.Account][s.Region]["cloudformation:DescribeStacks"])
			}
		}
		after := stacksOf(c, p, "payments")
		for k, b := range before {
			if a := after[k]; a.Status != b.Status || !maps.Equal(a.Tags, b.Tags) || a.Template != b.Template {
				t.Errorf("%s changed on an unchanged rerun: %s %v -> %s %v", k, b.Status, b.Tags, a.Status, a.Tags)
			}
		}
		logCallsPerRegion(t, p, fresh, rerun)
	})
	if !ok {
		t.FailNow()
	}

	t.Run("new version", func(t *testing.T) {
		e.t = t
		before := stacksOf(c, p, "payments")
		res, _ := e.deploy(0, payments, "1.1.0", fullRollout...)
		if res.Result != "succeeded" || res.Version != "1.1.0" {
			t.Errorf("result %q version %q, want succeeded 1.1.0", res.Result, res.Version)
		}
		wantPlanRegions(t, res, p)
		wantStatuses(t, res, map[string]string{"*": "deployed"})
		for _, rr := range res.Regions {
			if s, _ := rr.Stack("app"); s.Action != "update" {
				t.Errorf("%s: app stack action %q, want update", rr.Key(), s.Action)
			}
			if s, _ := rr.Stack("data"); s.Action != "unchanged" {
				t.Errorf("%s: data stack action %q, want unchanged", rr.Key(), s.Action)
			}
		}
		after := stacksOf(c, p, "payments")
		for _, s := range p.Steps() {
			where := s.Stage + "/" + s.Region
			a, b := after[where+" app"], before[where+" app"]
			if a.Tags["gantry:version"] != "1.1.0" || a.Status != "UPDATE_COMPLETE" {
				t.Errorf("%s: app stack %s version %q, want UPDATE_COMPLETE 1.1.0", where, a.Status, a.Tags["gantry:version"])
			}
			if a.Tags["gantry:hash"] == b.Tags["gantry:hash"] {
				t.Errorf("%s: the app stack's gantry:hash did not change with the version", where)
			}
			if a.Parameters["Version"] != "1.1.0" {
				t.Errorf("%s: the app stack's Version parameter (the image tag) is %q, want 1.1.0", where, a.Parameters["Version"])
			}
			da, db := after[where+" data"], before[where+" data"]
			if da.Status != db.Status || !maps.Equal(da.Tags, db.Tags) || da.Template != db.Template {
				t.Errorf("%s: the data stack was touched by a new version: %s %v -> %s %v", where, db.Status, db.Tags, da.Status, da.Tags)
			}
		}
	})
}

// TestFailureHaltsLaterWaves injects a stack failure into prod's wave 2
// (eu-west-1) while a new version rolls out: that region fails and rolls
// back, the other region of its wave finishes, wave 3 never starts, and
// the result lists every region. A rerun once the fault is gone finishes
// the rollout without redoing what was done.
func TestFailureHaltsLaterWaves(t *testing.T) {
	e := newEnv(t)
	e.bootstrap(payments)
	c := newCloud(t)
	p := loadPlan(t, payments)
	e.deploy(0, payments, "1.0.0", fullRollout...)

	e.proxy.SetFailures(proxy.Failure{Region: "eu-west-1", Stack: "payments-prod-app", Resource: "TaskDefinition",
		Reason: `Resource handler returned message: "e2e: injected failure in prod eu-west-1"`})
	res, r := e.deploy(1, payments, "2.0.0", fullRollout...)
	if res.Result != "failed" {
		t.Errorf("result %q, want failed", res.Result)
	}
	wantPlanRegions(t, res, p)
	wantStatuses(t, res, map[string]string{
		"dev/us-east-1":       "deployed",
		"staging/us-east-1":   "deployed",
		"staging/eu-west-1":   "deployed",
		"prod/us-west-2":      "deployed",
		"prod/us-east-1":      "deployed", // the failed region's wave-mate finishes
		"prod/eu-west-1":      "failed",
		"prod/eu-central-1":   "pending",
		"prod/ap-southeast-2": "pending",
		"prod/ap-northeast-1": "pending",
	})
	failed := res.Region(t, "prod", "eu-west-1")
	if !strings.Contains(failed.Error, "payments-prod-app") || !strings.Contains(failed.Error, "e2e: injected failure") {
		t.Errorf("prod/eu-west-1 error %q does not name the stack and the resource's reason", failed.Error)
	}
	if got := e.proxy.InjectedFailures()["eu-west-1/payments-prod-app"]; got != 1 {
		t.Errorf("injected failures %v, want one in eu-west-1/payments-prod-app", e.proxy.InjectedFailures())
	}
	if !strings.Contains(r.Stderr, "prod/eu-west-1") {
		t.Errorf("stderr does not mention the failed region\n%s", e2etest.Tail(r.Stderr, 40))
	}
	// Versions as the emulator has them; statuses as gantry saw them
	// (through the proxy, which plays the injected failure's rollback).
	seen := newCloudAt(t, e.url)
	versions := map[string]string{}
	for _, s := range p.Steps() {
		app := c.mustStack(s.Account, s.Region, appStack("payments", s.Stage))
		versions[s.Stage+"/"+s.Region] = app.Tags["gantry:version"] + " " + seen.mustStack(s.Account, s.Region, appStack("payments", s.Stage)).Status
	}
	want := map[string]string{
		"dev/us-east-1":       "2.0.0 UPDATE_COMPLETE",
		"staging/us-east-1":   "2.0.0 UPDATE_COMPLETE",
		"staging/eu-west-1":   "2.0.0 UPDATE_COMPLETE",
		"prod/us-west-2":      "2.0.0 UPDATE_COMPLETE",
		"prod/us-east-1":      "2.0.0 UPDATE_COMPLETE",
		"prod/eu-west-1":      "1.0.0 UPDATE_ROLLBACK_COMPLETE",
		"prod/eu-central-1":   "1.0.0 CREATE_COMPLETE",
		"prod/ap-southeast-2": "1.0.0 CREATE_COMPLETE",
		"prod/ap-northeast-1": "1.0.0 CREATE_COMPLETE",
	}
	if !maps.Equal(versions, want) {
		t.Errorf("app stacks (version status) after the failed rollout\n got %v\nwant %v", versions, want)
	}

	// The fault is fixed: the rerun resumes.
	e.proxy.SetFailures()
	e.proxy.ResetCounts()
	res, _ = e.deploy(0, payments, "2.0.0", fullRollout...)
	wantStatuses(t, res, map[string]string{
		"prod/eu-west-1":      "deployed",
		"prod/eu-central-1":   "deployed",
		"prod/ap-southeast-2": "deployed",
		"prod/ap-northeast-1": "deployed",
		"*":                   "unchanged",
	})
	if n := e.proxy.CountsByRegion()["us-west-2"]["cloudformation:CreateChangeSet"]; n != 0 {
		t.Errorf("the rerun made %d change sets in us-west-2, which was done", n)
	}
}

// planSpread lists the distinct regions and accounts of a plan.
func planSpread(p *plan.Plan) (regions, accounts []string) {
	for _, s := range p.Steps() {
		if !slices.Contains(regions, s.Region) {
			regions = append(regions, s.Region)
		}
		if !slices.Contains(accounts, s.Account) {
			accounts = append(accounts, s.Account)
		}
	}
	return regions, accounts
}

// stacksOf describes the app and data stacks of every region of a plan,
// keyed "stage/region app" and "stage/region data".
func stacksOf(c *cloud, p *plan.Plan, service string) map[string]*stackInfo {
	out := map[string]*stackInfo{}
	for _, s := range p.Steps() {
		out[s.Stage+"/"+s.Region+" app"] = c.mustStack(s.Account, s.Region, appStack(service, s.Stage))
		out[s.Stage+"/"+s.Region+" data"] = c.mustStack(s.Account, s.Region, dataStack(service, s.Stage))
	}
	return out
}

// logCallsPerRegion logs the API calls of each (stage, region) for a fresh
// deploy and an unchanged rerun. A stage's calls are those made in its
// account and region; the state table lives in the stage's first region,
// so the lock and journal count there.
func logCallsPerRegion(t *testing.T, p *plan.Plan, fresh, rerun map[string]map[string]map[string]int) {
	t.Helper()
	t.Logf("API calls per region (account, region), fresh deploy vs unchanged rerun:")
	t.Logf("  %-22s %6s %6s   %s", "stage/region", "fresh", "rerun", "rerun calls")
	var sumFresh, sumRerun int
	for _, s := range p.Steps() {
		f, r := fresh[s.Account][s.Region], rerun[s.Account][s.Region]
		sumFresh += total(f)
		sumRerun += total(r)
		t.Logf("  %-22s %6d %6d   %s", s.Stage+"/"+s.Region, total(f), total(r), formatOps(r))
	}
	other := func(all map[string]map[string]map[string]int) map[string]int {
		out := map[string]int{}
		for account, byRegion := range all {
			for region, ops := range byRegion {
				if slices.ContainsFunc(p.Steps(), func(s plan.Step) bool { return s.Account == account && s.Region == region }) {
					continue
				}
				for op, n := range ops {
					out[account+"/"+region+" "+op] += n
				}
			}
		}
		return out
	}
	of, or := other(fresh), other(rerun)
	t.Logf("  %-22s %6d %6d   %s", "elsewhere (STS...)", total(of), total(or), formatOps(or))
	n := len(p.Steps())
	t.Logf("  %-22s %6d %6d   (%d regions: %.1f vs %.1f calls per region)", "total", sumFresh+total(of), sumRerun+total(or),
		n, float64(sumFresh+total(of))/float64(n), float64(sumRerun+total(or))/float64(n))
	t.Logf("fresh deploy, by operation (all regions): %s", formatOps(flatten(fresh)))
}

// flatten sums counts over accounts and regions.
func flatten(all map[string]map[string]map[string]int) map[string]int {
	out := map[string]int{}
	for _, byRegion := range all {
		for _, ops := range byRegion {
			for op, n := range ops {
				out[op] += n
			}
		}
	}
	return out
}
