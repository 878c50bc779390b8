package gates_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
)

// The flag names every descriptor here uses, and the one stage's account.
const (
	gateFlag = "svc-gate"
	haltFlag = "svc-halt"
	account  = "444455556666"
	stage    = "staging"
)

// descriptor is a small worker service (no stores, so one app stack per
// region) with one stage, whose waves block is given, gated by svc-gate and
// halted by svc-halt.
func descriptor(service, waves string) string {
	return fmt.Sprintf(`schemaVersion: 1
service: %[1]s
team: e2e
description: gantry e2e gated service %[1]s
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/%[1]s
compute:
  cpu: 256
  memory: 512
scaling:
  min: 1
  max: 2
  cpuTarget: 60
stages:
  - name: %[2]s
    account: "%[3]s"
%[4]s
rollout:
  gate: %[5]s
  halt: %[6]s
`, service, stage, account, waves, gateFlag, haltFlag)
}

func (e *env) writeDescriptor(service, waves string) string {
	e.t.Helper()
	file := filepath.Join(e.tmp, service+".sd.yaml")
	if err := os.WriteFile(file, []byte(descriptor(service, waves)), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return file
}

// Flag definitions in flagd's format (https://flagd.dev/reference/flag-definitions/).
const (
	gateOpen = `{"state": "ENABLED", "variants": {"open": true, "closed": false}, "defaultVariant": "open"}`
	haltOff  = `{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}`
	// haltFromWave2 is on for every region of wave 2 and later.
	haltFromWave2 = `{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
    "targeting": {"if": [{">=": [{"var": "wave"}, 2]}, "on", "off"]}}`
)

// gateClosedFor is a gate closed for the given regions (targeting on the
// region attribute) and open elsewhere.
func gateClosedFor(regions ...string) string {
	list, _ := json.Marshal(regions)
	return fmt.Sprintf(`{"state": "ENABLED", "variants": {"open": true, "closed": false}, "defaultVariant": "open",
    "targeting": {"if": [{"in": [{"var": "region"}, %s]}, "closed", "open"]}}`, list)
}

// writeFlags writes a flagd flag file with the given flags (key ->
// definition) to path, atomically (a temporary file renamed over it), as
// an editor or a config-management tool saves it.
func writeFlags(t *testing.T, path string, flags map[string]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("{\n  \"$schema\": \"https://flagd.dev/schema/v0/flags.json\",\n  \"flags\": {")
	first := true
	for _, k := range []string{gateFlag, haltFlag} {
		def, ok := flags[k]
		if !ok {
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		fmt.Fprintf(&b, "\n    %q: %s", k, def)
	}
	b.WriteString("\n  }\n}\n")
	if !json.Valid([]byte(b.String())) {
		t.Fatalf("the test wrote an invalid flag file:\n%s", b.String())
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// wantNoStacks checks that the service has no stack in a region, and that
// gantry made no mutating CloudFormation call there.
func wantNoStacks(t *testing.T, e *env, c *cloud, service string, regions ...string) {
	t.Helper()
	for _, r := range regions {
		if got := c.stacks(account, r, service); len(got) > 0 {
			t.Errorf("%s: stacks of %s exist: %v, want none", r, service, got)
		}
		if m := e.cfnMutations(r); len(m) > 0 {
			t.Errorf("%s: gantry made mutating CloudFormation calls: %v, want none", r, m)
		}
	}
}

// wantStack checks that the service's app stack exists in a region and
// runs version.
func wantStack(t *testing.T, c *cloud, service, region, version string) {
	t.Helper()
	name := service + "-" + stage + "-app"
	got := c.stacks(account, region, service)
	if st, ok := got[name]; !ok || !strings.HasSuffix(st, " "+version) || !strings.Contains(st, "_COMPLETE") {
		t.Errorf("%s: stack %s is %q (stacks: %v), want complete and tagged %s", region, name, st, got, version)
	}
}

// TestClosedGateHoldsOneRegion: a gate closed for eu-west-1 (targeting on
// region) holds exactly that region while the rest of its wave deploys
// (exit 3); gantry status then shows the held rollout; gantry gates agrees
// with what the deploy did; opening the gate in the file and running the
// same command again deploys only eu-west-1 and touches nothing else.
func TestClosedGateHoldsOneRegion(t *testing.T) {
	e := newEnv(t)
	const service = "tollgate"
	file := e.writeDescriptor(service, `    regions: [us-east-1, eu-west-1, us-west-2]`)
	flags := filepath.Join(e.tmp, "flags.json")
	writeFlags(t, flags, map[string]string{gateFlag: gateClosedFor("eu-west-1"), haltFlag: haltOff})
	e.bootstrap(file)
	c := newCloud(t)
	spec := "file:" + flags

	// 1. The closed gate holds eu-west-1 only.
	res, r := e.deploy(3, file, "1.0.0", "--flags", spec)
	if res.Result != "held" {
		t.Errorf("result %q, want held", res.Result)
	}
	wantStatuses(t, res, map[string]string{"us-east-1": "deployed", "eu-west-1": "held", "us-west-2": "deployed"})
	held := regionOf(t, res, "eu-west-1")
	if !strings.Contains(held.Error, gateFlag) || !strings.Contains(held.Error, "gate closed") {
		t.Errorf("eu-west-1's reason %q does not say the gate %s is closed", held.Error, gateFlag)
	}
	if len(held.Stacks) != 0 {
		t.Errorf("eu-west-1 is held but lists stacks: %+v", held.Stacks)
	}
	if !strings.Contains(r.Stderr, "eu-west-1 (wave 1): held: gate closed") {
		t.Errorf("stderr does not report eu-west-1 held by its gate\n%s", e2etest.Tail(r.Stderr, 20))
	}
	wantNoStacks(t, e, c, service, "eu-west-1")
	wantStack(t, c, service, "us-east-1", "1.0.0")
	wantStack(t, c, service, "us-west-2", "1.0.0")
	if t.Failed() {
		t.FailNow()
	}
	// Every gate decision is in the rollout journal (the stage's state
	// table, in its first region), the closed one naming the flag, value,
	// variant and reason.
	gates := map[string]string{}
	for _, en := range c.journal(account, "us-east-1", service, stage) {
		if en.Step != "gate" {
			continue
		}
		gates[en.Region] = en.Status
		if en.Region == "eu-west-1" {
			t.Logf("journal: gate %s %s: %s %v", en.Region, en.Status, en.Message, en.Attrs)
			if !e2etest.ContainsAll(en.Message, gateFlag, "false", `"closed"`, "TARGETING_MATCH") {
				t.Errorf("journal: eu-west-1's gate entry %q does not name the flag, value, variant and reason", en.Message)
			}
		}
	}
	if want := map[string]string{"us-east-1": "open", "eu-west-1": "closed", "us-west-2": "open"}; !maps.Equal(gates, want) {
		t.Errorf("journal: gate entries %v, want %v", gates, want)
	}

	// 7. gantry gates, a dry run with the same flag file, agrees.
	t.Run("gates agrees", func(t *testing.T) {
		wantGates(t, e, file, "1.0.0", spec, 3, map[string]string{
			"us-east-1": "open/running", "eu-west-1": "closed/running", "us-west-2": "open/running",
		})
	})

	// 6. gantry status shows the held rollout: which regions, and why.
	t.Run("status shows held regions", func(t *testing.T) {
		wantStatusHeld(t, e, file, map[string]string{"eu-west-1": gateFlag})
	})

	// Open the gate and run the same command again: only eu-west-1.
	writeFlags(t, flags, map[string]string{gateFlag: gateOpen, haltFlag: haltOff})
	e.proxy.ResetCounts()
	res, _ = e.deploy(0, file, "1.0.0", "--flags", spec)
	if res.Result != "succeeded" {
		t.Errorf("rerun: result %q, want succeeded", res.Result)
	}
	wantStatuses(t, res, map[string]string{"us-east-1": "unchanged", "eu-west-1": "deployed", "us-west-2": "unchanged"})
	wantStack(t, c, service, "eu-west-1", "1.0.0")
	for _, region := range []string{"us-east-1", "us-west-2"} {
		if m := e.cfnMutations(region); len(m) > 0 {
			t.Errorf("rerun: %s was done, yet gantry made mutating CloudFormation calls there: %v", region, m)
		}
	}
	t.Run("gates agrees after opening", func(t *testing.T) {
		wantGates(t, e, file, "1.0.0", spec, 0, map[string]string{
			"us-east-1": "open/running", "eu-west-1": "open/running", "us-west-2": "open/running",
		})
	})
}

// TestGateWaitOpensWithoutRerun: with --gate-wait 60s, a region whose gate
// is closed waits (its wave-mate deploys meanwhile, the stage stays
// locked); saving the flag file with the gate open lets the same process
// deploy it at once (the file provider's configuration-changed event, not
// the 10 s gate poll), exit 0, well before the 60 s.
func TestGateWaitOpensWithoutRerun(t *testing.T) {
	e := newEnv(t)
	const service = "waitgate"
	file := e.writeDescriptor(service, `    regions: [us-east-1, eu-west-1]`)
	flags := filepath.Join(e.tmp, "flags.json")
	writeFlags(t, flags, map[string]string{gateFlag: gateClosedFor("eu-west-1"), haltFlag: haltOff})
	e.bootstrap(file)
	c := newCloud(t)

	p := e.start("deploy", file, "--version", "1.0.0", "--bake", "0s", "--output", "json",
		"--gate-wait", "60s", "--flags", "file:"+flags)
	p.WaitStderr(60*time.Second, "eu-west-1 (wave 1): WARNING: gate closed", gateFlag, "waiting up to 1m0s")
	// Its wave-mate does not wait for it.
	p.WaitStderr(60*time.Second, "us-east-1 (wave 1): "+service+"-"+stage+"-app CREATE_COMPLETE")
	wantStack(t, c, service, "us-east-1", "1.0.0")
	wantNoStacks(t, e, c, service, "eu-west-1")
	// The rollout keeps the stage's lock while it waits.
	st := e.mustRun(0, "status", file, "--output", "json")
	var s statusDoc
	if err := json.Unmarshal([]byte(st.Stdout), &s); err != nil || len(s.Stages) != 1 {
		t.Fatalf("status --output json: %v\n%s", err, st)
	}
	if s.Stages[0].Lock == nil || s.Stages[0].Rollout == nil || s.Stages[0].Rollout.Status != "running" {
		t.Errorf("while the gate wait runs, status shows lock %+v and rollout %+v; want the lock held and the rollout running", s.Stages[0].Lock, s.Stages[0].Rollout)
	}
	if t.Failed() {
		t.FailNow()
	}

	time.Sleep(time.Second)
	written := time.Now()
	writeFlags(t, flags, map[string]string{gateFlag: gateOpen, haltFlag: haltOff})
	p.WaitStderr(30*time.Second, "eu-west-1 (wave 1): gate opened")
	reacted := time.Since(written)
	r := p.Wait()
	t.Logf("gate-wait deploy: exit %d in %s; the gate opened %s after the flag file was saved",
		r.Code, r.Took.Round(time.Millisecond), reacted.Round(time.Millisecond))
	if r.Code != 0 {
		t.Fatalf("want exit 0\n%s", r)
	}
	res := parseResult(t, r)
	wantStatuses(t, res, map[string]string{"us-east-1": "deployed", "eu-west-1": "deployed"})
	wantStack(t, c, service, "eu-west-1", "1.0.0")
	if r.Took > 30*time.Second {
		t.Errorf("the deploy took %s: the flag file change should have ended the 60s wait at once", r.Took.Round(time.Millisecond))
	}
	// The engine polls a closed gate every 10 s (deploy.DefaultGatePoll);
	// the file provider's event must wake it well before that.
	if reacted > 7*time.Second {
		t.Errorf("the gate opened %s after the flag file was saved; the configuration-changed event should wake the wait within a few seconds, not the 10s poll",
			reacted.Round(time.Millisecond))
	}
}

// TestHaltFlagStopsBetweenWaves: the halt flag, on for wave >= 2 (targeting
// on the wave attribute), lets wave 1 deploy and stops the rollout before
// wave 2: exit 3, wave 2's regions held with the halt reason, no stacks.
func TestHaltFlagStopsBetweenWaves(t *testing.T) {
	e := newEnv(t)
	const service = "haltwave"
	file := e.writeDescriptor(service, `    waves:
      - regions: [us-east-1]
      - regions: [eu-west-1, us-west-2]`)
	flags := filepath.Join(e.tmp, "flags.json")
	writeFlags(t, flags, map[string]string{gateFlag: gateOpen, haltFlag: haltFromWave2})
	e.bootstrap(file)
	c := newCloud(t)
	spec := "file:" + flags

	res, r := e.deploy(3, file, "1.0.0", "--flags", spec)
	if res.Result != "held" {
		t.Errorf("result %q, want held", res.Result)
	}
	wantStatuses(t, res, map[string]string{"us-east-1": "deployed", "eu-west-1": "held", "us-west-2": "held"})
	for _, region := range []string{"eu-west-1", "us-west-2"} {
		rr := regionOf(t, res, region)
		if rr.Wave != 2 {
			t.Errorf("%s: wave %d, want 2", region, rr.Wave)
		}
		if !strings.Contains(rr.Error, "halt flag is on") || !strings.Contains(rr.Error, haltFlag) {
			t.Errorf("%s: reason %q does not say the halt flag %s is on", region, rr.Error, haltFlag)
		}
	}
	if !strings.Contains(r.Stderr, "halt flag is on") {
		t.Errorf("stderr does not report the halt\n%s", e2etest.Tail(r.Stderr, 20))
	}
	wantStack(t, c, service, "us-east-1", "1.0.0")
	wantNoStacks(t, e, c, service, "eu-west-1", "us-west-2")

	t.Run("gates agrees", func(t *testing.T) {
		wantGates(t, e, file, "1.0.0", spec, 3, map[string]string{
			"us-east-1": "open/running", "eu-west-1": "open/halted", "us-west-2": "open/halted",
		})
	})
}

// TestMissingGateFlagHolds: a flag file (named by GANTRY_FLAGS) without the
// gate flag holds every region (FLAG_NOT_FOUND, failing closed) and creates
// nothing.
func TestMissingGateFlagHolds(t *testing.T) {
	e := newEnv(t)
	const service = "noflag"
	file := e.writeDescriptor(service, `    regions: [us-east-1, eu-west-1]`)
	flags := filepath.Join(e.tmp, "flags.json")
	writeFlags(t, flags, map[string]string{haltFlag: haltOff}) // no svc-gate
	e.bootstrap(file)
	c := newCloud(t)
	e.proxy.ResetCounts()

	// The provider from GANTRY_FLAGS this time, as a pipeline would set it.
	e.extraEnv = []string{"GANTRY_FLAGS=file:" + flags}
	res, _ := e.deploy(3, file, "1.0.0")
	if res.Result != "held" {
		t.Errorf("result %q, want held", res.Result)
	}
	wantStatuses(t, res, map[string]string{"us-east-1": "held", "eu-west-1": "held"})
	for _, rr := range res.Regions {
		if !strings.Contains(rr.Error, "FLAG_NOT_FOUND") || !strings.Contains(rr.Error, gateFlag) {
			t.Errorf("%s: reason %q does not name %s and FLAG_NOT_FOUND", rr.Region, rr.Error, gateFlag)
		}
	}
	wantNoStacks(t, e, c, service, "us-east-1", "eu-west-1")
}

// TestNoProviderRefuses: a descriptor that names flags, run without
// --flags and without GANTRY_FLAGS, is bad usage (exit 2) and touches
// nothing: no AWS call at all, no stacks, no rollout record.
func TestNoProviderRefuses(t *testing.T) {
	e := newEnv(t)
	const service = "noprovider"
	file := e.writeDescriptor(service, `    regions: [us-east-1, eu-west-1]`)
	e.bootstrap(file)
	c := newCloud(t)
	e.proxy.ResetCounts()

	r := e.mustRun(2, "deploy", file, "--version", "1.0.0", "--bake", "0s", "--output", "json")
	if !strings.Contains(r.Stderr, "no flag provider configured") || !strings.Contains(r.Stderr, "GANTRY_FLAGS") {
		t.Errorf("stderr does not say that no flag provider is configured\n%s", r)
	}
	if strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("a refused deploy printed a result: %s", r.Stdout)
	}
	if n := e.proxy.Counts(); len(n) > 0 {
		t.Errorf("a refused deploy made AWS calls: %v, want none", n)
	}
	wantNoStacks(t, e, c, service, "us-east-1", "eu-west-1")
	st := e.mustRun(0, "status", file, "--output", "json")
	var s statusDoc
	if err := json.Unmarshal([]byte(st.Stdout), &s); err != nil || len(s.Stages) != 1 {
		t.Fatalf("status --output json: %v\n%s", err, st)
	}
	if s.Stages[0].Rollout != nil || s.Stages[0].Lock != nil {
		t.Errorf("after a refused deploy status shows rollout %+v, lock %+v; want neither", s.Stages[0].Rollout, s.Stages[0].Lock)
	}
}

// ---- gantry status and gantry gates ----

// statusDoc is `gantry status --output json` (only what is checked here).
type statusDoc struct {
	Stages []struct {
		Stage string `json:"stage"`
		Lock  *struct {
			Owner string `json:"owner"`
		} `json:"lock"`
		Rollout *struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"rollout"`
	} `json:"stages"`
}

// wantStatusHeld runs gantry status FILE --output json after a held run and
// checks it shows the held rollout, and for each held region (region ->
// the flag its reason must name) that it is held and why. The issue (item
// 1) asks: "gantry status shows held regions and the reason".
func wantStatusHeld(t *testing.T, e *env, file string, held map[string]string) {
	t.Helper()
	r := e.mustRun(0, "status", file, "--output", "json")
	var raw struct {
		Stages []struct {
			Lock    map[string]any   `json:"lock"`
			Rollout map[string]any   `json:"rollout"`
			Regions []map[string]any `json:"regions"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &raw); err != nil || len(raw.Stages) != 1 {
		t.Fatalf("status --output json: %v\n%s", err, r)
	}
	st := raw.Stages[0]
	t.Logf("status: rollout %v", st.Rollout)
	if st.Rollout == nil || st.Rollout["status"] != "held" {
		t.Fatalf("status shows rollout %v, want status held\n%s", st.Rollout, r)
	}
	if st.Lock != nil {
		t.Errorf("status shows lock %v after the held run exited; a held rollout releases its lock when it exits", st.Lock)
	}
	for _, reg := range st.Regions {
		name, _ := reg["region"].(string)
		flag, isHeld := held[name]
		if !isHeld {
			continue
		}
		t.Logf("status: region %v", reg)
		// Held, and why, may be shown on the region or in the rollout.
		text, _ := json.Marshal(reg)
		rolloutText, _ := json.Marshal(st.Rollout)
		shown := strings.Contains(string(text), "held") || strings.Contains(string(rolloutText), name)
		why := strings.Contains(string(text), flag) ||
			(strings.Contains(string(rolloutText), name) && strings.Contains(string(rolloutText), flag))
		if !shown {
			t.Errorf("status does not show %s as held: its region entry is %s (the rollout: %s)", name, text, rolloutText)
		}
		if !why {
			t.Errorf("status does not say why %s is held (flag %s): its region entry is %s, the rollout %s", name, flag, text, rolloutText)
		}
	}
}

// wantGates runs gantry gates FILE --version V --flags SPEC --output json
// and checks the exit code and, per region, "gate/halt" outcomes
// (open|closed / running|halted) and whether it would start.
func wantGates(t *testing.T, e *env, file, version, spec string, code int, want map[string]string) {
	t.Helper()
	r := e.mustRun(code, "gates", file, "--version", version, "--flags", spec, "--output", "json")
	var rep struct {
		GateFlag string `json:"gateFlag"`
		HaltFlag string `json:"haltFlag"`
		Regions  []struct {
			Region string `json:"region"`
			Start  bool   `json:"start"`
			Gate   struct {
				Outcome string `json:"outcome"`
			} `json:"gate"`
			Halt struct {
				Outcome string `json:"outcome"`
			} `json:"halt"`
		} `json:"regions"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("gates --output json: %v\n%s", err, r)
	}
	if rep.GateFlag != gateFlag || rep.HaltFlag != haltFlag {
		t.Errorf("gates names flags %q/%q, want %q/%q", rep.GateFlag, rep.HaltFlag, gateFlag, haltFlag)
	}
	got := map[string]string{}
	for _, reg := range rep.Regions {
		got[reg.Region] = reg.Gate.Outcome + "/" + reg.Halt.Outcome
		wantStart := want[reg.Region] == "open/running"
		if reg.Start != wantStart {
			t.Errorf("gates: %s start %v, want %v", reg.Region, reg.Start, wantStart)
		}
	}
	for region, w := range want {
		if got[region] != w {
			t.Errorf("gates: %s is %q, want %q", region, got[region], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("gates lists %v, want %v", got, want)
	}
}
