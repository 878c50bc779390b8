package proxy

import (
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The emulator completes every stack operation inside the API call. The
// proxy makes them take time and fail the way CloudFormation does, by
// rewriting what DescribeStacks and DescribeStackEvents report for a stack
// it has an override for. Overrides are kept per (region, stack name).

const (
	cfnXMLNS  = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
	stackType = "AWS::CloudFormation::Stack"
	// timeFormat is how CloudFormation's XML writes timestamps.
	timeFormat = "2006-01-02T15:04:05.000000Z"
)

// StackDuration makes stack operations on matching stacks take time: after
// ExecuteChangeSet, CreateStack, UpdateStack or DeleteStack passes through
// (the emulator finishes it at once), DescribeStacks reports the matching
// *_IN_PROGRESS status until Duration has passed, and DescribeStackEvents
// reveals the operation's events one by one over that time, each stamped
// with the time it is revealed. A failed operation reads *_IN_PROGRESS
// for the first half and *ROLLBACK_IN_PROGRESS for the second. Until it is
// over, CreateChangeSet and UpdateStack for the stack are refused
// ("... is in UPDATE_IN_PROGRESS state and can not be updated."), and
// CancelUpdateStack of an update rolls it back (in Duration/2) -- in what
// is reported only: the emulator's stack keeps the update.
type StackDuration struct {
	// Region limits the rule to one region; "" is every region.
	Region string
	// Stack is a path.Match glob of stack names; "" is every stack.
	Stack    string
	Duration time.Duration
}

// Failure makes ExecuteChangeSet fail for matching stacks. The call is not
// forwarded: the proxy answers success itself, the emulator's stack stays
// as it was (as a rollback would leave it), and from then on
// DescribeStacks reports UPDATE_ROLLBACK_COMPLETE -- or ROLLBACK_COMPLETE
// for a stack being created (REVIEW_IN_PROGRESS in the emulator) -- with a
// StackStatusReason naming the resource, and DescribeStackEvents adds the
// events of a failed operation, among them UPDATE_FAILED or CREATE_FAILED
// for the resource, with Reason. With a StackDuration the failure plays
// out over that time (failing halfway). The override lasts until the next
// CreateChangeSet or DeleteStack of the stack, so a rerun after removing
// the rule deploys normally.
type Failure struct {
	Region string // "" every region
	Stack  string // path.Match glob of stack names; "" every stack
	// Resource is the logical ID of the resource that fails; "" picks the
	// first resource the change set adds or modifies.
	Resource string
	// ResourceType is its type; "" takes it from the change set.
	ResourceType string
	// Reason is the resource's status reason; "" is a generic message
	// saying the failure was injected.
	Reason string
}

// DefaultFailureReason is the failed resource's reason when a Failure
// gives none.
const DefaultFailureReason = `Resource handler returned message: "Injected failure (gantry test proxy)" (HandlerErrorCode: GeneralServiceException)`

// SetStackDuration makes every stack operation take d (0: none).
func (p *Proxy) SetStackDuration(d time.Duration) {
	if d <= 0 {
		p.SetStackDurations()
		return
	}
	p.SetStackDurations(StackDuration{Duration: d})
}

// SetStackDurations replaces the duration rules; the first rule matching
// a stack decides. Operations already under way keep their duration.
func (p *Proxy) SetStackDurations(rules ...StackDuration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.durations = slices.Clone(rules)
}

// SetFailures replaces the failure rules; the first matching rule decides.
// Removing a rule does not undo a failure already reported.
func (p *Proxy) SetFailures(rules ...Failure) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = slices.Clone(rules)
}

// durationFor is the operation time of a stack; p.mu must be held.
func (p *Proxy) durationForLocked(region, stack string) time.Duration {
	for _, r := range p.durations {
		if (r.Region == "" || r.Region == region) && matchStack(r.Stack, stack) {
			return max(r.Duration, 0)
		}
	}
	return 0
}

func (p *Proxy) durationFor(region, stack string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.durationForLocked(region, stack)
}

func (p *Proxy) failureFor(region, stack string) (Failure, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.failures {
		if (r.Region == "" || r.Region == region) && matchStack(r.Stack, stack) {
			return r, true
		}
	}
	return Failure{}, false
}

type stackKey struct{ account, region, name string }

type changeSetRef struct{ stack, stackID string }

type stackState struct {
	overrides  map[stackKey]*override
	changeSets map[string]changeSetRef // change set ARN -> its stack
	// stamps are the times the proxy gave the emulator's events of timed
	// operations, by event ID: they keep them after the operation, as
	// CloudFormation's history does (the emulator's own are all the
	// instant the operation ran).
	stamps map[string]time.Time
	// ops are the timed operations since the last ResetCounts, in the
	// order they started.
	ops []*Operation
}

// Operation is one timed stack operation the proxy played out (an
// executed change set, CreateStack, UpdateStack or an injected failure),
// and when a client first saw that it had ended.
type Operation struct {
	Account, Region, Stack string
	// Started is when the call that began it passed; Ended when the
	// proxy first reports it settled (its duration later).
	Started, Ended time.Time
	// Noticed is when a DescribeStacks answer first reported the stack
	// settled, at or after Ended; zero while none has.
	Noticed time.Time
}

// Operations returns the timed stack operations since the last
// ResetCounts, in the order they started.
func (p *Proxy) Operations() []Operation {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Operation, len(p.stacks.ops))
	for i, o := range p.stacks.ops {
		out[i] = *o
	}
	return out
}

// recordOpLocked starts the record of an operation of c's stack name
// from start to end; p.mu must be held.
func (p *Proxy) recordOpLocked(c *call, name string, start, end time.Time) *Operation {
	op := &Operation{Account: c.Account, Region: c.Region, Stack: name, Started: start, Ended: end}
	p.stacks.ops = append(p.stacks.ops, op)
	return op
}

func newStackState() stackState {
	return stackState{overrides: map[stackKey]*override{}, changeSets: map[string]changeSetRef{}, stamps: map[string]time.Time{}}
}

type overrideKind int

const (
	opProgress overrideKind = iota // an operation passed through and is "still running"
	opDelete                       // a DeleteStack passed through and is "still running"
	opFailure                      // an injected failure: scripted events, never forwarded
	opCancel                       // CancelUpdateStack of an operation in progress
)

// event is a synthetic stack event.
type event struct {
	id, logicalID, physicalID, resourceType, status, reason string
	at                                                      time.Time
}

type override struct {
	kind     overrideKind
	name, id string
	// start and until bound the operation (opProgress, opDelete).
	start, until time.Time
	// final is the emulator's status after the operation, if known.
	final string
	// opStart, opUntil: the window over which the emulator's own events of
	// the operation are revealed; zero when there are none.
	opStart, opUntil time.Time
	// revealUntil hides the operation's events due after it (a cancel).
	revealUntil time.Time
	// events are synthetic, oldest first, each shown once due.
	events []event
	// reason is the StackStatusReason while rolling back and after.
	reason string
	// member is the stack's description before a delete.
	member []byte
	// op is the operation's record (nil for deletes).
	op *Operation
}

// matches reports whether a stack name or ID from a request or response
// is this override's stack (a stack ID of another stack of that name, an
// older deleted one, is not).
func (o *override) matches(nameOrID string) bool {
	if strings.HasPrefix(nameOrID, "arn:") && o.id != "" {
		return nameOrID == o.id
	}
	return stackNameOf(nameOrID) == o.name
}

// inProgress maps the status an operation ended with to the status it
// has while running; "" when the status is not the end of an operation.
func inProgress(final string, firstHalf bool) string {
	switch final {
	case "CREATE_COMPLETE":
		return "CREATE_IN_PROGRESS"
	case "UPDATE_COMPLETE":
		return "UPDATE_IN_PROGRESS"
	case "ROLLBACK_COMPLETE", "ROLLBACK_FAILED":
		if firstHalf {
			return "CREATE_IN_PROGRESS"
		}
		return "ROLLBACK_IN_PROGRESS"
	case "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED":
		if firstHalf {
			return "UPDATE_IN_PROGRESS"
		}
		return "UPDATE_ROLLBACK_IN_PROGRESS"
	case "DELETE_COMPLETE", "DELETE_FAILED":
		return "DELETE_IN_PROGRESS"
	}
	return ""
}

// scriptedStatus is the status of the newest due synthetic stack event.
func (o *override) scriptedStatus(now time.Time) string {
	st := ""
	for _, e := range o.events {
		if e.resourceType == stackType && !e.at.After(now) {
			st = e.status
		}
	}
	return st
}

// status says what DescribeStacks reports at now for the stack whose
// emulator status is upstream: the status, the reason (nil: leave it;
// "": remove it), and ok false when nothing is to change.
func (o *override) status(now time.Time, upstream string) (status string, reason *string, ok bool) {
	none := ""
	switch o.kind {
	case opProgress:
		if !now.Before(o.until) {
			return "", nil, false
		}
		firstHalf := now.Before(o.start.Add(o.until.Sub(o.start) / 2))
		st := inProgress(upstream, firstHalf)
		if st == "" {
			return "", nil, false
		}
		if strings.Contains(st, "ROLLBACK") {
			return st, nil, true
		}
		return st, &none, true
	case opDelete:
		if !now.Before(o.until) || (upstream != "" && upstream != "DELETE_COMPLETE") {
			return "", nil, false
		}
		return "DELETE_IN_PROGRESS", &none, true
	default:
		st := o.scriptedStatus(now)
		if st == "" {
			return "", nil, false
		}
		if strings.Contains(st, "ROLLBACK") {
			return st, &o.reason, true
		}
		return st, &none, true
	}
}

// busy reports whether the stack is in the middle of an operation, and
// its status then.
func (o *override) busy(now time.Time) (string, bool) {
	switch o.kind {
	case opProgress:
		if !now.Before(o.until) {
			return "", false
		}
		if st := inProgress(o.final, now.Before(o.start.Add(o.until.Sub(o.start)/2))); st != "" {
			return st, true
		}
		return "UPDATE_IN_PROGRESS", true
	case opDelete:
		return "DELETE_IN_PROGRESS", now.Before(o.until)
	default:
		st := o.scriptedStatus(now)
		return st, strings.HasSuffix(st, "_IN_PROGRESS")
	}
}

// cloudFormation handles a CloudFormation query-protocol call.
func (p *Proxy) cloudFormation(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	switch c.Operation {
	case "CreateChangeSet":
		p.createChangeSet(w, r, c, body)
	case "ExecuteChangeSet":
		p.executeChangeSet(w, r, c, body)
	case "CreateStack", "UpdateStack":
		p.stackOperation(w, r, c, body)
	case "DeleteStack":
		p.deleteStack(w, r, c, body)
	case "CancelUpdateStack":
		p.cancelUpdate(w, c)
	case "DescribeStacks":
		p.describeStacks(w, r, c, body)
	case "DescribeStackEvents":
		p.describeStackEvents(w, r, c, body)
	default:
		p.pass(w, r, c, body)
	}
}

func (p *Proxy) pass(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	resp, err := p.forward(r, body)
	if err != nil {
		p.badGateway(w, c, err)
		return
	}
	resp.write(w)
}

// refuseIfBusy answers a ValidationError, as CloudFormation does, when the
// stack is in the middle of an operation.
func (p *Proxy) refuseIfBusy(w http.ResponseWriter, c *call, name string) bool {
	p.mu.Lock()
	o := p.stacks.overrides[stackKey{c.Account, c.Region, name}]
	var (
		status string
		busy   bool
		id     = name
	)
	if o != nil {
		status, busy = o.busy(p.now())
		if o.id != "" {
			id = o.id
		}
	}
	p.mu.Unlock()
	if !busy {
		return false
	}
	writeError(w, c, apiError{Status: http.StatusBadRequest, Code: "ValidationError", Sender: true,
		Message: fmt.Sprintf("Stack:%s is in %s state and can not be updated.", id, status)}, p.requestID())
	return true
}

// createChangeSet clears the stack's override (a new deployment starts)
// and remembers which stack the new change set belongs to.
func (p *Proxy) createChangeSet(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	name := stackNameOf(c.Form.Get("StackName"))
	if p.refuseIfBusy(w, c, name) {
		return
	}
	resp, err := p.forward(r, body)
	if err != nil {
		p.badGateway(w, c, err)
		return
	}
	if resp.ok() {
		id, stackID := text(resp.body, "Id"), text(resp.body, "StackId")
		p.mu.Lock()
		delete(p.stacks.overrides, stackKey{c.Account, c.Region, name})
		if id != "" {
			p.stacks.changeSets[id] = changeSetRef{stack: name, stackID: stackID}
		}
		p.mu.Unlock()
	}
	resp.write(w)
}

// changeSetInfo is what DescribeChangeSet says.
type changeSetInfo struct {
	StackName       string `xml:"DescribeChangeSetResult>StackName"`
	StackID         string `xml:"DescribeChangeSetResult>StackId"`
	Status          string `xml:"DescribeChangeSetResult>Status"`
	ExecutionStatus string `xml:"DescribeChangeSetResult>ExecutionStatus"`
	Changes         []struct {
		Action             string `xml:"ResourceChange>Action"`
		LogicalResourceID  string `xml:"ResourceChange>LogicalResourceId"`
		PhysicalResourceID string `xml:"ResourceChange>PhysicalResourceId"`
		ResourceType       string `xml:"ResourceChange>ResourceType"`
	} `xml:"DescribeChangeSetResult>Changes>member"`
}

// side sends a CloudFormation call of the proxy's own to the target, with
// the client's credentials (the emulator tells accounts apart by them).
// It is not counted and no fault applies to it.
func (p *Proxy) side(r *http.Request, params url.Values) (*response, error) {
	params.Set("Version", "2010-05-15")
	u := *p.target
	u.Path += "/"
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, u.String(), strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "User-Agent"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Host = r.Host
	return p.roundTrip(req)
}

func (p *Proxy) describeChangeSet(r *http.Request, c *call) (*changeSetInfo, error) {
	params := url.Values{"Action": {"DescribeChangeSet"}, "ChangeSetName": {c.Form.Get("ChangeSetName")}}
	if s := c.Form.Get("StackName"); s != "" {
		params.Set("StackName", s)
	}
	resp, err := p.side(r, params)
	if err != nil {
		return nil, err
	}
	if !resp.ok() {
		return nil, fmt.Errorf("DescribeChangeSet: HTTP %d", resp.status)
	}
	var info changeSetInfo
	if err := xml.Unmarshal(resp.body, &info); err != nil {
		return nil, fmt.Errorf("DescribeChangeSet: %w", err)
	}
	return &info, nil
}

// describeStack returns the emulator's description of one stack (the
// XML of its member) and its status; nil when it does not exist.
func (p *Proxy) describeStack(r *http.Request, nameOrID string) ([]byte, error) {
	resp, err := p.side(r, url.Values{"Action": {"DescribeStacks"}, "StackName": {nameOrID}})
	if err != nil {
		return nil, err
	}
	if !resp.ok() {
		return nil, nil
	}
	ranges, err := memberRanges(resp.body, "Stacks")
	if err != nil || len(ranges) == 0 {
		return nil, err
	}
	return resp.body[ranges[0][0]:ranges[0][1]], nil
}

func (p *Proxy) executeChangeSet(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	csName := c.Form.Get("ChangeSetName")
	p.mu.Lock()
	ref, known := p.stacks.changeSets[csName]
	p.mu.Unlock()
	name, id := ref.stack, ref.stackID
	if !known {
		name = stackNameOf(c.Form.Get("StackName"))
	}
	var info *changeSetInfo
	if name == "" {
		if i, err := p.describeChangeSet(r, c); err == nil {
			info, name, id = i, i.StackName, i.StackID
		}
	}
	if rule, ok := p.failureFor(c.Region, name); ok && name != "" {
		if info == nil {
			info, _ = p.describeChangeSet(r, c)
		}
		// Only an executable change set fails this way; the emulator
		// refuses the others as CloudFormation would.
		if info != nil && info.Status == "CREATE_COMPLETE" && info.ExecutionStatus == "AVAILABLE" {
			if info.StackID != "" {
				id = info.StackID
			}
			p.injectFailure(w, r, c, rule, name, id, info)
			return
		}
	}
	start := p.now()
	resp, err := p.forward(r, body)
	if err != nil {
		p.badGateway(w, c, err)
		return
	}
	if resp.ok() && name != "" {
		p.operationDone(r, c, name, id, start)
	}
	resp.write(w)
}

// operationDone starts the stack's operation window after an operation
// the emulator has finished, or clears its override when it takes no time.
func (p *Proxy) operationDone(r *http.Request, c *call, name, id string, start time.Time) {
	key := stackKey{c.Account, c.Region, name}
	d := p.durationFor(c.Region, name)
	if d <= 0 {
		p.mu.Lock()
		delete(p.stacks.overrides, key)
		p.mu.Unlock()
		return
	}
	final := ""
	if id == "" {
		id = name
	}
	if m, err := p.describeStack(r, id); err == nil && m != nil {
		final = text(m, "StackStatus")
		id = text(m, "StackId")
	}
	if !strings.HasPrefix(id, "arn:") {
		id = ""
	}
	p.mu.Lock()
	p.stacks.overrides[key] = &override{kind: opProgress, name: name, id: id, start: start, until: start.Add(d), final: final, opStart: start, opUntil: start.Add(d),
		op: p.recordOpLocked(c, name, start, start.Add(d))}
	p.mu.Unlock()
	p.log.Info("proxy: stack operation in progress", "region", c.Region, "stack", name, "for", d)
}

func (p *Proxy) stackOperation(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	name := stackNameOf(c.Form.Get("StackName"))
	if c.Operation == "UpdateStack" && p.refuseIfBusy(w, c, name) {
		return
	}
	start := p.now()
	resp, err := p.forward(r, body)
	if err != nil {
		p.badGateway(w, c, err)
		return
	}
	if resp.ok() {
		p.operationDone(r, c, name, text(resp.body, "StackId"), start)
	}
	resp.write(w)
}

func (p *Proxy) deleteStack(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	nameOrID := c.Form.Get("StackName")
	name := stackNameOf(nameOrID)
	key := stackKey{c.Account, c.Region, name}
	d := p.durationFor(c.Region, name)
	var member []byte
	if d > 0 {
		member, _ = p.describeStack(r, nameOrID)
	}
	start := p.now()
	resp, err := p.forward(r, body)
	if err != nil {
		p.badGateway(w, c, err)
		return
	}
	if resp.ok() {
		p.mu.Lock()
		delete(p.stacks.overrides, key)
		if member != nil {
			p.stacks.overrides[key] = &override{kind: opDelete, name: name, id: text(member, "StackId"), start: start, until: start.Add(d),
				opStart: start, opUntil: start.Add(d), member: member}
		}
		p.mu.Unlock()
	}
	resp.write(w)
}

// cancelUpdate emulates CancelUpdateStack, which the emulator lacks: an
// update in progress rolls back (in what is reported); anything else is
// refused as CloudFormation refuses it.
func (p *Proxy) cancelUpdate(w http.ResponseWriter, c *call) {
	name := stackNameOf(c.Form.Get("StackName"))
	now := p.now()
	p.mu.Lock()
	o := p.stacks.overrides[stackKey{c.Account, c.Region, name}]
	ok := false
	switch {
	case o == nil:
	case o.kind == opProgress && now.Before(o.until) && (o.final == "" || strings.HasPrefix(o.final, "UPDATE_")):
		rollback := o.until.Sub(o.start) / 2
		o.kind = opCancel
		o.revealUntil = now
		o.reason = "Resource update cancelled"
		o.events = stackEvents(p, now, rollback, []string{"UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"},
			[]float64{0, 0.75, 1}, o.reason)
		if o.op != nil {
			o.op.Ended = now.Add(rollback)
		}
		ok = true
	case o.kind == opFailure && o.scriptedStatus(now) == "UPDATE_IN_PROGRESS":
		ok = true // it rolls back anyway
	}
	requestID := p.uuidLocked()
	p.mu.Unlock()
	if !ok {
		writeError(w, c, apiError{Status: http.StatusBadRequest, Code: "ValidationError", Sender: true,
			Message: "CancelUpdateStack cannot be called from current stack status"}, requestID)
		return
	}
	p.log.Info("proxy: stack update cancelled", "region", c.Region, "stack", name)
	writeXML(w, fmt.Sprintf(`<CancelUpdateStackResponse xmlns="%s"><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></CancelUpdateStackResponse>`, cfnXMLNS, requestID), requestID)
}

// stackEvents makes stack-level events with the given statuses at start +
// d*fraction; the first carries reason. p.mu must be held.
func stackEvents(p *Proxy, start time.Time, d time.Duration, statuses []string, fractions []float64, reason string) []event {
	var out []event
	for i, st := range statuses {
		e := event{id: p.uuidLocked(), resourceType: stackType, status: st, at: start.Add(time.Duration(float64(d)*fractions[i]) + time.Duration(i)*time.Microsecond)}
		if i == 0 {
			e.reason = reason
		}
		out = append(out, e)
	}
	return out
}

// injectFailure answers ExecuteChangeSet itself and scripts the failed
// operation's events.
func (p *Proxy) injectFailure(w http.ResponseWriter, r *http.Request, c *call, rule Failure, name, id string, info *changeSetInfo) {
	create := false
	if m, err := p.describeStack(r, firstNonEmpty(id, name)); err == nil && m != nil {
		create = text(m, "StackStatus") == "REVIEW_IN_PROGRESS"
		id = firstNonEmpty(text(m, "StackId"), id)
	}
	res, typ, physical := rule.Resource, rule.ResourceType, ""
	for _, ch := range info.Changes {
		if res == "" && (ch.Action == "Add" || ch.Action == "Modify") {
			res = ch.LogicalResourceID
		}
		if ch.LogicalResourceID == res && res != "" {
			typ, physical = firstNonEmpty(typ, ch.ResourceType), ch.PhysicalResourceID
			break
		}
	}
	res = firstNonEmpty(res, "Resource")
	typ = firstNonEmpty(typ, "AWS::CloudFormation::CustomResource")
	reason := firstNonEmpty(rule.Reason, DefaultFailureReason)

	verb, done, rollback, cleanup, final := "UPDATE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"
	stackReason := fmt.Sprintf("The following resource(s) failed to update: [%s]. ", res)
	if create {
		verb, done, rollback, cleanup, final = "CREATE", "DELETE_COMPLETE", "ROLLBACK_IN_PROGRESS", "", "ROLLBACK_COMPLETE"
		stackReason = fmt.Sprintf("The following resource(s) failed to create: [%s]. Rollback requested by user.", res)
	}
	now := p.now()
	p.mu.Lock()
	d := p.durationForLocked(c.Region, name)
	type step struct {
		frac                 float64
		logical, status, why string
		isStack              bool
	}
	steps := []step{
		{0, name, verb + "_IN_PROGRESS", "User Initiated", true},
		{0.25, res, verb + "_IN_PROGRESS", "", false},
		{0.5, res, verb + "_FAILED", reason, false},
		{0.5, name, rollback, stackReason, true},
		{0.75, res, done, "", false}, // the rollback restores (or deletes) it
	}
	if cleanup != "" {
		steps = append(steps, step{0.9, name, cleanup, "", true})
	}
	steps = append(steps, step{1, name, final, "", true})
	o := &override{kind: opFailure, name: name, id: id, start: now, until: now.Add(d), reason: stackReason, op: p.recordOpLocked(c, name, now, now.Add(d))}
	for i, s := range steps {
		e := event{id: p.uuidLocked(), logicalID: s.logical, status: s.status, reason: s.why,
			at: now.Add(time.Duration(float64(d)*s.frac) + time.Duration(i)*time.Microsecond)}
		if s.isStack {
			e.resourceType, e.physicalID = stackType, id
		} else {
			e.resourceType, e.physicalID = typ, physical
		}
		o.events = append(o.events, e)
	}
	p.stacks.overrides[stackKey{c.Account, c.Region, name}] = o
	p.injected[c.Region+"/"+name]++
	requestID := p.uuidLocked()
	p.mu.Unlock()
	p.log.Info("proxy: injected stack failure", "region", c.Region, "stack", name, "resource", res, "create", create)
	writeXML(w, fmt.Sprintf(`<ExecuteChangeSetResponse xmlns="%s"><ExecuteChangeSetResult/><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></ExecuteChangeSetResponse>`, cfnXMLNS, requestID), requestID)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func writeXML(w http.ResponseWriter, body, requestID string) {
	(&response{status: http.StatusOK, header: http.Header{"Content-Type": {"text/xml"}, "X-Amzn-Requestid": {requestID}}, body: []byte(body)}).write(w)
}

// describeStacks rewrites the status of stacks with an override, and
// answers for a stack being deleted that the emulator has already dropped.
func (p *Proxy) describeStacks(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	resp, err := p.forward(r, body)
	if err != nil {
		p.badGateway(w, c, err)
		return
	}
	now := p.now()
	p.mu.Lock()
	if resp.ok() {
		resp.body = p.rewriteStacksLocked(c, resp.body, now)
	} else if asked := c.Form.Get("StackName"); asked != "" && strings.Contains(string(resp.body), "does not exist") {
		if o := p.stacks.overrides[stackKey{c.Account, c.Region, stackNameOf(asked)}]; o != nil && o.kind == opDelete && o.matches(asked) {
			if st, _, ok := o.status(now, ""); ok {
				member := removeElement(setElement(o.member, "StackStatus", st, "CreationTime"), "StackStatusReason")
				requestID := p.uuidLocked()
				resp = &response{status: http.StatusOK, header: http.Header{"Content-Type": {"text/xml"}, "X-Amzn-Requestid": {requestID}},
					body: fmt.Appendf(nil, `<DescribeStacksResponse xmlns="%s"><DescribeStacksResult><Stacks>%s</Stacks></DescribeStacksResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></DescribeStacksResponse>`,
						cfnXMLNS, member, requestID)}
			}
		}
	}
	p.mu.Unlock()
	resp.write(w)
}

// rewriteStacksLocked applies the overrides to a DescribeStacks response.
func (p *Proxy) rewriteStacksLocked(c *call, body []byte, now time.Time) []byte {
	ranges, err := memberRanges(body, "Stacks")
	if err != nil {
		p.log.Warn("proxy: DescribeStacks response is not XML", "err", err)
		return body
	}
	// Back to front, so earlier ranges stay valid.
	for i := len(ranges) - 1; i >= 0; i-- {
		m := body[ranges[i][0]:ranges[i][1]]
		name, id := text(m, "StackName"), text(m, "StackId")
		o := p.stacks.overrides[stackKey{c.Account, c.Region, name}]
		if o == nil || (id != "" && !o.matches(id)) {
			continue
		}
		if op := o.op; op != nil && op.Noticed.IsZero() && !now.Before(op.Ended) {
			op.Noticed = now // this answer is the first to say it ended
		}
		st, reason, ok := o.status(now, text(m, "StackStatus"))
		if !ok {
			continue
		}
		nm := setElement(m, "StackStatus", st, "CreationTime")
		switch {
		case reason == nil:
		case *reason == "":
			nm = removeElement(nm, "StackStatusReason")
		default:
			nm = setElement(nm, "StackStatusReason", *reason, "StackStatus")
		}
		body = splice(body, ranges[i], string(nm))
	}
	return body
}

func (p *Proxy) describeStackEvents(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	resp, err := p.forward(r, body)
	if err != nil {
		p.badGateway(w, c, err)
		return
	}
	if resp.ok() {
		asked := c.Form.Get("StackName")
		now := p.now()
		p.mu.Lock()
		if o := p.stacks.overrides[stackKey{c.Account, c.Region, stackNameOf(asked)}]; o != nil && o.matches(asked) {
			resp.body = o.rewriteEvents(resp.body, now, c.Form.Get("NextToken") == "", p.log, p.stacks.stamps)
		}
		resp.body = restamp(resp.body, p.stacks.stamps)
		p.mu.Unlock()
	}
	resp.write(w)
}

// rewriteEvents hides the operation's events not yet due (restamping the
// others with the time they became due) and, on the first page, adds the
// due synthetic events, newest first.
func (o *override) rewriteEvents(body []byte, now time.Time, firstPage bool, log *slog.Logger, stamps map[string]time.Time) []byte {
	ranges, err := memberRanges(body, "StackEvents")
	if err != nil {
		log.Warn("proxy: DescribeStackEvents response is not XML", "err", err)
		return body
	}
	limit := now
	if !o.revealUntil.IsZero() && o.revealUntil.Before(limit) {
		limit = o.revealUntil
	}
	due := o.dueTimes(body, ranges)
	out := body
	for i := len(ranges) - 1; i >= 0; i-- {
		at, isOp := due[i]
		switch {
		case !isOp:
		case at.After(limit):
			out = splice(out, ranges[i], "")
		default:
			m := setElement(body[ranges[i][0]:ranges[i][1]], "Timestamp", at.UTC().Format(timeFormat), "ResourceType")
			out = splice(out, ranges[i], string(m))
			if id := text(body[ranges[i][0]:ranges[i][1]], "EventId"); id != "" {
				stamps[id] = at
			}
		}
	}
	if !firstPage {
		return out
	}
	newRanges, err := memberRanges(out, "StackEvents")
	if err != nil {
		return out
	}
	return insertMembers(out, "StackEvents", o.syntheticEvents(now), newRanges)
}

// dueTimes maps the index of each of the operation's events (those since
// opStart) to when it becomes due: spread evenly from opStart to opUntil,
// oldest first.
func (o *override) dueTimes(body []byte, ranges [][2]int) map[int]time.Time {
	type opEvent struct {
		idx int
		ts  time.Time
	}
	var ops []opEvent
	if !o.opStart.IsZero() {
		for i, rg := range ranges {
			ts, err := time.Parse(time.RFC3339Nano, text(body[rg[0]:rg[1]], "Timestamp"))
			if err == nil && !ts.Before(o.opStart) {
				ops = append(ops, opEvent{i, ts})
			}
		}
	}
	// Oldest first: by time, and for equal times later in the (newest
	// first) document is older.
	slices.SortStableFunc(ops, func(a, b opEvent) int {
		if c := a.ts.Compare(b.ts); c != 0 {
			return c
		}
		return b.idx - a.idx
	})
	due := map[int]time.Time{}
	for k, e := range ops {
		at := o.opUntil
		if len(ops) > 1 {
			at = o.opStart.Add(time.Duration(int64(o.opUntil.Sub(o.opStart)) * int64(k) / int64(len(ops)-1)))
		}
		due[e.idx] = at
	}
	return due
}

// syntheticEvents is the XML of the synthetic events due by now, newest
// first.
func (o *override) syntheticEvents(now time.Time) string {
	var b strings.Builder
	for i := len(o.events) - 1; i >= 0; i-- {
		e := o.events[i]
		if e.at.After(now) {
			continue
		}
		logical, physical := e.logicalID, e.physicalID
		if e.resourceType == stackType {
			logical, physical = o.name, o.id
		}
		fmt.Fprintf(&b, "<member><StackId>%s</StackId><EventId>%s</EventId><StackName>%s</StackName><LogicalResourceId>%s</LogicalResourceId>",
			escape(o.id), e.id, escape(o.name), escape(logical))
		if physical != "" {
			fmt.Fprintf(&b, "<PhysicalResourceId>%s</PhysicalResourceId>", escape(physical))
		}
		fmt.Fprintf(&b, "<ResourceType>%s</ResourceType><Timestamp>%s</Timestamp><ResourceStatus>%s</ResourceStatus>",
			escape(e.resourceType), e.at.UTC().Format(timeFormat), e.status)
		if e.reason != "" {
			fmt.Fprintf(&b, "<ResourceStatusReason>%s</ResourceStatusReason>", escape(e.reason))
		}
		b.WriteString("</member>")
	}
	return b.String()
}

// restamp gives the events the proxy timed before the times it gave them.
func restamp(body []byte, stamps map[string]time.Time) []byte {
	if len(stamps) == 0 {
		return body
	}
	ranges, err := memberRanges(body, "StackEvents")
	if err != nil {
		return body
	}
	out := body
	for i := len(ranges) - 1; i >= 0; i-- {
		m := body[ranges[i][0]:ranges[i][1]]
		at, ok := stamps[text(m, "EventId")]
		if !ok {
			continue
		}
		out = splice(out, ranges[i], string(setElement(m, "Timestamp", at.UTC().Format(timeFormat), "ResourceType")))
	}
	return out
}
