package cfn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// Event is one stack event.
type Event struct {
	ID           string
	StackName    string
	Time         time.Time
	LogicalID    string
	PhysicalID   string
	ResourceType string
	Status       string
	Reason       string
}

// EventSink receives a stack's events in the order they happened. It is
// called from the goroutine that called Execute.
type EventSink func(Event)

// Result is how a change set's execution ended.
type Result struct {
	// Status is the stack's final status, e.g. UPDATE_COMPLETE or
	// UPDATE_ROLLBACK_COMPLETE.
	Status       string
	StatusReason string
	// Failed means the change did not apply (the stack rolled back or
	// failed).
	Failed bool
	// Reasons are the resources that failed, first failure first.
	Reasons []ResourceFailure
	// Took is how long the operation ran, as well as the polls and the
	// stack's events tell; 0 when unknown. Callers pass it to the next
	// Execute of the same kind of stack with Expecting.
	Took time.Duration
	// Throttled is how many of the wait's polls CloudFormation throttled
	// (each was tried again later).
	Throttled int
}

// ExecuteOption tunes one Execute.
type ExecuteOption func(*executeOptions)

type executeOptions struct {
	expected, fallback time.Duration
}

// Expecting says how long the operation is expected to take (say, what the
// same kind of stack took in an earlier region of this rollout): the wait
// then stays quiet until near that time and polls densely around it
// instead of backing off past it. Without it Execute expects what the
// stack's previous operation took, read from its events.
func Expecting(d time.Duration) ExecuteOption {
	return func(o *executeOptions) { o.expected = d }
}

// OrExpecting is the expectation when neither Expecting nor the stack's
// own history gives one (a new stack of a service that has a recorded
// time for the kind of operation, say).
func OrExpecting(d time.Duration) ExecuteOption {
	return func(o *executeOptions) { o.fallback = d }
}

// ResourceFailure is a resource that failed during the execution.
type ResourceFailure struct {
	LogicalID    string
	ResourceType string
	Status       string
	Reason       string
}

func (f ResourceFailure) String() string {
	return fmt.Sprintf("%s (%s) %s: %s", f.LogicalID, f.ResourceType, f.Status, f.Reason)
}

// Execute executes cs and waits for the stack to settle, sending every
// stack event of this execution to sink (nil for none). A failed change
// (the stack rolled back) is a Result with Failed set, not an error. An
// error is returned when the outcome is unknown (API errors, deadline),
// when the stack ends in UPDATE_ROLLBACK_FAILED (*RollbackFailedError,
// with the Result), and when ctx ends: an update in progress is then
// cancelled (CancelUpdateStack) and its rollback waited for, within
// CancelTimeout, before ctx's error is returned with the Result.
func (c *Client) Execute(ctx context.Context, cs *ChangeSet, sink EventSink, opts ...ExecuteOption) (*Result, error) {
	if cs == nil || cs.Empty {
		return nil, errors.New("executing a change set: it is empty; there is nothing to execute")
	}
	if sink == nil {
		sink = func(Event) {}
	}
	tr := &eventTracker{stackID: cs.StackID, stackName: cs.StackName, seen: map[string]bool{}}
	// The newest event before executing marks where this execution's
	// events begin.
	var previous time.Duration
	if m := cs.marked; m != nil {
		tr.boundary, previous = m.boundary, m.previous
	} else {
		var err error
		if previous, err = tr.markBoundary(ctx, c.api); err != nil {
			return nil, fmt.Errorf("executing change set for stack %s: reading its events: %w", cs.StackName, err)
		}
	}
	o := executeOptions{expected: previous}
	for _, opt := range opts {
		opt(&o)
	}
	if o.expected <= 0 {
		o.expected = o.fallback
	}
	p := pace{expected: o.expected}
	token, err := changeSetName(c.now()) // unique; lets AWS recognise a retried call
	if err != nil {
		return nil, err
	}
	c.log().InfoContext(ctx, "executing change set", "stack", cs.StackName, "type", cs.Type, "changes", len(cs.Changes), "expected", p.expected)
	start := c.now()
	_, err = c.api.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{
		ChangeSetName:      aws.String(cs.ID),
		ClientRequestToken: aws.String(token),
	})
	if err != nil {
		var ae smithy.APIError
		if !errors.As(err, &ae) || ctx.Err() != nil {
			return nil, fmt.Errorf("executing change set for stack %s: %w", cs.StackName, err)
		}
		if c.alreadyExecuted(ctx, cs, ae) {
			return c.follow(ctx, cs, tr, sink, p, start)
		}
		// CloudFormation refused, or (older moto) the execution failed
		// synchronously: a failure of this change, with the reason.
		return c.executeRefused(ctx, cs, tr, sink, ae)
	}
	return c.follow(ctx, cs, tr, sink, p, start)
}

// alreadyExecuted recognises the refusal of a retried ExecuteChangeSet
// whose first attempt ran but whose answer was lost (a dropped
// connection): the change set, which only this run knows, is no longer
// executable because it is executing or has executed. That is this run's
// own execution, to be followed to its end.
func (c *Client) alreadyExecuted(ctx context.Context, cs *ChangeSet, ae smithy.APIError) bool {
	if ae.ErrorCode() != "InvalidChangeSetStatus" {
		return false
	}
	out, err := c.api.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(cs.ID)})
	if err != nil {
		return false
	}
	switch out.ExecutionStatus {
	case types.ExecutionStatusExecuteInProgress, types.ExecutionStatusExecuteComplete, types.ExecutionStatusExecuteFailed:
		c.log().InfoContext(ctx, "change set already executing (a retried call whose first attempt ran)",
			"stack", cs.StackName, "changeSet", cs.Name, "executionStatus", out.ExecutionStatus)
		return true
	}
	return false
}

// executeRefused reports an ExecuteChangeSet error as a failed Result,
// with whatever events the attempt left.
func (c *Client) executeRefused(ctx context.Context, cs *ChangeSet, tr *eventTracker, sink EventSink, ae smithy.APIError) (*Result, error) {
	res := &Result{Failed: true, Status: "EXECUTE_FAILED", StatusReason: ae.ErrorMessage()}
	if s, err := c.describeID(ctx, cs.StackID); err == nil && settled(string(s.StackStatus)) {
		res.Status = string(s.StackStatus)
	}
	_ = c.stream(ctx, tr, sink) // best effort: the refusal is the news
	res.Reasons = tr.failures()
	res.Reasons = append(res.Reasons, ResourceFailure{
		LogicalID:    cs.StackName,
		ResourceType: stackResourceType,
		Status:       "EXECUTE_FAILED",
		Reason:       fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage()),
	})
	return res, nil
}

// follow waits for the stack to settle after an execute, streaming events.
func (c *Client) follow(ctx context.Context, cs *ChangeSet, tr *eventTracker, sink EventSink, p pace, start time.Time) (*Result, error) {
	wctx, cancel := context.WithTimeout(ctx, c.StackTimeout)
	defer cancel()
	// The operation has started, which is news for whoever watches (the
	// engine starts making the next wave's change sets then): its first
	// event is sent now, as CloudFormation will record it, without
	// reading the events for it.
	tr.announce(cs, c.now(), sink)
	s, tm, err := c.watch(wctx, tr, sink, p, start)
	if err == nil {
		res, err := c.result(ctx, cs, s, tr)
		if res != nil {
			res.Took, res.Throttled = tm.estimate(tr.span(), p.expected), tm.throttled
			c.log().DebugContext(ctx, "stack operation timed", "stack", cs.StackName, "took", res.Took,
				"expected", p.expected, "lastBusy", tm.lastBusy, "settledSeen", tm.settled, "throttledPolls", tm.throttled)
		}
		return res, err
	}
	if wctx.Err() == nil {
		return nil, fmt.Errorf("waiting for stack %s: %w", cs.StackName, err)
	}
	// ctx ended (the user interrupted, or the deadline passed).
	cause := ctx.Err()
	if cause == nil {
		cause = fmt.Errorf("still %s after %s: %w", orNone(string(s.StackStatus)), c.StackTimeout, wctx.Err())
	}
	if cs.Type != string(types.ChangeSetTypeUpdate) {
		return nil, fmt.Errorf("waiting for stack %s to be created: %w", cs.StackName, cause)
	}
	return c.cancelUpdate(ctx, cs, tr, sink, cause)
}

// cancelUpdate cancels the update in progress and waits, on a fresh bounded
// context, for its rollback; the error always wraps cause.
func (c *Client) cancelUpdate(ctx context.Context, cs *ChangeSet, tr *eventTracker, sink EventSink, cause error) (*Result, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.CancelTimeout)
	defer cancel()
	c.log().WarnContext(ctx, "cancelling stack update", "stack", cs.StackName, "cause", cause.Error())
	_, err := c.api.CancelUpdateStack(cctx, &cloudformation.CancelUpdateStackInput{StackName: aws.String(cs.StackID)})
	if err != nil && !isNotCancellable(err) {
		return nil, fmt.Errorf("stack %s: cancelling the update failed (%v): %w", cs.StackName, err, cause)
	}
	s, _, err := c.watch(cctx, tr, sink, pace{}, c.now())
	if err != nil {
		return nil, fmt.Errorf("stack %s: update cancelled, but its rollback did not finish within %s (last status %s; %v): %w",
			cs.StackName, c.CancelTimeout, orNone(string(s.StackStatus)), err, cause)
	}
	res, rerr := c.result(cctx, cs, s, tr)
	if rerr != nil {
		return res, fmt.Errorf("%w (after cancelling the update: %w)", rerr, cause)
	}
	return res, fmt.Errorf("stack %s: update cancelled, stack is %s: %w", cs.StackName, res.Status, cause)
}

// isNotCancellable recognises CancelUpdateStack's refusal when the update
// has already finished (or is rolling back).
func isNotCancellable(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError"
}

// watch polls until the stack settles, streaming new events. A poll
// describes the stack; its events are read only when its status changes
// (an update rolling back, say) and once it has settled, so that they
// are complete -- not on every poll. A throttled poll is no news: the
// wait slows down and goes on (throttling never ends a wait; ctx's
// deadline does). It returns the last stack seen and when, since start,
// the stack was last seen busy and first seen settled.
func (c *Client) watch(ctx context.Context, tr *eventTracker, sink EventSink, p pace, start time.Time) (types.Stack, timing, error) {
	next := c.Poll.schedule(c.random)
	var (
		last types.Stack
		tm   timing
		seen types.StackStatus // the status the last answered poll saw
	)
	for {
		p.pressed = c.pressed != nil && c.pressed()
		if err := c.sleep(ctx, p.next(c.now().Sub(start), next(), c.random)); err != nil {
			return last, tm, err
		}
		asked := c.now().Sub(start)
		s, err := c.describeID(ctx, tr.stackID, throttlingReturned)
		if err != nil && isThrottling(err) && ctx.Err() == nil {
			p.slow.throttled()
			tm.throttled++
			continue
		}
		if err != nil {
			return last, tm, err
		}
		p.slow.answered()
		last = s
		// REVIEW_IN_PROGRESS: a new stack whose execution has not started.
		done := settled(string(s.StackStatus)) && s.StackStatus != types.StackStatusReviewInProgress
		if done || statusChanged(seen, s.StackStatus) {
			if err := c.stream(ctx, tr, sink); err != nil {
				return last, tm, err
			}
		}
		if strings.Contains(string(s.StackStatus), "ROLLBACK") {
			p.expected = 0 // what was expected was the operation, not its rollback
		}
		seen = s.StackStatus
		if done {
			tm.settled = c.now().Sub(start)
			return s, tm, nil
		}
		tm.lastBusy = asked
	}
}

// statusChanged reports whether a poll's status is news: another status
// than the last poll's, or, at the first poll, anything but the plain
// "in progress" of the operation just started.
func statusChanged(seen, now types.StackStatus) bool {
	if seen != "" {
		return now != seen
	}
	switch now {
	case types.StackStatusCreateInProgress, types.StackStatusUpdateInProgress, types.StackStatusDeleteInProgress:
		return false
	}
	return true
}

// stream reads the events not handed out yet and sends them to sink,
// but the one announce sent already.
func (c *Client) stream(ctx context.Context, tr *eventTracker, sink EventSink) error {
	evs, err := tr.poll(ctx, c.api)
	if err != nil {
		return err
	}
	for _, e := range evs {
		if tr.announced != "" && tr.isStack(e) && e.Status == tr.announced {
			tr.announced = "" // CloudFormation's own record of what was sent
			continue
		}
		sink(e)
	}
	return nil
}

// result turns the settled stack into a Result.
func (c *Client) result(ctx context.Context, cs *ChangeSet, s types.Stack, tr *eventTracker) (*Result, error) {
	res := &Result{Status: string(s.StackStatus), StatusReason: aws.ToString(s.StackStatusReason)}
	res.Failed = failedStatus(res.Status)
	if res.Failed {
		res.Reasons = tr.failures()
		if len(res.Reasons) == 0 && res.StatusReason != "" {
			res.Reasons = []ResourceFailure{{LogicalID: cs.StackName, ResourceType: stackResourceType, Status: res.Status, Reason: res.StatusReason}}
		}
	}
	c.log().InfoContext(ctx, "stack settled", "stack", cs.StackName, "status", res.Status)
	if s.StackStatus == types.StackStatusUpdateRollbackFailed {
		return res, &RollbackFailedError{Stack: cs.StackName, Region: c.region, Reason: res.StatusReason}
	}
	return res, nil
}

// eventTracker reads a stack's events newest first and hands out each new
// one once, oldest first, starting after the boundary event.
type eventTracker struct {
	stackID, stackName string
	boundary           string // newest event ID before the execution; "" when none
	seen               map[string]bool
	events             []Event // every event handed out, in order
	// announced is the status of the stack event sent when the execution
	// started, until CloudFormation's own such event is read.
	announced string
}

// announce sends the first event of the execution of cs, as CloudFormation
// records it (the stack, CREATE_ or UPDATE_IN_PROGRESS, "User
// Initiated"), at the client's time.
func (t *eventTracker) announce(cs *ChangeSet, now time.Time, sink EventSink) {
	t.announced = string(types.ResourceStatusUpdateInProgress)
	if cs.Type == string(types.ChangeSetTypeCreate) {
		t.announced = string(types.ResourceStatusCreateInProgress)
	}
	sink(Event{StackName: t.stackName, Time: now, LogicalID: t.stackName, PhysicalID: t.stackID,
		ResourceType: stackResourceType, Status: t.announced, Reason: "User Initiated"})
}

// stackResourceType is the resource type of a stack's own events.
const stackResourceType = "AWS::CloudFormation::Stack"

// maxEventPages bounds one poll's paging through the history.
const maxEventPages = 50

// markBoundary remembers the newest event before the execution, and
// returns how long the stack's previous operation took when its first page
// of events shows it (0 otherwise).
func (t *eventTracker) markBoundary(ctx context.Context, api API) (time.Duration, error) {
	out, err := api.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(t.stackID)})
	if err != nil {
		if isStackNotFound(err) {
			return 0, nil
		}
		return 0, err
	}
	if len(out.StackEvents) > 0 {
		t.boundary = aws.ToString(out.StackEvents[0].EventId)
	}
	return t.previousDuration(out.StackEvents), nil
}

// minExpected is the shortest previous operation taken as an expectation:
// below it (an emulator, a tags-only update) the back-off alone is as good.
const minExpected = time.Second

// previousDuration is how long the newest operation in events (newest
// first) took, when it succeeded: from its stack-level CREATE_ or
// UPDATE_IN_PROGRESS event to its CREATE_ or UPDATE_COMPLETE event.
func (t *eventTracker) previousDuration(events []types.StackEvent) time.Duration {
	var end time.Time
	for _, e := range events {
		if aws.ToString(e.ResourceType) != stackResourceType || aws.ToString(e.LogicalResourceId) != t.stackName {
			continue
		}
		st := e.ResourceStatus
		if end.IsZero() {
			if st != types.ResourceStatusCreateComplete && st != types.ResourceStatusUpdateComplete {
				return 0 // the newest operation failed, or is not a create or update
			}
			end = aws.ToTime(e.Timestamp)
			continue
		}
		if st == types.ResourceStatusCreateInProgress || st == types.ResourceStatusUpdateInProgress {
			if d := end.Sub(aws.ToTime(e.Timestamp)); d >= minExpected {
				return d
			}
			return 0
		}
	}
	return 0
}

// span is how long this execution's events say it took: from its first
// event to the stack's last, on CloudFormation's clock; 0 when unknown.
func (t *eventTracker) span() time.Duration {
	if len(t.events) == 0 {
		return 0
	}
	for i := len(t.events) - 1; i >= 0; i-- {
		if t.isStack(t.events[i]) && settled(t.events[i].Status) {
			return t.events[i].Time.Sub(t.events[0].Time)
		}
	}
	return 0
}

// poll returns the events not handed out before, oldest first.
func (t *eventTracker) poll(ctx context.Context, api API) ([]Event, error) {
	var fresh []Event
	var token *string
	for page := 0; page < maxEventPages; page++ {
		out, err := api.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(t.stackID), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("reading the events of stack %s: %w", t.stackName, err)
		}
		done := false
		for _, e := range out.StackEvents {
			id := aws.ToString(e.EventId)
			if id == t.boundary || t.seen[id] {
				// Newest first: everything from here on is old.
				done = true
				break
			}
			fresh = append(fresh, Event{
				ID:           id,
				StackName:    aws.ToString(e.StackName),
				Time:         aws.ToTime(e.Timestamp),
				LogicalID:    aws.ToString(e.LogicalResourceId),
				PhysicalID:   aws.ToString(e.PhysicalResourceId),
				ResourceType: aws.ToString(e.ResourceType),
				Status:       string(e.ResourceStatus),
				Reason:       aws.ToString(e.ResourceStatusReason),
			})
		}
		token = out.NextToken
		if done || token == nil {
			break
		}
	}
	slices.Reverse(fresh)
	// A page boundary can shift while new events arrive, showing an event
	// twice in one poll: keep the first.
	out := fresh[:0]
	for _, e := range fresh {
		if t.seen[e.ID] {
			continue
		}
		t.seen[e.ID] = true
		out = append(out, e)
	}
	t.events = append(t.events, out...)
	return out, nil
}

// failures are the resources whose events failed during the execution.
// "cancelled" failures (siblings stopped because another failed) are kept
// only when nothing else failed.
func (t *eventTracker) failures() []ResourceFailure {
	var real, cancelled []ResourceFailure
	for _, e := range t.events {
		if !strings.HasSuffix(e.Status, "_FAILED") || t.isStack(e) {
			continue
		}
		f := ResourceFailure{LogicalID: e.LogicalID, ResourceType: e.ResourceType, Status: e.Status, Reason: e.Reason}
		if strings.Contains(strings.ToLower(e.Reason), "cancelled") {
			cancelled = append(cancelled, f)
		} else {
			real = append(real, f)
		}
	}
	if len(real) > 0 {
		return real
	}
	if len(cancelled) > 0 {
		return cancelled
	}
	return t.stackFailure()
}

// stackFailure is the reason on the stack's own *ROLLBACK_IN_PROGRESS
// event: where CloudFormation says why an update failed that no resource
// did (an export another stack still imports, say).
func (t *eventTracker) stackFailure() []ResourceFailure {
	for _, e := range slices.Backward(t.events) {
		if t.isStack(e) && strings.HasSuffix(e.Status, "ROLLBACK_IN_PROGRESS") && e.Reason != "" {
			return []ResourceFailure{{LogicalID: e.LogicalID, ResourceType: e.ResourceType, Status: e.Status, Reason: e.Reason}}
		}
	}
	return nil
}

func (t *eventTracker) isStack(e Event) bool {
	return e.ResourceType == stackResourceType && (e.PhysicalID == t.stackID || e.LogicalID == t.stackName)
}
