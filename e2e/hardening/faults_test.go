package hardening_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/e2e/proxy"
)

// payments is the example rolled out under faults with
// GANTRY_E2E_PAYMENTS=1: 9 regions in 6 AWS regions, 3 stages in 3
// accounts, waves of 1, 2 and 3 regions (about 4 minutes under faults).
const payments = "examples/payments/payments.sd.yaml"

// allOpen lets every region through the gate of payments and sturdy.
const allOpen = "GANTRY_FLAGS=file:examples/flags/all-open.flagd.json"

// sturdy is the service rolled out under faults by default: a web service
// with a bucket (so a data and an app stack per region), two stages in two
// accounts, four regions in three waves, gated by the payments gate flag
// (open in all-open.flagd.json).
const sturdy = `schemaVersion: 1
service: sturdy
team: e2e
description: gantry e2e service rolled out under faults
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/sturdy
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
  path: /sturdy/*
env:
  FILES_BUCKET: ${resources.files.bucket}
resources:
  files:
    type: s3
    versioning: true
stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1]
  - name: staging
    account: "444455556666"
    waves:
      - regions: [us-east-1, eu-west-1]
      - regions: [us-west-2]
rollout:
  gate: payments-deploy-gate
  halt: deploy-halt
`

// injectFaults puts the faults on every call through p: 200 ms of
// latency, 10% throttling, 2% 5xx (half 500, half 503), 2% of connections
// dropped (half before the emulator saw the call, half after it did the
// work), and on top of those random ones, drops after the work for a share
// of the calls that are not idempotent -- executing and creating change
// sets, and DynamoDB's conditional writes (the lock, the journal) -- so
// that every run meets those hard cases.
func injectFaults(p *proxy.Proxy) {
	p.SetLatency(200*time.Millisecond, 0)
	p.SetThrottles(proxy.Throttle{Fraction: 0.10})
	p.SetServerErrors(
		proxy.ServerError{Fraction: 0.01, Status: 500},
		proxy.ServerError{Fraction: 0.01, Status: 503},
	)
	p.SetDrops(
		proxy.Drop{Operation: "cloudformation:ExecuteChangeSet", Every: 3, When: proxy.AfterForward},
		proxy.Drop{Operation: "cloudformation:CreateChangeSet", Every: 4, When: proxy.AfterForward},
		proxy.Drop{Operation: "dynamodb:PutItem", Every: 8, When: proxy.AfterForward},
		proxy.Drop{Fraction: 0.01, When: proxy.BeforeForward},
		proxy.Drop{Fraction: 0.01, When: proxy.AfterForward},
	)
}

// TestRolloutUnderFaults rolls a service out through all its stages twice
// from nothing: once without faults, then (after a reset) with faults
// injected into every call the rollout makes. The faulty rollout must
// succeed with the same per-region statuses and leave the same end state
// -- stacks, templates, tags, parameters, resources, stack policies,
// change sets, deployment records, journal steps and rollout records.
// The service is sturdy (4 regions, 2 stages), or examples/payments with
// GANTRY_E2E_PAYMENTS=1.
func TestRolloutUnderFaults(t *testing.T) {
	service, file, extra := "sturdy", "", []string(nil)
	if os.Getenv("GANTRY_E2E_PAYMENTS") != "" {
		service, file, extra = "payments", payments, []string{"--approve", "prod"}
	}
	const version = "2.0.0"

	clean := newEnv(t, allOpen)
	if file == "" {
		file = filepath.Join(t.TempDir(), "sturdy.sd.yaml")
		if err := os.WriteFile(file, []byte(sturdy), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := e2etest.LoadPlan(t, file)
	clean.bootstrap(file)
	want, _ := clean.deploy(0, file, version, extra...)
	wantSnap := takeSnapshot(t, p, service)
	calls := e2etest.Total(clean.proxy.Counts())

	e := newEnv(t, allOpen)
	e.bootstrap(file)
	injectFaults(e.proxy)
	got, r := e.deploy(0, file, version, extra...)
	logFaults(t, e.proxy, calls)

	if got.Result != "succeeded" {
		t.Errorf("result %q under faults, want succeeded", got.Result)
	}
	if w, g := want.Statuses(), got.Statuses(); !maps.Equal(w, g) {
		t.Errorf("per-region statuses under faults:\n got %v\nwant %v (without faults)", g, w)
	}
	for _, rr := range got.Regions {
		w := want.Region(t, rr.Stage, rr.Region)
		if fmt.Sprint(rr.Stacks) != fmt.Sprint(w.Stacks) {
			t.Errorf("%s: stacks under faults %+v, want %+v", rr.Key(), rr.Stacks, w.Stacks)
		}
	}
	gotSnap := takeSnapshot(t, p, service)
	if d := diff(wantSnap, gotSnap); len(d) > 0 {
		t.Errorf("the end state under faults differs from the fault-free run in %d places:\n%s\n--- stderr\n%s",
			len(d), strings.Join(d, "\n"), e2etest.Tail(r.Stderr, 40))
	}
	t.Logf("end state compared: %d stacks and state items, all equal: %t", len(wantSnap), !t.Failed())

	// The hard cases happened: a call that was done upstream and whose
	// answer was lost, for each kind of write that is not idempotent.
	late := e.proxy.Dropped(proxy.AfterForward)
	for _, op := range []string{"cloudformation:ExecuteChangeSet", "cloudformation:CreateChangeSet", "dynamodb:PutItem"} {
		if late[op] == 0 {
			t.Errorf("no %s was dropped after forwarding: the test did not exercise that case", op)
		}
	}
}

// logFaults records what the proxy injected, against the calls the
// fault-free run needed.
func logFaults(t *testing.T, p *proxy.Proxy, cleanCalls int) {
	t.Helper()
	requests := e2etest.Total(p.Counts())
	throttled, failed := p.Throttled(), p.ServerErrors()
	early, late := p.Dropped(proxy.BeforeForward), p.Dropped(proxy.AfterForward)
	t.Logf("requests: %d under faults, %d without (seed 1, 200 ms latency each)", requests, cleanCalls)
	t.Logf("injected: %d throttled, %d 5xx, %d dropped before forwarding, %d dropped after forwarding",
		e2etest.Total(throttled), e2etest.Total(failed), e2etest.Total(early), e2etest.Total(late))
	t.Logf("  throttled: %s", e2etest.FormatOps(throttled))
	t.Logf("  5xx: %s", e2etest.FormatOps(failed))
	t.Logf("  dropped before: %s", e2etest.FormatOps(early))
	t.Logf("  dropped after: %s", e2etest.FormatOps(late))
}
