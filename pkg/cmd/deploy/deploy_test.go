package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	deploycmd "github.com/gantryhq/gantry/pkg/cmd/deploy"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/deploytest"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/prompt"
)

const payments = "../../../examples/payments/payments.sd.yaml"

// shop is a small web service: dev in one region, prod (approval needed)
// in two waves. gate adds a rollout gate flag when not empty.
func shop(t *testing.T, gate string) string {
	t.Helper()
	text := `schemaVersion: 1
service: shop
team: test
description: gantry deploy test service
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/shop
compute:
  cpu: 256
  memory: 512
  port: 8080
  healthcheck: /healthz
scaling:
  min: 1
  max: 2
  cpuTarget: 60
routing:
  path: /shop/*
stages:
  - name: dev
    account: "220000000001"
    regions: [us-east-1]
  - name: prod
    account: "220000000002"
    approval: true
    waves:
      - regions: [eu-west-1]
      - regions: [us-east-1, us-west-2]
`
	if gate != "" {
		text += "rollout:\n  gate: " + gate + "\n"
	}
	return write(t, "shop.sd.yaml", text)
}

func write(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// harness runs gantry deploy in-process over an in-memory backend, with
// its own environment and prompter.
type harness struct {
	f           *cmdutil.Factory
	out, errOut *bytes.Buffer
	b           *deploytest.Backend
	env         map[string]string
	// backends counts the backends the command asked the Factory for.
	backends int
}

func newHarness(t *testing.T, service string) *harness {
	t.Helper()
	f, out, errOut := cmdutil.TestFactory("v0.0.0-test")
	h := &harness{f: f, out: out, errOut: errOut, b: deploytest.NewBackend(service), env: map[string]string{}}
	f.NewBackend = func(_ context.Context, p *plan.Plan, file string) (deploy.Backend, error) {
		if p.Service != service || file == "" {
			return nil, fmt.Errorf("backend for %q (%s), want %q", p.Service, file, service)
		}
		h.backends++
		return h.b, nil
	}
	f.Getenv = func(k string) string { return h.env[k] }
	return h
}

type result struct {
	code           int
	stdout, stderr string
}

func (h *harness) run(t *testing.T, args ...string) result {
	t.Helper()
	h.out.Reset()
	h.errOut.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, err := cmdutil.Execute(ctx, deploycmd.NewCmd(h.f), args)
	r := result{code: code, stdout: h.out.String(), stderr: h.errOut.String()}
	if err != nil {
		r.stderr += "error: " + err.Error() + "\n"
	}
	return r
}

// applied lists the regions of stage whose app stack was applied.
func (h *harness) applied(stage string) []string {
	var out []string
	for _, c := range h.b.CallsOf("apply") {
		if c.Stage == stage && strings.HasSuffix(c.Stack, "-app") && !slices.Contains(out, c.Region) {
			out = append(out, c.Region)
		}
	}
	slices.Sort(out)
	return out
}

func TestDeploySucceeds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "shop")
	r := h.run(t, shop(t, ""), "--version", "1.0.0", "--stage", "dev", "--bake", "0s")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "succeeded: 1 deployed" {
		t.Fatalf("exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	// The summary is said once: on stdout, not again in the log.
	if strings.Contains(r.stderr, "succeeded: 1 deployed") {
		t.Errorf("the summary is on stderr too:\n%s", r.stderr)
	}
	if got := h.applied("dev"); !slices.Equal(got, []string{"us-east-1"}) {
		t.Errorf("applied in %v", got)
	}
	if h.backends != 1 || h.b.Locked("dev") {
		t.Errorf("backends %d, dev still locked %v", h.backends, h.b.Locked("dev"))
	}
	// A rerun finds the region done.
	if r := h.run(t, shop(t, ""), "--version", "1.0.0", "--stage", "dev", "--bake", "0s"); r.code != 0 || strings.TrimSpace(r.stdout) != "succeeded: 1 unchanged" {
		t.Errorf("rerun: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
}

// deployJSON is the design's `gantry deploy --output json` object.
type deployJSON struct {
	Service string `json:"service"`
	Version string `json:"version"`
	Result  string `json:"result"`
	Regions []struct {
		Stage  string            `json:"stage"`
		Region string            `json:"region"`
		Wave   int               `json:"wave"`
		Status string            `json:"status"`
		Stacks []json.RawMessage `json:"stacks"`
		Error  string            `json:"error"`
	} `json:"regions"`
	RolloutID string   `json:"rolloutId"`
	Notes     []string `json:"notes"`
}

func decode(t *testing.T, stdout string) deployJSON {
	t.Helper()
	var d deployJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("stdout is not the deploy JSON: %v\n%s", err, stdout)
	}
	return d
}

func statuses(d deployJSON) map[string]string {
	out := map[string]string{}
	for _, r := range d.Regions {
		out[r.Stage+"/"+r.Region] = r.Status
	}
	return out
}

func TestDeployJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "shop")
	r := h.run(t, shop(t, ""), "--version", "2.0.0", "--approve", "prod", "--output", "json", "--bake", "0s")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	d := decode(t, r.stdout)
	if d.Service != "shop" || d.Version != "2.0.0" || d.Result != "succeeded" || len(d.Regions) != 4 {
		t.Fatalf("JSON %+v", d)
	}
	// The rollout ID and every note are in the JSON, so a pipeline's log
	// names the rollout and shows the --bake override.
	if d.RolloutID == "" || len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "--bake 0s") {
		t.Errorf("rolloutId %q, notes %q", d.RolloutID, d.Notes)
	}
	want := map[string]string{"dev/us-east-1": "deployed", "prod/eu-west-1": "deployed", "prod/us-east-1": "deployed", "prod/us-west-2": "deployed"}
	if got := statuses(d); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	for _, reg := range d.Regions {
		if len(reg.Stacks) == 0 || reg.Wave < 1 {
			t.Errorf("%s/%s: wave %d stacks %s", reg.Stage, reg.Region, reg.Wave, reg.Stacks)
		}
	}
}

// An approval stage without a terminal and without --approve holds: exit
// 3, nothing deployed in it, nothing asked.
func TestDeployApprovalWithoutTerminalHolds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "shop")
	r := h.run(t, shop(t, ""), "--version", "1.0.0", "--output", "json", "--bake", "0s")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	d := decode(t, r.stdout)
	if d.Result != "held" || statuses(d)["dev/us-east-1"] != "deployed" || statuses(d)["prod/eu-west-1"] != "held" {
		t.Errorf("JSON %s", r.stdout)
	}
	if got := h.applied("prod"); len(got) != 0 {
		t.Errorf("prod deployed without approval in %v", got)
	}
	if !strings.Contains(r.stderr, "--approve prod") {
		t.Errorf("stderr does not point at --approve prod:\n%s", r.stderr)
	}
}

// On a terminal the stage is asked about; yes deploys it, no holds.
func TestDeployApprovalPrompt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reply bool
		code  int
		want  []string
	}{
		{true, 0, []string{"eu-west-1", "us-east-1", "us-west-2"}},
		{false, 3, nil},
	} {
		t.Run(fmt.Sprint(tc.reply), func(t *testing.T) {
			h := newHarness(t, "shop")
			answers := &prompt.Answers{Replies: []bool{tc.reply}}
			h.f.Prompter = answers
			r := h.run(t, shop(t, ""), "--version", "1.0.0", "--stage", "prod", "--bake", "0s")
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			if len(answers.Asked) != 1 || answers.Asked[0] != "Deploy stage prod now?" {
				t.Errorf("asked %q", answers.Asked)
			}
			// What a yes would do is said first: version, account,
			// regions, and the stage's plan in a line.
			for _, want := range []string{
				"Stage prod needs approval: version 1.0.0 to account 220000000002, 3 regions: eu-west-1, us-east-1, us-west-2",
				"plan: app: create in 3 regions (3 changes)",
			} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if got := h.applied("prod"); !slices.Equal(got, tc.want) {
				t.Errorf("prod applied in %v, want %v", got, tc.want)
			}
		})
	}
}

// On a real terminal (the live view on stderr, the Factory's own prompter)
// the question pauses the view and takes the typed answer.
func TestDeployApprovalOnATerminal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typed string
		code  int
		want  int
	}{
		{"y\n", 0, 3},
		{"\n", 3, 0},
	} {
		t.Run(strings.TrimSpace(tc.typed), func(t *testing.T) {
			h := newHarness(t, "shop")
			ios := h.f.IOStreams
			ios.In = strings.NewReader(tc.typed)
			ios.SetStdinTTY(true)
			ios.SetStderrTTY(true)
			r := h.run(t, shop(t, ""), "--version", "1.0.0", "--stage", "prod", "--bake", "0s")
			if r.code != tc.code || !strings.Contains(r.stderr, "Deploy stage prod now? [y/N]") {
				t.Fatalf("exit %d, want %d with the question\n%s", r.code, tc.code, r.stderr)
			}
			if got := h.applied("prod"); len(got) != tc.want {
				t.Errorf("prod applied in %v, want %d regions", got, tc.want)
			}
		})
	}
}

// --approve STAGE approves without asking, even on a terminal.
func TestDeployApproveFlag(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "shop")
	answers := &prompt.Answers{}
	h.f.Prompter = answers
	r := h.run(t, shop(t, ""), "--version", "1.0.0", "--approve", "prod", "--bake", "0s")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "succeeded: 4 deployed" {
		t.Fatalf("exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	if len(answers.Asked) != 0 {
		t.Errorf("asked %q despite --approve prod", answers.Asked)
	}
	if got := h.applied("prod"); len(got) != 3 {
		t.Errorf("prod applied in %v", got)
	}
}

// The Markdown summary goes to the file GITHUB_STEP_SUMMARY names, as the
// Factory's environment says, not the process's.
func TestDeployStepSummary(t *testing.T) {
	summary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary) // ignored: the Factory's environment is empty

	h := newHarness(t, "shop")
	if r := h.run(t, shop(t, ""), "--version", "1.0.0", "--stage", "dev", "--bake", "0s"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(summary); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("summary written without GITHUB_STEP_SUMMARY in the Factory's environment: %v", err)
	}

	h.env["GITHUB_STEP_SUMMARY"] = summary
	if r := h.run(t, shop(t, ""), "--version", "1.1.0", "--stage", "dev", "--bake", "0s", "--output", "json"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{"shop", "1.1.0", "us-east-1", "deployed", "|"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	// A second run appends: the step summary is shared by a job's steps.
	if r := h.run(t, shop(t, ""), "--version", "1.1.0", "--stage", "dev", "--bake", "0s"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if b2, _ := os.ReadFile(summary); !strings.HasPrefix(string(b2), md) || len(b2) <= len(b) {
		t.Errorf("second summary did not append:\n%s", b2)
	}
}

func TestDeployApplyFails(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "shop")
	h.b.ApplyHook = func(_ context.Context, step plan.Step, _ deploy.StackApply) error {
		if step.Region == "us-east-1" {
			return errors.New("Resource handler returned message: boom")
		}
		return nil
	}
	r := h.run(t, shop(t, ""), "--version", "1.0.0", "--stage", "dev", "--bake", "0s", "--output", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	d := decode(t, r.stdout)
	if d.Result != "failed" || len(d.Regions) != 1 || d.Regions[0].Status != "failed" || !strings.Contains(d.Regions[0].Error, "boom") {
		t.Errorf("JSON %s", r.stdout)
	}
}

// A lock another rollout holds fails the stage (exit 1), naming it.
func TestDeployLockHeld(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "shop")
	h.b.HoldLock("dev", "20250101T000000.000Z-other")
	r := h.run(t, shop(t, ""), "--version", "1.0.0", "--stage", "dev", "--bake", "0s")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout+r.stderr, "20250101T000000.000Z-other") {
		t.Errorf("the holder is not named:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
	if got := h.applied("dev"); len(got) != 0 {
		t.Errorf("deployed under another rollout's lock: %v", got)
	}
}

// Bad usage is refused before any backend is made: exit 2.
func TestDeployUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args func(t *testing.T) []string
		want string
	}{
		{"gate flag without --flags", func(t *testing.T) []string {
			return []string{shop(t, "shop-gate"), "--version", "1.0.0", "--bake", "0s"}
		}, "--flags"},
		{"canary weight flag without --flags", func(t *testing.T) []string {
			file := shop(t, "")
			text, _ := os.ReadFile(file)
			return []string{write(t, "shop.sd.yaml", string(text)+"rollout:\n  canary:\n    steps: [10]\n    weightFlag: shop-canary\n"), "--version", "1.0.0", "--bake", "0s"}
		}, "--flags"},
		{"payments without --flags", func(t *testing.T) []string {
			return []string{payments, "--version", "1.0.0", "--bake", "0s"}
		}, "--flags"},
		{"bad --bake", func(t *testing.T) []string {
			return []string{shop(t, ""), "--version", "1.0.0", "--bake", "soon"}
		}, `--bake "soon"`},
		{"negative --bake", func(t *testing.T) []string {
			return []string{shop(t, ""), "--version", "1.0.0", "--bake", "-1m"}
		}, `--bake "-1m"`},
		{"no --version", func(t *testing.T) []string { return []string{shop(t, "")} }, "--version is required"},
		{"bad --output", func(t *testing.T) []string {
			return []string{shop(t, ""), "--version", "1", "--output", "yaml"}
		}, `invalid value "yaml" for --output`},
		{"unknown --approve stage", func(t *testing.T) []string {
			return []string{shop(t, ""), "--version", "1", "--approve", "prd"}
		}, `did you mean "prod"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "shop")
			if strings.Contains(tc.name, "payments") {
				h = newHarness(t, "payments")
			}
			r := h.run(t, tc.args(t)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want 2 with %q\nstdout %s\nstderr %s", r.code, tc.want, r.stdout, r.stderr)
			}
			if len(h.b.CallsOf("apply")) != 0 || len(h.b.CallsOf("lock")) != 0 {
				t.Errorf("touched the backend: %+v", h.b.Calls())
			}
		})
	}
}

// examples/payments end to end over fakes: gate and halt read from a flag
// file named by GANTRY_FLAGS in the Factory's environment, every stage
// with prod approved.
func TestDeployPaymentsWithFlagFile(t *testing.T) {
	t.Parallel()
	flags := write(t, "flags.json", `{"flags": {
  "payments-deploy-gate": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"},
  "deploy-halt": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}
}}`)
	h := newHarness(t, "payments")
	h.env["GANTRY_FLAGS"] = "file:" + flags
	r := h.run(t, payments, "--version", "1.4.2", "--approve", "prod", "--bake", "0s", "--output", "json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	d := decode(t, r.stdout)
	if d.Result != "succeeded" || len(d.Regions) != 1+2+6 {
		t.Errorf("JSON %s", r.stdout)
	}
	if got := h.applied("prod"); len(got) != 6 {
		t.Errorf("prod applied in %v", got)
	}
}
