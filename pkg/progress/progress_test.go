package progress

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gantryhq/gantry/pkg/iostreams"
	"github.com/gantryhq/gantry/pkg/rollout"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	devUE1  = rollout.Ref{Stage: "dev", Region: "us-east-1", Wave: 1}
	prodUW2 = rollout.Ref{Stage: "prod", Region: "us-west-2", Wave: 1}
	prodEW1 = rollout.Ref{Stage: "prod", Region: "eu-west-1", Wave: 2}
)

func sampleResult() *rollout.Result {
	return &rollout.Result{
		Service: "payments", Version: "1.4.0", Result: rollout.Failed, RolloutID: "r-1",
		Notes: []string{"--bake 1m replaces every bake time for this run"},
		Regions: []rollout.RegionResult{
			{Stage: "dev", Region: "us-east-1", Wave: 1, Status: rollout.StatusUnchanged,
				Stacks: []rollout.StackResult{{Name: "payments-dev-app", Kind: "app", Action: rollout.ActionUnchanged, Status: "UPDATE_COMPLETE"}}},
			{Stage: "prod", Region: "us-west-2", Wave: 1, Status: rollout.StatusFailed,
				Stacks: []rollout.StackResult{
					{Name: "payments-prod-data", Kind: "data", Action: rollout.ActionUnchanged},
					{Name: "payments-prod-app", Kind: "app", Action: rollout.ActionUpdate, Status: "UPDATE_ROLLBACK_COMPLETE", Changes: 3},
				},
				Error: "stack payments-prod-app: Service | failed\nto stabilize"},
			{Stage: "prod", Region: "eu-west-1", Wave: 2, Status: rollout.StatusPending},
		},
	}
}

func TestResultJSONShape(t *testing.T) {
	b, err := json.Marshal(sampleResult())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if got := keys(m); !reflect.DeepEqual(got, []string{"notes", "regions", "result", "rolloutId", "service", "version"}) {
		t.Errorf("top-level keys = %v", got)
	}
	regions := m["regions"].([]any)
	first := regions[0].(map[string]any)
	if got := keys(first); !reflect.DeepEqual(got, []string{"region", "stacks", "stage", "status", "wave"}) {
		t.Errorf("region keys = %v (error must be omitted when empty)", got)
	}
	if first["wave"] != 1.0 {
		t.Errorf("wave = %v, want the number 1", first["wave"])
	}
	if _, ok := regions[1].(map[string]any)["error"]; !ok {
		t.Error("failed region has no error")
	}
	if s, ok := regions[2].(map[string]any)["stacks"].([]any); !ok || len(s) != 0 {
		t.Errorf("pending region stacks = %#v, want []", regions[2].(map[string]any)["stacks"])
	}
	stack := regions[1].(map[string]any)["stacks"].([]any)[1].(map[string]any)
	if got := keys(stack); !reflect.DeepEqual(got, []string{"action", "changes", "kind", "name", "status"}) {
		t.Errorf("stack keys = %v", got)
	}
	empty, _ := json.Marshal(&rollout.Result{Service: "s", Version: "v", Result: rollout.Succeeded})
	if !strings.Contains(string(empty), `"regions":[]`) {
		t.Errorf("empty result = %s", empty)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestExitCode(t *testing.T) {
	for o, want := range map[rollout.Outcome]int{rollout.Succeeded: 0, rollout.Failed: 1, rollout.Held: 3, "": 1} {
		if got := (&rollout.Result{Result: o}).ExitCode(); got != want {
			t.Errorf("ExitCode(%q) = %d, want %d", o, got, want)
		}
	}
}

func TestPlain(t *testing.T) {
	var buf bytes.Buffer
	clk := newClock()
	p := NewPlain(&buf, clk)
	p.RolloutStarted(rollout.Start{Service: "payments", Version: "1.4.0", RolloutID: "r-1", Regions: []rollout.Ref{devUE1, prodUW2}, Notes: []string{"bake overridden"}})
	p.RegionStarted(prodUW2)
	p.StepChanged(prodUW2, rollout.StepCheck, "")
	p.StepChanged(prodUW2, rollout.StepApp, "payments-prod-app")
	clk.Advance(5 * time.Second)
	p.StackEvent(prodUW2, rollout.StackEvent{Stack: "payments-prod-app", LogicalID: "Service", Type: "AWS::ECS::Service", Status: "UPDATE_IN_PROGRESS"})
	p.StackEvent(prodUW2, rollout.StackEvent{Stack: "payments-prod-app", LogicalID: "Service", Type: "AWS::ECS::Service", Status: "UPDATE_FAILED", Reason: "did not stabilize"})
	p.StackEvent(prodUW2, rollout.StackEvent{Stack: "payments-prod-app", LogicalID: "payments-prod-app", Type: "AWS::CloudFormation::Stack", Status: "UPDATE_ROLLBACK_COMPLETE"})
	p.Message(prodUW2, slog.LevelWarn, "gate closed")
	res := sampleResult()
	p.RegionDone(prodUW2, res.Regions[1])
	p.RolloutDone(res)

	want := []string{
		"2025-03-04T10:00:00Z deploying payments version 1.4.0 to 2 region(s) (rollout r-1)",
		"2025-03-04T10:00:00Z WARNING: bake overridden",
		"2025-03-04T10:00:00Z prod/us-west-2 (wave 1): started",
		"2025-03-04T10:00:00Z prod/us-west-2 (wave 1): deploying stack payments-prod-app",
		"2025-03-04T10:00:05Z prod/us-west-2 (wave 1): payments-prod-app Service AWS::ECS::Service UPDATE_FAILED: did not stabilize",
		"2025-03-04T10:00:05Z prod/us-west-2 (wave 1): payments-prod-app UPDATE_ROLLBACK_COMPLETE",
		"2025-03-04T10:00:05Z prod/us-west-2 (wave 1): WARNING: gate closed",
		"2025-03-04T10:00:05Z prod/us-west-2 (wave 1): failed (data: unchanged; app: update (3 changes), UPDATE_ROLLBACK_COMPLETE): stack payments-prod-app: Service | failed\nto stabilize",
		"2025-03-04T10:00:05Z rollout failed: 1 unchanged, 1 failed, 1 pending",
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// The error's embedded newline makes one extra line; rejoin it.
	want = strings.Split(strings.Join(want, "\n"), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plain output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(buf.String(), "\x1b") {
		t.Error("plain output carries escape sequences")
	}
}

func TestMarkdown(t *testing.T) {
	md := Markdown(sampleResult())
	for _, want := range []string{
		"### ❌ gantry deploy `payments` version `1.4.0`: failed\n",
		"Rollout `r-1`. Failed: 1 unchanged, 1 failed, 1 pending.",
		"> [!WARNING]\n> --bake 1m replaces every bake time for this run\n",
		"| Stage | Wave | Region | Status | Stacks | Details |\n|---|---|---|---|---|---|\n",
		"| dev | 1 | us-east-1 | ⚪ unchanged | app: unchanged |  |\n",
		"| prod | 1 | us-west-2 | ❌ failed | data: unchanged; app: update (3 changes), UPDATE_ROLLBACK_COMPLETE | stack payments-prod-app: Service \\| failed to stabilize |\n",
		"| prod | 2 | eu-west-1 | ⏳ pending |  |  |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// Every table row has the same number of unescaped cell separators.
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "|") {
			if n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"); n != 7 {
				t.Errorf("row %q has %d separators, want 7", l, n)
			}
		}
	}
	held := Markdown(&rollout.Result{Service: "s", Version: "v", Result: rollout.Held})
	if !strings.Contains(held, "run the same command again") {
		t.Errorf("held markdown lacks the resume hint:\n%s", held)
	}
}

func TestTTY(t *testing.T) {
	var buf bytes.Buffer
	clk := newClock()
	v := NewTTY(&buf, TTYOptions{Clock: clk, Color: false})
	v.RolloutStarted(rollout.Start{Service: "payments", Version: "1.4.0", RolloutID: "r-1", Regions: []rollout.Ref{devUE1, prodUW2, prodEW1}})
	first := buf.String()
	if strings.Contains(first, "A\r") {
		t.Errorf("first draw moves the cursor up: %q", first)
	}
	if !strings.Contains(first, "prod   eu-west-1  2     pending") {
		t.Errorf("first draw lacks the pending row:\n%s", first)
	}

	buf.Reset()
	v.RegionStarted(devUE1)
	v.StepChanged(devUE1, rollout.StepApp, "payments-dev-app")
	// Within 100ms of the last draw: throttled, nothing written.
	if buf.Len() != 0 {
		t.Errorf("redrew within the throttle interval: %q", buf.String())
	}
	clk.Advance(150 * time.Millisecond)
	v.StackEvent(devUE1, rollout.StackEvent{Stack: "payments-dev-app", LogicalID: "TaskDefinition", Status: "UPDATE_IN_PROGRESS"})
	out := buf.String()
	// Table = title + header + 3 rows: the cursor goes up 5 lines.
	if !strings.HasPrefix(out, "\x1b[5A") {
		t.Errorf("redraw does not start with cursor-up 5: %q", out)
	}
	if !strings.Contains(out, "dev    us-east-1  1     app      0s       TaskDefinition UPDATE_IN_PROGRESS") {
		t.Errorf("redraw lacks the live row:\n%s", out)
	}

	buf.Reset()
	clk.Advance(65 * time.Second)
	v.Tick()
	if !strings.Contains(buf.String(), "1m05s") {
		t.Errorf("tick does not refresh elapsed time:\n%s", buf.String())
	}

	buf.Reset()
	v.Message(prodUW2, slog.LevelWarn, "gate closed: not this week")
	out = buf.String()
	if !strings.HasPrefix(out, "\x1b[5A\r\x1b[JWARNING: prod/us-west-2: gate closed: not this week\n") {
		t.Errorf("message is not printed above the table: %q", out)
	}

	res := sampleResult()
	res.Regions[0] = rollout.RegionResult{Stage: "dev", Region: "us-east-1", Wave: 1, Status: rollout.StatusDeployed,
		Stacks: []rollout.StackResult{{Name: "payments-dev-app", Kind: "app", Action: rollout.ActionUpdate, Changes: 2}}}
	clk.Advance(10 * time.Second)
	v.RegionDone(devUE1, res.Regions[0])
	buf.Reset()
	v.RolloutDone(res)
	out = buf.String()
	for _, want := range []string{
		"dev    us-east-1  1     deployed  1m15s    app: update (2 changes)",
		"prod   us-west-2  1     failed    -        stack payments-prod-app",
		"prod   eu-west-1  2     pending   -",
		"Rollout failed: 1 deployed, 1 failed, 1 pending\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("final view lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[3") {
		t.Errorf("colour without Color: %q", out)
	}
	buf.Reset()
	v.Tick()
	if buf.Len() != 0 {
		t.Errorf("tick after the end redrew: %q", buf.String())
	}
}

func TestTTYColorAndWidth(t *testing.T) {
	var buf bytes.Buffer
	v := NewTTY(&buf, TTYOptions{Clock: newClock(), Color: true, Width: 40})
	v.RolloutStarted(rollout.Start{Service: "payments", Version: "1", Regions: []rollout.Ref{devUE1}})
	v.RegionDone(devUE1, rollout.RegionResult{Stage: "dev", Region: "us-east-1", Wave: 1, Status: rollout.StatusFailed, Error: strings.Repeat("x", 100)})
	out := buf.String()
	if !strings.Contains(out, iostreams.NewColorScheme(true).Paint(iostreams.Failure, "failed")) {
		t.Errorf("failed is not red: %q", out)
	}
	for _, l := range strings.Split(out, "\n") {
		l = stripANSI(l)
		if n := len([]rune(l)); n > 39 {
			t.Errorf("line of %d runes is wider than 39: %q", n, l)
		}
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z') {
				i++
			}
			continue
		}
		if s[i] == '\r' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestTTYPause(t *testing.T) {
	var buf bytes.Buffer
	clk := newClock()
	v := NewTTY(&buf, TTYOptions{Clock: clk})
	v.RolloutStarted(rollout.Start{Service: "payments", Version: "1", Regions: []rollout.Ref{devUE1, prodUW2}})
	buf.Reset()
	v.Pause()
	// Title, header and two rows are cleared.
	if got := buf.String(); got != "\x1b[4A\r\x1b[J" {
		t.Errorf("pause wrote %q", got)
	}
	buf.Reset()
	clk.Advance(time.Second)
	v.Message(rollout.Ref{Stage: "prod"}, slog.LevelInfo, "stage approved")
	v.StepChanged(devUE1, rollout.StepApp, "x")
	v.Tick()
	if buf.Len() != 0 {
		t.Errorf("paused view wrote %q", buf.String())
	}
	v.Resume()
	out := buf.String()
	if !strings.HasPrefix(out, "prod: stage approved\n\r\x1b[2K") || strings.Contains(out, "A\r") {
		t.Errorf("resume wrote %q", out)
	}
}

func TestTTYStartStop(t *testing.T) {
	var buf safeBuffer
	v := NewTTY(&buf, TTYOptions{Interval: time.Millisecond})
	v.RolloutStarted(rollout.Start{Service: "s", Version: "v", Regions: []rollout.Ref{devUE1}})
	v.Start()
	v.Start() // idempotent
	v.RegionStarted(devUE1)
	v.Stop()
	v.Stop()
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func TestMultiAndRecorder(t *testing.T) {
	var a, b Recorder
	m := Multi(&a, &b, rollout.Discard{})
	m.RegionStarted(devUE1)
	m.StepChanged(devUE1, rollout.StepBake, "")
	m.Message(rollout.Ref{Stage: "dev"}, slog.LevelInfo, "hi")
	m.RolloutDone(&rollout.Result{})
	if len(a.Snapshot()) != 4 || len(b.Snapshot()) != 4 {
		t.Errorf("events = %d, %d; want 4 each", len(a.Snapshot()), len(b.Snapshot()))
	}
	if got := (rollout.Ref{Stage: "dev"}).String(); got != "dev" {
		t.Errorf("stage ref = %q", got)
	}
}

func TestFormatElapsed(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1499 * time.Millisecond: "1s", 65 * time.Second: "1m05s", time.Hour + 2*time.Minute + 3*time.Second: "1h02m03s",
	} {
		if got := formatElapsed(d); got != want {
			t.Errorf("formatElapsed(%s) = %q, want %q", d, got, want)
		}
	}
}

// A heartbeat shows in plain logs, not in the live view; NoSummary leaves
// out the final line (the command prints it on stdout).
func TestHeartbeatAndNoSummary(t *testing.T) {
	var plain, live bytes.Buffer
	p := NewPlain(&plain, newClock())
	p.NoSummary = true
	v := NewTTY(&live, TTYOptions{Clock: newClock(), NoSummary: true})
	res := &rollout.Result{Service: "payments", Version: "1", Result: rollout.Succeeded}
	for _, o := range []rollout.Observer{p, v} {
		o.RolloutStarted(rollout.Start{Service: "payments", Version: "1", Regions: []rollout.Ref{devUE1}})
		o.Message(rollout.Ref{Stage: "dev"}, rollout.LevelHeartbeat, "wave 1 baking: 9m0s left of 10m0s")
		o.RolloutDone(res)
	}
	if !strings.Contains(plain.String(), "wave 1 baking: 9m0s left") || strings.Contains(live.String(), "baking") {
		t.Errorf("heartbeat: plain %q, live %q", plain.String(), live.String())
	}
	if strings.Contains(plain.String(), "rollout succeeded") || strings.Contains(live.String(), "Rollout succeeded") {
		t.Errorf("summary printed although NoSummary: plain %q, live %q", plain.String(), live.String())
	}
}

// Long messages in the live view break at word boundaries, never mid-word.
func TestTTYWrapsAtWords(t *testing.T) {
	var buf bytes.Buffer
	v := NewTTY(&buf, TTYOptions{Clock: newClock(), Width: 40})
	v.Message(devUE1, slog.LevelError, "stack payments-dev-app failed: Resource handler returned message: the security group does not exist")
	out := stripANSI(buf.String())
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" && !strings.Contains(l, "STAGE") && !strings.Contains(l, "dev   ") {
			lines = append(lines, l)
		}
	}
	if len(lines) < 3 {
		t.Fatalf("not wrapped:\n%s", out)
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) > 39 {
			t.Errorf("line longer than the width: %q", l)
		}
	}
	joined := strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
	if !strings.Contains(joined, "Resource handler returned message: the security group does not exist") {
		t.Errorf("a word was cut:\n%s", out)
	}
	if got := wrapWords(strings.Repeat("x", 25), 10, "  "); got != "xxxxxxxx\n  xxxxxxxx\n  xxxxxxxx\n  x" {
		t.Errorf("a long word is not cut: %q", got)
	}
}
