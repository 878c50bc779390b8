package hardening_test

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/e2e/proxy"
	"github.com/gantryhq/gantry/pkg/state"
)

// latch is a worker service (no stores: one app stack per region) with one
// stage of two regions in one wave, gated by latch-gate.
const latch = `schemaVersion: 1
service: latch
team: e2e
description: gantry e2e service for the lock test
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/latch
compute:
  cpu: 256
  memory: 512
scaling:
  min: 1
  max: 2
  cpuTarget: 60
stages:
  - name: staging
    account: "444455556666"
    regions: [us-east-1, eu-west-1]
rollout:
  gate: latch-gate
  halt: latch-halt
`

// latchFlags is a flagd flag file whose gate is closed for the listed
// regions and open elsewhere; the halt flag is off.
func latchFlags(closed ...string) string {
	list := `"` + strings.Join(closed, `", "`) + `"`
	if len(closed) == 0 {
		list = ""
	}
	return fmt.Sprintf(`{
  "flags": {
    "latch-gate": {"state": "ENABLED", "variants": {"open": true, "closed": false}, "defaultVariant": "open",
      "targeting": {"if": [{"in": [{"var": "region"}, [%s]]}, "closed", "open"]}},
    "latch-halt": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}
  }
}
`, list)
}

// writeAtomically saves a file as an editor does: a temporary file renamed
// over it.
func writeAtomically(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// untilRE finds the lease's expiry in a LockedError's message.
var untilRE = regexp.MustCompile(`until (\S+) \(in `)

// TestNineRolloutsRefusedWhileLocked: one rollout of a stage holds its
// lock, waiting (--gate-wait) on a gate closed for one of its regions.
// Nine more rollouts of that stage, started at once, all fail quickly
// (exit 1), each naming the holder -- user@host and pid, its rollout and
// version, and when its lease runs out -- and none of them touches a
// stack: through a proxy of their own they make no mutating CloudFormation
// call, and no write but their refused lock writes. Then the gate opens
// and the holder finishes.
func TestNineRolloutsRefusedWhileLocked(t *testing.T) {
	e := newEnv(t)
	file := filepath.Join(e.tmp, "latch.sd.yaml")
	if err := os.WriteFile(file, []byte(latch), 0o644); err != nil {
		t.Fatal(err)
	}
	flags := filepath.Join(e.tmp, "flags.json")
	writeAtomically(t, flags, latchFlags("eu-west-1"))
	e.extraEnv = []string{"GANTRY_FLAGS=file:" + flags}
	e.bootstrap(file)

	holder := e.runner(e.proxy.URL()).Start(t, "deploy", file, "--version", "1.0.0", "--bake", "0s", "--output", "json", "--gate-wait", "3m")
	line := holder.WaitStderr(2*time.Minute, "deploying latch version 1.0.0", "(rollout ")
	rolloutID := line[strings.LastIndex(line, "(rollout ")+len("(rollout ") : strings.LastIndex(line, ")")]
	holder.WaitStderr(2*time.Minute, "eu-west-1 (wave 1): WARNING: gate closed", "latch-gate")
	holder.WaitStderr(2*time.Minute, "us-east-1 (wave 1): latch-staging-app CREATE_COMPLETE")
	who, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s@%s pid %d", who.Username, host, holder.Pid())

	// The nine go through a proxy of their own, so that their calls are
	// counted apart from the holder's.
	theirs := startProxy(t)
	r := e.runner(theirs.URL())
	started := time.Now()
	var procs []*e2etest.Proc
	for i := 1; i <= 9; i++ {
		procs = append(procs, r.Start(t, "deploy", file, "--version", fmt.Sprintf("1.0.%d", i), "--bake", "0s", "--output", "json"))
	}
	var slowest time.Duration
	for i, p := range procs {
		res := p.Wait()
		slowest = max(slowest, res.Took)
		if res.Code != 1 {
			t.Errorf("rollout %d: want exit 1 (refused)\n%s", i+1, res)
			continue
		}
		out := e2etest.ParseResult(t, res)
		if out.Result != "failed" {
			t.Errorf("rollout %d: result %q, want failed", i+1, out.Result)
		}
		for _, rr := range out.Regions {
			if rr.Status != "failed" || len(rr.Stacks) != 0 {
				t.Errorf("rollout %d: %s is %s with stacks %+v, want failed with none", i+1, rr.Key(), rr.Status, rr.Stacks)
			}
			wantNamesHolder(t, fmt.Sprintf("rollout %d: %s's error", i+1, rr.Key()), rr.Error, owner, rolloutID, started)
		}
		if i == 0 && len(out.Regions) > 0 {
			t.Logf("refusal: %s", out.Regions[0].Error)
		}
		if !strings.Contains(res.Stderr, "locked by "+owner) {
			t.Errorf("rollout %d: stderr does not name the holder %q\n%s", i+1, owner, e2etest.Tail(res.Stderr, 10))
		}
	}
	t.Logf("nine concurrent rollouts refused, the slowest after %s, all within %s of the first start; their calls: %s",
		slowest.Round(time.Millisecond), time.Since(started).Round(time.Millisecond), e2etest.FormatOps(theirs.Counts()))
	if slowest > 30*time.Second {
		t.Errorf("the slowest refusal took %s; a lock refusal should come at once", slowest.Round(time.Millisecond))
	}
	// Before its lock a stage looks, read-only, whether it is already done
	// (DescribeStacks); nothing else of CloudFormation, and no write but the
	// refused conditional lock write, one each.
	counts := theirs.Counts()
	for op, n := range counts {
		if strings.HasPrefix(op, "cloudformation:") && op != "cloudformation:DescribeStacks" {
			t.Errorf("the refused rollouts called %s x%d", op, n)
		}
	}
	for op, n := range proxy.Mutating(counts) {
		if op != "dynamodb:PutItem" || n > 9 {
			t.Errorf("the refused rollouts made mutating call %s x%d; want only their 9 refused lock writes", op, n)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// The gate opens: the holder, still waiting, finishes.
	opened := time.Now()
	writeAtomically(t, flags, latchFlags())
	res := holder.Wait()
	if res.Code != 0 {
		t.Fatalf("the holder: want exit 0\n%s", res)
	}
	t.Logf("the holder finished %s after the gate opened (exit 0)", time.Since(opened).Round(time.Millisecond))
	out := e2etest.ParseResult(t, res)
	for _, rr := range out.Regions {
		if rr.Status != "deployed" {
			t.Errorf("the holder: %s is %s, want deployed (%s)", rr.Key(), rr.Status, rr.Error)
		}
	}
	snap := takeSnapshot(t, e2etest.LoadPlan(t, file), "latch")
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		if s := snap["staging/"+region+" latch-staging-app"]; !strings.Contains(s, "gantry:version:1.0.0") || !strings.Contains(s, "_COMPLETE") {
			t.Errorf("%s: the app stack is %q, want complete on the holder's 1.0.0", region, s)
		}
		if d := snap["staging/"+region+" deployments"]; d != "1.0.0" {
			t.Errorf("%s: deployments recorded %q, want only the holder's 1.0.0", region, d)
		}
	}
	if ro := snap["staging rollout"]; !strings.HasPrefix(ro, "version=1.0.0 status="+state.RolloutSucceeded) {
		t.Errorf("the stage's latest rollout is %q, want the holder's, succeeded", ro)
	}
}

// wantNamesHolder checks that a refusal names the lock's holder: who and
// where (user@host pid N), its rollout and version, and until when its
// lease holds (after the refused rollouts started, within the lease's TTL).
func wantNamesHolder(t *testing.T, what, msg, owner, rolloutID string, started time.Time) {
	t.Helper()
	if !e2etest.ContainsAll(msg, "staging is locked by "+owner, "(rollout "+rolloutID+", version 1.0.0)", "gantry unlock") {
		t.Errorf("%s %q does not name the holder %q, rollout %s, version 1.0.0, and gantry unlock", what, msg, owner, rolloutID)
	}
	m := untilRE.FindStringSubmatch(msg)
	if m == nil {
		t.Errorf("%s %q does not say until when the lock is held", what, msg)
		return
	}
	until, err := time.Parse(time.RFC3339, m[1])
	if err != nil || until.Before(started.Add(-time.Second)) || until.After(started.Add(state.DefaultLeaseTTL+time.Minute)) {
		t.Errorf("%s: the lease runs until %q (%v); want a time after the refused rollouts started, within the %s lease", what, m[1], err, state.DefaultLeaseTTL)
	}
}
