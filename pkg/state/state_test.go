package state_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gantryhq/gantry/internal/emulatortest"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/rollout"
	"github.com/gantryhq/gantry/pkg/state"
)

var emu *emulatortest.Emulator

func TestMain(m *testing.M) {
	e, stop, err := emulatortest.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	emu = e
	code := m.Run()
	stop()
	os.Exit(code)
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	ctx   context.Context
	db    *dynamodb.Client
	store *state.Store
	clock *clock
	calls *awsx.CallCounter
	table string
}

// newEnv gives each test its own table, created, and a store on it with a
// test clock.
func newEnv(t *testing.T) *env {
	t.Helper()
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cfg := emu.Config(t, "us-east-1")
	calls := awsx.NewCallCounter()
	calls.Attach(&cfg)
	db := dynamodb.NewFromConfig(cfg)
	table := "state-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	s := state.New(db, table)
	c := &clock{t: time.Date(2026, 8, 28, 10, 0, 0, 0, time.UTC)}
	s.Now = c.Now
	if err := s.EnsureTable(ctx); err != nil {
		t.Fatalf("EnsureTable: %v", err)
	}
	return &env{ctx: ctx, db: db, store: s, clock: c, calls: calls, table: table}
}

func TestEnsureTableIsIdempotentAndChecksKeys(t *testing.T) {
	e := newEnv(t)
	out, err := e.db.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Table.TableStatus != types.TableStatusActive {
		t.Errorf("status = %s", out.Table.TableStatus)
	}
	if bm := out.Table.BillingModeSummary; bm == nil || bm.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing = %+v; want on-demand", bm)
	}
	e.calls.Reset()
	if err := e.store.EnsureTable(e.ctx); err != nil {
		t.Fatalf("second EnsureTable: %v", err)
	}
	if got := e.calls.Snapshot(); got["DynamoDB.CreateTable"] != 0 || got["DynamoDB.DescribeTable"] != 1 {
		t.Errorf("second EnsureTable made calls %v; want one DescribeTable", got)
	}

	_, err = e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("not-gantry"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := state.New(e.db, "not-gantry").EnsureTable(e.ctx); err == nil || !strings.Contains(err.Error(), "not a gantry state table") {
		t.Errorf("EnsureTable on a foreign table: err = %v", err)
	}
	if got := state.New(e.db, "").Table(); got != state.DefaultTable {
		t.Errorf("default table = %q", got)
	}
}

func req(rollout string) state.LockRequest {
	return state.LockRequest{Service: "payments", Stage: "prod", Owner: "user-" + rollout + "@host pid 1", RolloutID: rollout, Version: "v-" + rollout, TTL: 5 * time.Minute}
}

func TestLockLifecycle(t *testing.T) {
	e := newEnv(t)
	s := e.store

	if info, err := s.Lock(e.ctx, "payments", "prod"); err != nil || info != nil {
		t.Fatalf("Lock before any = %+v, %v; want nil", info, err)
	}
	a, err := s.Acquire(e.ctx, req("A"))
	if err != nil {
		t.Fatalf("Acquire A: %v", err)
	}
	if want := e.clock.Now().Add(5 * time.Minute); !a.ExpiresAt().Equal(want) {
		t.Errorf("A expires %v; want %v", a.ExpiresAt(), want)
	}

	// A second rollout is refused at once, naming the holder.
	e.clock.Add(time.Minute)
	_, err = s.Acquire(e.ctx, req("B"))
	var locked *state.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("Acquire B while A holds: err = %v; want *LockedError", err)
	}
	if locked.Holder != "user-A@host pid 1" || locked.RolloutID != "A" || !locked.Expires.Equal(a.ExpiresAt()) || locked.Remaining != 4*time.Minute {
		t.Errorf("LockedError = %+v", locked)
	}
	for _, want := range []string{"payments/prod is locked by user-A@host pid 1", "rollout A", "2026-08-28T10:05:00Z", "in 4m0s", "gantry unlock", "--stage prod"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}

	// The same rollout (resumed) takes it again; another stage is separate.
	if _, err := s.Acquire(e.ctx, req("A")); err != nil {
		t.Errorf("re-Acquire by the holder: %v", err)
	}
	other := req("B")
	other.Stage = "staging"
	if _, err := s.Acquire(e.ctx, other); err != nil {
		t.Errorf("Acquire of another stage: %v", err)
	}

	// Heartbeat extends the lease.
	e.clock.Add(3 * time.Minute)
	if err := a.Heartbeat(e.ctx); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
	info, err := s.Lock(e.ctx, "payments", "prod")
	if err != nil || info == nil {
		t.Fatalf("Lock = %+v, %v", info, err)
	}
	if want := e.clock.Now().Add(5 * time.Minute); !info.ExpiresAt.Equal(want) || !a.ExpiresAt().Equal(want) || !info.HeartbeatAt.Equal(e.clock.Now()) {
		t.Errorf("after heartbeat: stored expiry %v heartbeat %v, lease %v; want expiry %v", info.ExpiresAt, info.HeartbeatAt, a.ExpiresAt(), want)
	}
	e.clock.Add(4 * time.Minute) // past the original expiry, within the renewed one
	if _, err := s.Acquire(e.ctx, req("B")); !errors.As(err, &locked) {
		t.Fatalf("Acquire B after A's heartbeat: err = %v; want locked", err)
	}

	// An expired lease can be taken; the old holder then learns it lost.
	e.clock.Add(2 * time.Minute)
	if info, _ := s.Lock(e.ctx, "payments", "prod"); info == nil || !info.Expired {
		t.Errorf("Lock after expiry = %+v; want Expired", info)
	}
	b, err := s.Acquire(e.ctx, req("B"))
	if err != nil {
		t.Fatalf("Acquire B after A expired: %v", err)
	}
	if err := a.Heartbeat(e.ctx); !errors.Is(err, state.ErrLeaseLost) || !strings.Contains(err.Error(), "rollout B") {
		t.Errorf("A's heartbeat after B took over: err = %v; want ErrLeaseLost naming B", err)
	}
	if err := a.Release(e.ctx); !errors.Is(err, state.ErrLeaseLost) {
		t.Errorf("A's release after B took over: err = %v; want ErrLeaseLost", err)
	}
	if info, _ := s.Lock(e.ctx, "payments", "prod"); info == nil || info.RolloutID != "B" {
		t.Fatalf("A's release removed B's lock: %+v", info)
	}

	// Release frees it; releasing again is fine.
	if err := b.Release(e.ctx); err != nil {
		t.Fatalf("Release B: %v", err)
	}
	if info, _ := s.Lock(e.ctx, "payments", "prod"); info != nil {
		t.Errorf("after release Lock = %+v", info)
	}
	if err := b.Release(e.ctx); err != nil {
		t.Errorf("second Release: %v", err)
	}

	// Break removes whoever holds it.
	c, err := s.Acquire(e.ctx, req("C"))
	if err != nil {
		t.Fatal(err)
	}
	broken, err := s.BreakLock(e.ctx, "payments", "prod")
	if err != nil || broken == nil || broken.RolloutID != "C" || broken.Owner != "user-C@host pid 1" || broken.Version != "v-C" {
		t.Fatalf("BreakLock = %+v, %v; want C's lock", broken, err)
	}
	if err := c.Heartbeat(e.ctx); !errors.Is(err, state.ErrLeaseLost) || !strings.Contains(err.Error(), "broken") {
		t.Errorf("heartbeat after break: err = %v", err)
	}
	if broken, err := s.BreakLock(e.ctx, "payments", "prod"); err != nil || broken != nil {
		t.Errorf("BreakLock of a free lock = %+v, %v; want nil", broken, err)
	}
}

// Of many rollouts racing for the lock, exactly one gets it.
func TestLockIsExclusiveUnderRace(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for i := range 8 {
		wg.Go(func() {
			_, err := e.store.Acquire(e.ctx, req(fmt.Sprintf("R%d", i)))
			var locked *state.LockedError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.As(err, &locked):
				lost++
			default:
				t.Errorf("Acquire R%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if won != 1 || lost != 7 {
		t.Fatalf("won %d, lost %d; want exactly one winner", won, lost)
	}
}

func TestKeepAliveRenewsAndReportsLoss(t *testing.T) {
	e := newEnv(t)
	lease, err := e.store.Acquire(e.ctx, req("K"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	errc := state.KeepAlive(ctx, lease, 20*time.Millisecond)

	e.clock.Add(10 * time.Minute)
	want := e.clock.Now().Add(5 * time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for !lease.ExpiresAt().Equal(want) {
		if time.Now().After(deadline) {
			t.Fatalf("KeepAlive did not renew: lease expires %v, want %v", lease.ExpiresAt(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := e.store.BreakLock(e.ctx, "payments", "prod"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, state.ErrLeaseLost) {
			t.Fatalf("KeepAlive reported %v; want ErrLeaseLost", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("KeepAlive did not report the broken lock")
	}
	if _, open := <-errc; open {
		t.Error("KeepAlive's channel not closed after it stopped")
	}

	// Stopping by ctx closes the channel without an error.
	lease2, err := e.store.Acquire(e.ctx, req("L"))
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(e.ctx)
	errc2 := state.KeepAlive(ctx2, lease2, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	cancel2()
	select {
	case err, open := <-errc2:
		if open {
			t.Errorf("KeepAlive sent %v after ctx ended; want the channel closed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("KeepAlive did not stop with its context")
	}
}

func TestJournalOrderAndResume(t *testing.T) {
	e := newEnv(t)
	s := e.store
	// Two rollouts interleaved, more than nine entries (zero-padded keys).
	for i := 1; i <= 12; i++ {
		e.clock.Add(time.Second)
		if err := s.Append(e.ctx, state.Entry{Service: "payments", Stage: "prod", RolloutID: "R1", Region: "us-east-1", Step: "step", Status: "ok", Message: fmt.Sprintf("r1 %d", i)}); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			if err := s.Append(e.ctx, state.Entry{Service: "payments", Stage: "prod", RolloutID: "R2", Message: fmt.Sprintf("r2 %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Append(e.ctx, state.Entry{Service: "payments", Stage: "prod", RolloutID: "R1", Step: "bake", Message: "bake override", Attrs: map[string]string{"bakeOverride": "0s"}}); err != nil {
		t.Fatal(err)
	}

	// A new process (fresh Store) continues R1's numbering.
	s2 := state.New(e.db, e.table)
	if err := s2.Append(e.ctx, state.Entry{Service: "payments", Stage: "prod", RolloutID: "R1", Message: "resumed"}); err != nil {
		t.Fatal(err)
	}
	entries, err := s.Journal(e.ctx, "payments", "prod", "R1")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 14 {
		t.Fatalf("R1 has %d entries; want 14", len(entries))
	}
	for i, en := range entries {
		if en.Seq != i+1 || en.RolloutID != "R1" {
			t.Fatalf("entry %d = seq %d rollout %s; want seq %d of R1", i, en.Seq, en.RolloutID, i+1)
		}
		if i < 12 && en.Message != fmt.Sprintf("r1 %d", i+1) {
			t.Errorf("entry %d message %q", i, en.Message)
		}
	}
	if first := entries[0]; first.Region != "us-east-1" || first.Status != "ok" || !first.Time.Equal(time.Date(2026, 8, 28, 10, 0, 1, 0, time.UTC)) {
		t.Errorf("first entry = %+v", first)
	}
	if got := entries[12].Attrs["bakeOverride"]; got != "0s" {
		t.Errorf("attrs = %v", entries[12].Attrs)
	}
	if entries[13].Message != "resumed" {
		t.Errorf("last = %+v", entries[13])
	}
	all, err := s.Journal(e.ctx, "payments", "prod", "")
	if err != nil || len(all) != 17 {
		t.Fatalf("all entries: %d, %v; want 17", len(all), err)
	}
	// An explicit sequence number never overwrites.
	err = s.Append(e.ctx, state.Entry{Service: "payments", Stage: "prod", RolloutID: "R2", Seq: 1, Message: "dup"})
	if err == nil {
		t.Error("Append with a used Seq: want an error")
	}
	if err := s.Append(e.ctx, state.Entry{Service: "pay#ments", Stage: "prod", RolloutID: "R1"}); err == nil {
		t.Error("Append with '#' in the service: want an error")
	}
}

func TestConcurrentAppendsAreAllKept(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if err := e.store.Append(e.ctx, state.Entry{Service: "svc", Stage: "dev", RolloutID: "R", Region: fmt.Sprintf("r%d", i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	entries, err := e.store.Journal(e.ctx, "svc", "dev", "R")
	if err != nil {
		t.Fatal(err)
	}
	var regions []string
	for i, en := range entries {
		if en.Seq != i+1 {
			t.Errorf("entry %d has seq %d", i, en.Seq)
		}
		regions = append(regions, en.Region)
	}
	slices.Sort(regions)
	if len(regions) != 10 || len(slices.Compact(regions)) != 10 {
		t.Errorf("regions = %v; want 10 distinct entries", regions)
	}
}

func TestRollouts(t *testing.T) {
	e := newEnv(t)
	s := e.store
	if r, err := s.LatestRollout(e.ctx, "payments", "prod"); err != nil || r != nil {
		t.Fatalf("LatestRollout before any = %+v, %v", r, err)
	}
	id1 := rollout.NewID(e.clock.Now())
	if err := s.PutRollout(e.ctx, state.Rollout{Service: "payments", Stage: "prod", ID: id1, Version: "v1", Status: state.RolloutSucceeded, Owner: "ci",
		Regions: map[string]string{"us-east-1": "deployed"}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	id2 := rollout.NewID(e.clock.Now())
	if id2 <= id1 {
		t.Fatalf("rollout IDs do not sort by time: %q then %q", id1, id2)
	}
	r2 := state.Rollout{Service: "payments", Stage: "prod", ID: id2, Version: "v2", Status: state.RolloutRunning, Regions: map[string]string{"us-east-1": "pending", "eu-west-1": "pending"}}
	if err := s.PutRollout(e.ctx, r2); err != nil {
		t.Fatal(err)
	}
	started := e.clock.Now()
	e.clock.Add(time.Minute)
	r2.StartedAt = started
	r2.Status = state.RolloutHeld
	r2.HeldReason = "gate payments-deploy-gate is closed for eu-west-1"
	r2.Regions["us-east-1"] = "deployed"
	r2.Regions["eu-west-1"] = "held"
	if err := s.PutRollout(e.ctx, r2); err != nil {
		t.Fatal(err)
	}
	got, err := s.LatestRollout(e.ctx, "payments", "prod")
	if err != nil || got == nil {
		t.Fatalf("LatestRollout = %+v, %v", got, err)
	}
	if got.ID != id2 || got.Version != "v2" || got.Status != "held" || got.HeldReason != r2.HeldReason ||
		!maps.Equal(got.Regions, r2.Regions) || !got.StartedAt.Equal(started) || !got.UpdatedAt.Equal(e.clock.Now()) {
		t.Errorf("LatestRollout = %+v", got)
	}
}

func tmpl(t *testing.T, version string) []byte {
	t.Helper()
	// Not canonical JSON on purpose: the bytes must come back exactly.
	return []byte(fmt.Sprintf("{\n  \"Description\": \"payments %s — ünïcode\",\t\"Resources\": {}\n}\n\x00\xff", version))
}

func deployment(t *testing.T, version string, at time.Time) state.Deployment {
	return state.Deployment{
		Service: "payments", Stage: "prod", Region: "eu-west-1", Version: version, Hash: "hash-" + version,
		RolloutID: "R-" + version, DeployedAt: at,
		Stacks: []state.DeployedStack{
			{Name: "payments-prod-data", Kind: "data", Template: tmpl(t, version+"-data"), Parameters: map[string]string{}, Tags: map[string]string{"gantry:hash": "d"}},
			{Name: "payments-prod-app", Kind: "app", Template: tmpl(t, version+"-app"), Parameters: map[string]string{"ListenerRulePriority": "12", "ImageTag": version}, Tags: map[string]string{"gantry:version": version}},
		},
	}
}

func TestDeploymentsRoundTripAndLookups(t *testing.T) {
	e := newEnv(t)
	s := e.store
	if d, err := s.LatestDeployment(e.ctx, "payments", "prod", "eu-west-1"); err != nil || d != nil {
		t.Fatalf("LatestDeployment before any = %+v, %v", d, err)
	}
	t0 := time.Date(2026, 8, 28, 10, 0, 0, 0, time.UTC) // a whole second: must still sort before t0+0.5s
	saved := []state.Deployment{
		deployment(t, "v1", t0),
		deployment(t, "v2", t0.Add(500*time.Millisecond)),
		deployment(t, "v2", t0.Add(time.Hour)), // redeployed (a rollback to v2)
		deployment(t, "v3", t0.Add(2*time.Hour)),
	}
	for _, d := range saved {
		if err := s.SaveDeployment(e.ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	other := deployment(t, "v9", t0.Add(3*time.Hour))
	other.Region = "us-east-1"
	if err := s.SaveDeployment(e.ctx, other); err != nil {
		t.Fatal(err)
	}

	check := func(what string, got *state.Deployment, err error, want state.Deployment) {
		t.Helper()
		if err != nil || got == nil {
			t.Fatalf("%s = %+v, %v", what, got, err)
		}
		if got.Version != want.Version || !got.DeployedAt.Equal(want.DeployedAt) || got.Hash != want.Hash || got.RolloutID != want.RolloutID ||
			got.Service != want.Service || got.Stage != want.Stage || got.Region != want.Region {
			t.Fatalf("%s = %s at %v; want %s at %v", what, got.Version, got.DeployedAt, want.Version, want.DeployedAt)
		}
		if len(got.Stacks) != len(want.Stacks) {
			t.Fatalf("%s has %d stacks", what, len(got.Stacks))
		}
		for i := range want.Stacks {
			g, w := got.Stacks[i], want.Stacks[i]
			if g.Name != w.Name || g.Kind != w.Kind || !bytes.Equal(g.Template, w.Template) || !maps.Equal(g.Parameters, w.Parameters) || !maps.Equal(g.Tags, w.Tags) {
				t.Errorf("%s stack %d = %+v; want %+v", what, i, g, w)
			}
		}
	}
	d, err := s.LatestDeployment(e.ctx, "payments", "prod", "eu-west-1")
	check("latest", d, err, saved[3])
	d, err = s.PreviousDeployment(e.ctx, "payments", "prod", "eu-west-1", "v3")
	check("previous before v3", d, err, saved[2])
	d, err = s.PreviousDeployment(e.ctx, "payments", "prod", "eu-west-1", "v2")
	check("previous not v2", d, err, saved[3])
	d, err = s.GetDeployment(e.ctx, "payments", "prod", "eu-west-1", "v2")
	check("get v2", d, err, saved[2])
	d, err = s.GetDeployment(e.ctx, "payments", "prod", "eu-west-1", "v1")
	check("get v1", d, err, saved[0])
	if d, err := s.GetDeployment(e.ctx, "payments", "prod", "eu-west-1", "v9"); err != nil || d != nil {
		t.Errorf("get v9 in another region's history = %+v, %v; want nil", d, err)
	}
	onlyOne := deployment(t, "v1", t0)
	onlyOne.Stage = "dev"
	if err := s.SaveDeployment(e.ctx, onlyOne); err != nil {
		t.Fatal(err)
	}
	if d, err := s.PreviousDeployment(e.ctx, "payments", "dev", "eu-west-1", "v1"); err != nil || d != nil {
		t.Errorf("previous with only v1 deployed = %+v, %v; want nil", d, err)
	}

	// Within one second, a whole-second time sorts before a fractional one.
	early, late := deployment(t, "w1", t0), deployment(t, "w2", t0.Add(time.Millisecond))
	early.Stage, late.Stage = "staging", "staging"
	for _, d := range []state.Deployment{late, early} {
		if err := s.SaveDeployment(e.ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	d, err = s.LatestDeployment(e.ctx, "payments", "staging", "eu-west-1")
	check("latest within one second", d, err, late)

	// The stored item holds exactly the documented attributes, templates
	// compressed: nothing else (no secret, no environment) sneaks in.
	out, err := e.db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "deploy#payments#prod#eu-west-1"},
		"sk": &types.AttributeValueMemberS{Value: "2026-08-28T10:00:00.000000000Z#v1"},
	}})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("raw item: %v (%d attributes)", err, len(out.Item))
	}
	if got := slices.Sorted(maps.Keys(out.Item)); !slices.Equal(got, []string{"deployedAt", "hash", "pk", "rolloutId", "sk", "stacks", "version"}) {
		t.Errorf("item attributes = %v", got)
	}
	stack := out.Item["stacks"].(*types.AttributeValueMemberL).Value[1].(*types.AttributeValueMemberM).Value
	if got := slices.Sorted(maps.Keys(stack)); !slices.Equal(got, []string{"kind", "name", "parameters", "tags", "template", "templateSha256"}) {
		t.Errorf("stack attributes = %v", got)
	}
	if z := stack["template"].(*types.AttributeValueMemberB).Value; len(z) < 2 || z[0] != 0x1f || z[1] != 0x8b {
		t.Errorf("stored template is not gzip")
	}
}

func TestOversizedDeploymentIsRefused(t *testing.T) {
	e := newEnv(t)
	big := make([]byte, 450*1024)
	_, _ = rand.Read(big) // incompressible
	d := deployment(t, "v1", e.clock.Now())
	d.Stacks[1].Template = big
	e.calls.Reset()
	err := e.store.SaveDeployment(e.ctx, d)
	if err == nil || !strings.Contains(err.Error(), "at most 409600") || !strings.Contains(err.Error(), "v1 of payments/prod/eu-west-1") {
		t.Fatalf("err = %v; want the size limit named", err)
	}
	if n := e.calls.Total(); n != 0 {
		t.Errorf("%d calls for a refused deployment; want none", n)
	}
	// Just under the limit is stored and read back intact.
	d.Stacks[1].Template = big[:380*1024]
	if err := e.store.SaveDeployment(e.ctx, d); err != nil {
		t.Fatalf("380 KiB deployment: %v", err)
	}
	got, err := e.store.GetDeployment(e.ctx, "payments", "prod", "eu-west-1", "v1")
	if err != nil || got == nil || !bytes.Equal(got.Stacks[1].Template, d.Stacks[1].Template) {
		t.Fatalf("380 KiB deployment read back: %v", err)
	}
}

// oldItemless is the real client, except that a failed conditional put
// does not return the old item (as DynamoDB Local and older APIs do).
type oldItemless struct{ *dynamodb.Client }

func (c oldItemless) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := c.Client.PutItem(ctx, in, opts...)
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		failed.Item = nil
	}
	return out, err
}

func TestLockedErrorWithoutOldItemReadsTheHolder(t *testing.T) {
	e := newEnv(t)
	s := state.New(oldItemless{e.db}, e.table)
	s.Now = e.clock.Now
	if _, err := s.Acquire(e.ctx, req("A")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Acquire(e.ctx, req("B"))
	var locked *state.LockedError
	if !errors.As(err, &locked) || locked.Holder != "user-A@host pid 1" || locked.RolloutID != "A" {
		t.Fatalf("err = %v; want a LockedError naming A", err)
	}
}

// lostAnswers sends each PutItem twice and returns the second answer, as
// the SDK's retry of a write whose first answer was lost on the way back.
type lostAnswers struct{ state.API }

func (l lostAnswers) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if _, err := l.API.PutItem(ctx, in, opts...); err != nil {
		return nil, err
	}
	return l.API.PutItem(ctx, in, opts...)
}

// A retried lock or journal write that meets its own first attempt is
// done once: the lock is ours, the entry is written once.
func TestRetriedWritesAfterLostAnswers(t *testing.T) {
	e := newEnv(t)
	s := state.New(lostAnswers{e.db}, e.table)
	s.Now = e.clock.Now
	lease, err := s.Acquire(e.ctx, req("A"))
	if err != nil {
		t.Fatalf("Acquire whose first answer was lost: %v", err)
	}
	if lease.RolloutID != "A" {
		t.Errorf("lease of %q, want A", lease.RolloutID)
	}
	for i := range 3 {
		e.clock.Add(time.Second)
		if err := s.Append(e.ctx, state.Entry{Service: "payments", Stage: "prod", RolloutID: "A", Region: "us-east-1", Step: "step", Status: "ok",
			Message: fmt.Sprintf("entry %d", i), Attrs: map[string]string{"n": fmt.Sprint(i)}}); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	entries, err := s.Journal(e.ctx, "payments", "prod", "A")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range entries {
		got = append(got, fmt.Sprintf("%d %s", en.Seq, en.Message))
	}
	if want := []string{"1 entry 0", "2 entry 1", "3 entry 2"}; !slices.Equal(got, want) {
		t.Errorf("journal %v, want %v (each entry once)", got, want)
	}
}

// The bake of a deployment is recorded on its own record, kept by a
// re-save (a restore), and refused for a record that does not exist.
func TestMarkBaked(t *testing.T) {
	e := newEnv(t)
	s := e.store
	t0 := time.Date(2026, 8, 28, 10, 0, 0, 0, time.UTC)
	d := deployment(t, "v1", t0)
	if err := s.SaveDeployment(e.ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.LatestDeployment(e.ctx, d.Service, d.Stage, d.Region)
	if err != nil || !got.BakedAt.IsZero() {
		t.Fatalf("a new deployment is baked: %+v, %v", got, err)
	}
	baked := t0.Add(30 * time.Minute)
	if err := s.MarkBaked(e.ctx, d.Service, d.Stage, d.Region, d.Version, d.DeployedAt, baked); err != nil {
		t.Fatal(err)
	}
	got, err = s.LatestDeployment(e.ctx, d.Service, d.Stage, d.Region)
	if err != nil || !got.BakedAt.Equal(baked) || len(got.Stacks) != len(d.Stacks) {
		t.Fatalf("after MarkBaked: %+v, %v", got, err)
	}
	again := *got
	again.DeployedAt = t0.Add(time.Hour)
	if err := s.SaveDeployment(e.ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, err = s.LatestDeployment(e.ctx, d.Service, d.Stage, d.Region); err != nil || !got.BakedAt.Equal(baked) {
		t.Fatalf("a re-saved deployment lost its bake: %+v, %v", got, err)
	}
	if err := s.MarkBaked(e.ctx, d.Service, d.Stage, d.Region, "v9", t0, baked); err == nil {
		t.Fatal("MarkBaked of a deployment never recorded succeeded")
	}
}

// Operation times are kept per (service, stage) and kind, the latest
// replacing the one before, in one query for all kinds.
func TestOperationTimes(t *testing.T) {
	e := newEnv(t)
	s := e.store
	if got, err := s.OperationTimes(e.ctx, "payments", "prod"); err != nil || len(got) != 0 {
		t.Fatalf("before any: %v, %v", got, err)
	}
	put := func(stage, kind, region string, took time.Duration) {
		t.Helper()
		if err := s.PutOperationTime(e.ctx, "payments", stage, state.OperationTime{Kind: kind, Took: took, Region: region}); err != nil {
			t.Fatal(err)
		}
	}
	put("prod", "app/CREATE", "us-east-1", 4*time.Minute+1500*time.Millisecond)
	put("prod", "app/UPDATE", "us-east-1", 90*time.Second)
	e.clock.Add(time.Hour)
	put("prod", "app/UPDATE", "eu-west-1", 75*time.Second)
	put("dev", "app/UPDATE", "us-east-1", time.Second)
	before := e.calls.Total()
	got, err := s.OperationTimes(e.ctx, "payments", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if n := e.calls.Total() - before; n != 1 {
		t.Errorf("OperationTimes made %d calls, want 1", n)
	}
	want := map[string]state.OperationTime{
		"app/CREATE": {Kind: "app/CREATE", Took: 4*time.Minute + 1500*time.Millisecond, Region: "us-east-1", At: time.Date(2026, 8, 28, 10, 0, 0, 0, time.UTC)},
		"app/UPDATE": {Kind: "app/UPDATE", Took: 75 * time.Second, Region: "eu-west-1", At: time.Date(2026, 8, 28, 11, 0, 0, 0, time.UTC)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for k, w := range want {
		if g := got[k]; g != w {
			t.Errorf("%s = %+v, want %+v", k, g, w)
		}
	}
	if err := s.PutOperationTime(e.ctx, "payments", "prod", state.OperationTime{Kind: "app/UPDATE"}); err == nil {
		t.Error("a zero duration was saved")
	}
	if err := s.PutOperationTime(e.ctx, "pay#ments", "prod", state.OperationTime{Kind: "app/UPDATE", Took: time.Second}); err == nil {
		t.Error("a key part with # was accepted")
	}
}
