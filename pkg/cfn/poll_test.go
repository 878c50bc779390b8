package cfn

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

func TestBackoffScheduleWithoutJitter(t *testing.T) {
	next := DefaultBackoff().schedule(func() float64 { return 0.5 })
	want := []float64{250, 375, 562.5, 843.75, 1265.625, 1898.4375, 2847.65625, 4271.484375, 5000, 5000, 5000}
	for i, ms := range want {
		got := next()
		w := time.Duration(ms * float64(time.Millisecond))
		if got != w {
			t.Fatalf("delay %d = %v, want %v", i, got, w)
		}
	}
}

func TestBackoffJitterStaysWithinTwentyPercent(t *testing.T) {
	b := DefaultBackoff()
	r := rand.New(rand.NewPCG(1, 2))
	lo, hi := time.Hour, time.Duration(0)
	for range 200 {
		next := b.schedule(r.Float64)
		first := next()
		lo, hi = min(lo, first), max(hi, first)
		for range 20 {
			d := next()
			if d < 200*time.Millisecond || d > 6*time.Second {
				t.Fatalf("delay %v outside [200ms, 6s]", d)
			}
		}
	}
	if lo < 200*time.Millisecond || hi > 300*time.Millisecond || hi-lo < 80*time.Millisecond {
		t.Fatalf("first delays span [%v, %v]; want 250ms ±20%% and actually jittered", lo, hi)
	}
	// The extremes of the random source give exactly ±20% at the cap.
	for _, c := range []struct {
		r    float64
		want time.Duration
	}{{0, 4 * time.Second}, {1, 6 * time.Second}} {
		next := b.schedule(func() float64 { return c.r })
		var d time.Duration
		for range 15 {
			d = next()
		}
		if d != c.want {
			t.Errorf("capped delay with random %v = %v, want %v", c.r, d, c.want)
		}
	}
}

// fakeClock is a virtual clock: sleeping advances it instantly.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// fakeCFN is an in-memory CloudFormation with one stack, for the driver's
// polling logic: the stack settles when the clock passes doneAt.
type fakeCFN struct {
	mu    sync.Mutex
	clock *fakeClock
	calls map[string]int

	stackID, stackName string
	status             string // while running
	finalStatus        string // once the clock passes doneAt
	doneAt             time.Time
	events             []types.StackEvent // newest first
	pageSize           int

	executeErr      error
	cancelled       bool
	changeSetStatus types.ChangeSetStatus
	changeSetReason string
	changes         [][]types.Change // pages

	onDescribeCall func(n int) // called with the DescribeStacks call's number before answering
	throttleUntil  time.Time   // DescribeStacks is throttled until then
	updateInput    *cloudformation.UpdateStackInput
	parameters     []types.Parameter
	tags           []types.Tag
}

func newFake(clock *fakeClock) *fakeCFN {
	return &fakeCFN{
		clock:     clock,
		calls:     map[string]int{},
		stackID:   "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1",
		stackName: "app",
		pageSize:  3,
	}
}

func (f *fakeCFN) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// addEvent prepends an event (newest first, as the API lists them).
func (f *fakeCFN) addEvent(id, logical, typ, status, reason string) {
	f.events = append([]types.StackEvent{{
		EventId:              aws.String(id),
		StackId:              aws.String(f.stackID),
		StackName:            aws.String(f.stackName),
		LogicalResourceId:    aws.String(logical),
		PhysicalResourceId:   aws.String(map[bool]string{true: f.stackID, false: "phys-" + logical}[logical == f.stackName]),
		ResourceType:         aws.String(typ),
		ResourceStatus:       types.ResourceStatus(status),
		ResourceStatusReason: aws.String(reason),
		Timestamp:            aws.Time(f.clock.Now()),
	}}, f.events...)
}

func (f *fakeCFN) currentStatus() string {
	if !f.doneAt.IsZero() && !f.clock.Now().Before(f.doneAt) {
		return f.finalStatus
	}
	return f.status
}

func (f *fakeCFN) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	f.mu.Lock()
	f.calls["DescribeStacks"]++
	n := f.calls["DescribeStacks"]
	hook := f.onDescribeCall
	f.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clock.Now().Before(f.throttleUntil) {
		f.calls["DescribeStacks:throttled"]++
		return nil, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded", Fault: smithy.FaultClient}
	}
	if f.status == "" {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: fmt.Sprintf("Stack with id %s does not exist", aws.ToString(in.StackName))}
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []types.Stack{{
		StackId: aws.String(f.stackID), StackName: aws.String(f.stackName),
		StackStatus: types.StackStatus(f.currentStatus()), CreationTime: aws.Time(time.Unix(0, 0)),
		Parameters: f.parameters, Tags: f.tags,
	}}}, nil
}

func (f *fakeCFN) DescribeStackEvents(_ context.Context, in *cloudformation.DescribeStackEventsInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["DescribeStackEvents"]++
	start := 0
	if in.NextToken != nil {
		fmt.Sscan(aws.ToString(in.NextToken), &start)
	}
	end := min(start+f.pageSize, len(f.events))
	out := &cloudformation.DescribeStackEventsOutput{StackEvents: append([]types.StackEvent(nil), f.events[start:end]...)}
	if end < len(f.events) {
		out.NextToken = aws.String(fmt.Sprint(end))
	}
	return out, nil
}

func (f *fakeCFN) CreateChangeSet(_ context.Context, in *cloudformation.CreateChangeSetInput, _ ...func(*cloudformation.Options)) (*cloudformation.CreateChangeSetOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["CreateChangeSet:"+string(in.ChangeSetType)]++
	return &cloudformation.CreateChangeSetOutput{Id: aws.String("cs-arn"), StackId: aws.String(f.stackID)}, nil
}

func (f *fakeCFN) DescribeChangeSet(_ context.Context, in *cloudformation.DescribeChangeSetInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeChangeSetOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["DescribeChangeSet"]++
	out := &cloudformation.DescribeChangeSetOutput{Status: f.changeSetStatus, StatusReason: aws.String(f.changeSetReason)}
	page := 0
	if in.NextToken != nil {
		fmt.Sscan(aws.ToString(in.NextToken), &page)
	}
	if page < len(f.changes) {
		out.Changes = f.changes[page]
		if page+1 < len(f.changes) {
			out.NextToken = aws.String(fmt.Sprint(page + 1))
		}
	}
	return out, nil
}

func (f *fakeCFN) ExecuteChangeSet(context.Context, *cloudformation.ExecuteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.ExecuteChangeSetOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["ExecuteChangeSet"]++
	return &cloudformation.ExecuteChangeSetOutput{}, f.executeErr
}

func (f *fakeCFN) DeleteChangeSet(context.Context, *cloudformation.DeleteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteChangeSetOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["DeleteChangeSet"]++
	return &cloudformation.DeleteChangeSetOutput{}, nil
}

func (f *fakeCFN) DeleteStack(context.Context, *cloudformation.DeleteStackInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["DeleteStack"]++
	f.status, f.finalStatus, f.doneAt = "DELETE_IN_PROGRESS", "DELETE_COMPLETE", f.clock.Now().Add(3*time.Second)
	return &cloudformation.DeleteStackOutput{}, nil
}

func (f *fakeCFN) CancelUpdateStack(context.Context, *cloudformation.CancelUpdateStackInput, ...func(*cloudformation.Options)) (*cloudformation.CancelUpdateStackOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["CancelUpdateStack"]++
	f.cancelled = true
	f.addEvent(fmt.Sprintf("e-cancel-%d", len(f.events)), f.stackName, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
	f.status, f.finalStatus, f.doneAt = "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE", f.clock.Now().Add(10*time.Second)
	return &cloudformation.CancelUpdateStackOutput{}, nil
}

func (f *fakeCFN) UpdateStack(_ context.Context, in *cloudformation.UpdateStackInput, _ ...func(*cloudformation.Options)) (*cloudformation.UpdateStackOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["UpdateStack"]++
	f.updateInput = in
	f.status, f.finalStatus, f.doneAt = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", f.clock.Now().Add(4*time.Second)
	return &cloudformation.UpdateStackOutput{StackId: aws.String(f.stackID)}, nil
}

func (f *fakeCFN) UpdateTerminationProtection(context.Context, *cloudformation.UpdateTerminationProtectionInput, ...func(*cloudformation.Options)) (*cloudformation.UpdateTerminationProtectionOutput, error) {
	return nil, errors.New("not in the fake")
}

func (f *fakeCFN) SetStackPolicy(context.Context, *cloudformation.SetStackPolicyInput, ...func(*cloudformation.Options)) (*cloudformation.SetStackPolicyOutput, error) {
	return nil, errors.New("not in the fake")
}

func (f *fakeCFN) GetStackPolicy(context.Context, *cloudformation.GetStackPolicyInput, ...func(*cloudformation.Options)) (*cloudformation.GetStackPolicyOutput, error) {
	return nil, errors.New("not in the fake")
}

func (f *fakeCFN) ListImports(context.Context, *cloudformation.ListImportsInput, ...func(*cloudformation.Options)) (*cloudformation.ListImportsOutput, error) {
	return nil, errors.New("not in the fake")
}

func newFakeClient(f *fakeCFN) *Client {
	c := New(f)
	c.sleep = f.clock.sleep
	c.random = func() float64 { return 0.5 }
	c.now = f.clock.Now
	return c
}

func updateChangeSet(f *fakeCFN) *ChangeSet {
	return &ChangeSet{ID: "cs-arn", StackName: f.stackName, StackID: f.stackID, Type: "UPDATE"}
}

// A stack that settles at time T is noticed soon after: within about a
// second while T is under ~2 s, and within one capped interval later on.
func TestFinishedStackIsNoticedQuickly(t *testing.T) {
	for _, after := range []time.Duration{0, 100 * time.Millisecond, 700 * time.Millisecond, 1500 * time.Millisecond, 2500 * time.Millisecond, 10 * time.Second, 5 * time.Minute} {
		clock := &fakeClock{now: time.Unix(1000, 0)}
		f := newFake(clock)
		f.status, f.finalStatus = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"
		start := clock.Now()
		f.doneAt = start.Add(after)
		c := newFakeClient(f)
		res, err := c.Execute(context.Background(), updateChangeSet(f), nil)
		if err != nil || res.Status != "UPDATE_COMPLETE" {
			t.Fatalf("after %v: %+v, %v", after, res, err)
		}
		lag := clock.Now().Sub(f.doneAt)
		limit := time.Second
		if after > 2*time.Second {
			limit = 6 * time.Second // one capped poll interval, jitter included
		}
		if lag > limit {
			t.Errorf("stack done after %v noticed %v late; want at most %v", after, lag, limit)
		}
		t.Logf("done after %v: noticed %v late, %d events + %d describe calls", after, lag, f.count("DescribeStackEvents"), f.count("DescribeStacks"))
	}
}

// A 50-minute update costs few calls.
func TestLongUpdateCostsFewCalls(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status, f.finalStatus = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"
	f.doneAt = clock.Now().Add(50 * time.Minute)
	c := newFakeClient(f)
	res, err := c.Execute(context.Background(), updateChangeSet(f), nil)
	if err != nil || res.Status != "UPDATE_COMPLETE" {
		t.Fatalf("%+v, %v", res, err)
	}
	events, describes := f.count("DescribeStackEvents"), f.count("DescribeStacks")
	t.Logf("50-minute update: %d DescribeStackEvents, %d DescribeStacks", events, describes)
	if events > 660 || describes > 660 {
		t.Errorf("50-minute update took %d event and %d describe calls; want at most 660 each (one per 5 s, and the first minute's denser polls)", events, describes)
	}
}

// Events are streamed once each, oldest first, only from after the
// execution, across pages and across polls.
func TestEventsDeduplicatedAcrossPagesAndPolls(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status, f.finalStatus = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"
	f.doneAt = clock.Now().Add(time.Hour) // ends by its events below
	// History from an earlier deploy: never streamed.
	f.addEvent("old-1", "app", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "")
	f.addEvent("old-2", "Db", "AWS::RDS::DBInstance", "CREATE_FAILED", "old failure")
	f.addEvent("old-3", "app", "AWS::CloudFormation::Stack", "CREATE_COMPLETE", "")
	// Polls add new events; several at once so that they span pages of
	// 3. Events are read when the status changes (the rollback) and at
	// the end, so the first two batches come in one read.
	next := 0
	add := func(logical, typ, status, reason string) {
		next++
		f.addEvent(fmt.Sprintf("new-%02d", next), logical, typ, status, reason)
	}
	f.onDescribeCall = func(n int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch n {
		case 2:
			add("app", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", "User Initiated")
			add("Svc", "AWS::ECS::Service", "UPDATE_IN_PROGRESS", "")
			add("Task", "AWS::ECS::TaskDefinition", "UPDATE_IN_PROGRESS", "")
			add("Task", "AWS::ECS::TaskDefinition", "UPDATE_COMPLETE", "")
			add("Role", "AWS::IAM::Role", "UPDATE_IN_PROGRESS", "")
		case 4:
			add("Svc", "AWS::ECS::Service", "UPDATE_FAILED", "Resource handler returned message: circuit breaker")
			add("Role", "AWS::IAM::Role", "UPDATE_FAILED", "Resource update cancelled")
			add("app", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: [Svc].")
			f.status = "UPDATE_ROLLBACK_IN_PROGRESS"
		case 6:
			add("app", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", "")
			f.finalStatus, f.doneAt = "UPDATE_ROLLBACK_COMPLETE", clock.now
		}
	}
	c := newFakeClient(f)
	var got []string
	res, err := c.Execute(context.Background(), updateChangeSet(f), func(e Event) { got = append(got, e.ID) })
	if err != nil {
		t.Fatal(err)
	}
	// The start announced (no ID), then CloudFormation's events but its
	// own record of the start (new-01).
	want := []string{""}
	for i := 2; i <= next; i++ {
		want = append(want, fmt.Sprintf("new-%02d", i))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("streamed %v; want %v", got, want)
	}
	if !res.Failed || res.Status != "UPDATE_ROLLBACK_COMPLETE" {
		t.Fatalf("result = %+v", res)
	}
	// The cancelled sibling is noise next to the real failure.
	if len(res.Reasons) != 1 || res.Reasons[0].LogicalID != "Svc" || !strings.Contains(res.Reasons[0].Reason, "circuit breaker") {
		t.Errorf("reasons = %+v; want only Svc's failure", res.Reasons)
	}
}

// Cancelling ctx during an update cancels it in CloudFormation and waits
// for the rollback before returning ctx's error.
func TestCancelledUpdateRollsBack(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status = "UPDATE_IN_PROGRESS" // never finishes by itself
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.onDescribeCall = func(n int) {
		if n == 3 {
			cancel() // Ctrl-C while waiting
		}
	}
	var events []string
	c := newFakeClient(f)
	res, err := c.Execute(ctx, updateChangeSet(f), func(e Event) { events = append(events, e.Status) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if f.count("CancelUpdateStack") != 1 {
		t.Fatalf("CancelUpdateStack calls = %d; want 1", f.count("CancelUpdateStack"))
	}
	if res == nil || res.Status != "UPDATE_ROLLBACK_COMPLETE" || !res.Failed {
		t.Fatalf("result = %+v; want the finished rollback", res)
	}
	if !strings.Contains(err.Error(), "update cancelled") {
		t.Errorf("err = %v; want it to say the update was cancelled", err)
	}
	if len(events) == 0 || events[len(events)-1] != "UPDATE_ROLLBACK_IN_PROGRESS" {
		t.Errorf("events = %v; want the rollback's event streamed", events)
	}
}

// A create is not cancellable: ctx's error comes back without a cancel.
func TestCancelledCreateJustStops(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status = "CREATE_IN_PROGRESS"
	ctx, cancel := context.WithCancel(context.Background())
	f.onDescribeCall = func(n int) {
		if n == 2 {
			cancel()
		}
	}
	cs := updateChangeSet(f)
	cs.Type = "CREATE"
	_, err := newFakeClient(f).Execute(ctx, cs, nil)
	if !errors.Is(err, context.Canceled) || f.count("CancelUpdateStack") != 0 {
		t.Fatalf("err = %v, cancels = %d; want context.Canceled and no CancelUpdateStack", err, f.count("CancelUpdateStack"))
	}
}

// The stack's own deadline also cancels a hung update.
func TestStackTimeoutCancelsUpdate(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status = "UPDATE_IN_PROGRESS"
	c := newFakeClient(f)
	c.StackTimeout = 30 * time.Millisecond // real time: the fake clock does not drive ctx deadlines
	c.sleep = func(ctx context.Context, d time.Duration) error {
		_ = clock.sleep(ctx, d)
		return sleepContext(ctx, time.Millisecond)
	}
	res, err := c.Execute(context.Background(), updateChangeSet(f), nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "still UPDATE_IN_PROGRESS") {
		t.Fatalf("err = %v; want a deadline error naming the status", err)
	}
	if f.count("CancelUpdateStack") != 1 || res == nil || res.Status != "UPDATE_ROLLBACK_COMPLETE" {
		t.Fatalf("cancels = %d, result %+v", f.count("CancelUpdateStack"), res)
	}
}

func TestUpdateRollbackFailedGivesTheFix(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status, f.finalStatus, f.doneAt = "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED", clock.Now().Add(2*time.Second)
	c := newFakeClient(f)
	c.region = "eu-west-1"
	res, err := c.Execute(context.Background(), updateChangeSet(f), nil)
	var rf *RollbackFailedError
	if !errors.As(err, &rf) || res == nil || !res.Failed {
		t.Fatalf("err = %v, res = %+v; want *RollbackFailedError and a failed result", err, res)
	}
	if want := "aws cloudformation continue-update-rollback --stack-name app --region eu-west-1"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q; want it to contain %q", err, want)
	}
	// A later change set for it is refused with the same fix.
	_, err = c.CreateChangeSet(context.Background(), ChangeSetInput{StackName: "app", Template: []byte("{}")})
	if !errors.As(err, &rf) {
		t.Errorf("CreateChangeSet on UPDATE_ROLLBACK_FAILED: err = %v", err)
	}
}

// Older moto applied a change set inside ExecuteChangeSet and returned the
// failure as that call's error: a failed Result with the reason.
func TestExecuteErrorIsAFailure(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status = "UPDATE_COMPLETE"
	f.executeErr = &smithy.GenericAPIError{Code: "ValidationError", Message: "Bucket name already taken"}
	res, err := newFakeClient(f).Execute(context.Background(), updateChangeSet(f), nil)
	if err != nil {
		t.Fatalf("err = %v; want a failed Result instead", err)
	}
	if !res.Failed || len(res.Reasons) != 1 || !strings.Contains(res.Reasons[0].Reason, "Bucket name already taken") {
		t.Fatalf("result = %+v", res)
	}
	// A transport error is not a change failure: it is an error.
	f.executeErr = errors.New("connection reset")
	if _, err := newFakeClient(f).Execute(context.Background(), updateChangeSet(f), nil); err == nil {
		t.Fatal("transport error: want an error")
	}
}

// A stack left in ROLLBACK_COMPLETE is deleted (and waited for) before a
// CREATE change set. (Also tested on the emulator.)
func TestRollbackCompleteIsDeletedFirst(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status = "ROLLBACK_COMPLETE"
	f.changeSetStatus = types.ChangeSetStatusCreateComplete
	cs, err := newFakeClient(f).CreateChangeSet(context.Background(), ChangeSetInput{StackName: "app", Template: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	if f.count("DeleteStack") != 1 || f.count("CreateChangeSet:CREATE") != 1 || cs.Type != "CREATE" {
		t.Fatalf("calls %v, type %s; want a delete then a CREATE change set", f.calls, cs.Type)
	}
	if f.currentStatus() != "DELETE_COMPLETE" {
		t.Errorf("change set made before the deletion finished (status %s)", f.currentStatus())
	}
}

// A stack busy with another operation is waited for first.
func TestBusyStackIsWaitedFor(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status, f.finalStatus, f.doneAt = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", clock.Now().Add(20*time.Second)
	f.changeSetStatus = types.ChangeSetStatusCreateComplete
	cs, err := newFakeClient(f).CreateChangeSet(context.Background(), ChangeSetInput{StackName: "app", Template: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	if cs.Type != "UPDATE" || clock.Now().Before(f.doneAt) {
		t.Fatalf("type %s at %v; want an UPDATE made after the stack settled at %v", cs.Type, clock.Now(), f.doneAt)
	}
}

func TestChangeSetFailureAndPaging(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status = "UPDATE_COMPLETE"
	f.changeSetStatus = types.ChangeSetStatusFailed
	f.changeSetReason = "Template format error: Unresolved resource dependencies [Nope]"
	_, err := newFakeClient(f).CreateChangeSet(context.Background(), ChangeSetInput{StackName: "app", Template: []byte("{}")})
	if err == nil || !strings.Contains(err.Error(), "Unresolved resource dependencies [Nope]") {
		t.Fatalf("err = %v; want the reason", err)
	}

	f.changeSetReason = "No updates are to be performed."
	cs, err := newFakeClient(f).CreateChangeSet(context.Background(), ChangeSetInput{StackName: "app", Template: []byte("{}")})
	if err != nil || !cs.Empty || f.count("DeleteChangeSet") != 1 {
		t.Fatalf("cs = %+v, err = %v, deletes %d; want Empty and deleted", cs, err, f.count("DeleteChangeSet"))
	}

	rc := func(id string, repl types.Replacement, details ...types.ResourceChangeDetail) types.Change {
		return types.Change{ResourceChange: &types.ResourceChange{
			LogicalResourceId: aws.String(id), ResourceType: aws.String("AWS::RDS::DBInstance"),
			Action: types.ChangeActionModify, Replacement: repl, Details: details,
		}}
	}
	detail := func(name string, r types.RequiresRecreation) types.ResourceChangeDetail {
		return types.ResourceChangeDetail{Target: &types.ResourceTargetDefinition{Attribute: types.ResourceAttributeProperties, Name: aws.String(name), RequiresRecreation: r}}
	}
	tagsDetail := types.ResourceChangeDetail{Target: &types.ResourceTargetDefinition{Attribute: types.ResourceAttributeTags, RequiresRecreation: types.RequiresRecreationNever}}
	f.changeSetStatus, f.changeSetReason = types.ChangeSetStatusCreateComplete, ""
	f.changes = [][]types.Change{
		{rc("Db", types.ReplacementTrue, detail("DBInstanceClass", types.RequiresRecreationNever), detail("DBName", types.RequiresRecreationAlways), detail("Engine", types.RequiresRecreationConditionally))},
		{rc("Cache", types.ReplacementFalse, detail("CacheNodeType", types.RequiresRecreationNever), tagsDetail, detail("CacheNodeType", types.RequiresRecreationNever))},
	}
	cs, err = newFakeClient(f).CreateChangeSet(context.Background(), ChangeSetInput{StackName: "app", Template: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Changes) != 2 {
		t.Fatalf("changes = %+v; want both pages", cs.Changes)
	}
	if db := cs.Changes[0]; db.Replacement != "True" || strings.Join(db.Causes, ",") != "DBName,Engine" {
		t.Errorf("Db = %+v; want causes DBName, Engine", db)
	}
	if cache := cs.Changes[1]; cache.Replaces() || strings.Join(cache.Causes, ",") != "CacheNodeType,Tags" {
		t.Errorf("Cache = %+v; want causes CacheNodeType, Tags", cache)
	}
}

// UpdateTags updates the stack with its previous template and parameter
// values and the new tags, and waits for the update.
func TestUpdateTagsKeepsTemplateAndParameters(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(clock)
	f.status = "UPDATE_COMPLETE"
	f.parameters = []types.Parameter{
		{ParameterKey: aws.String("Image"), ParameterValue: aws.String("repo:v1")},
		{ParameterKey: aws.String("Priority"), ParameterValue: aws.String("7")},
	}
	f.tags = []types.Tag{{Key: aws.String("gantry:version"), Value: aws.String("v1")}}
	start := clock.Now()
	if err := newFakeClient(f).UpdateTags(context.Background(), "app", map[string]string{"gantry:version": "v2"}); err != nil {
		t.Fatal(err)
	}
	in := f.updateInput
	if in == nil || !aws.ToBool(in.UsePreviousTemplate) || in.TemplateBody != nil {
		t.Fatalf("UpdateStack input = %+v; want the previous template", in)
	}
	var keys []string
	for _, p := range in.Parameters {
		if !aws.ToBool(p.UsePreviousValue) || p.ParameterValue != nil {
			t.Errorf("parameter %s not kept: %+v", aws.ToString(p.ParameterKey), p)
		}
		keys = append(keys, aws.ToString(p.ParameterKey))
	}
	if strings.Join(keys, ",") != "Image,Priority" {
		t.Errorf("parameters = %v", keys)
	}
	if len(in.Tags) != 1 || aws.ToString(in.Tags[0].Value) != "v2" {
		t.Errorf("tags = %+v", in.Tags)
	}
	if clock.Now().Sub(start) < 4*time.Second {
		t.Errorf("returned before the update finished")
	}
}
