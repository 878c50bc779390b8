package cfn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// ChangeSetInput is what a change set is made from.
type ChangeSetInput struct {
	StackName string
	Template  []byte
	// TemplateURL, when set, is where CloudFormation reads the template
	// (an S3 object holding Template): a template over MaxTemplateBody
	// can only be passed that way.
	TemplateURL string
	// Parameters are passed as given; a template parameter not named here
	// takes its default.
	Parameters  map[string]string
	Tags        map[string]string
	Description string
	// Current is the stack as the caller has just described it, saving a
	// describe call; nil describes it.
	Current *Stack
}

// ChangeSet is a change set that is ready to execute, or an empty one.
type ChangeSet struct {
	ID        string // the change set's ARN
	Name      string
	StackName string
	StackID   string
	// Type is "CREATE" for a new stack, "UPDATE" for an existing one.
	Type string
	// Empty means the template and parameters match the stack's: the change
	// set was deleted and there is nothing to execute.
	Empty   bool
	Changes []Change

	// marked is the stack's event history read ahead of the execution
	// (MarkEvents), so that Execute need not read it then.
	marked *eventMark
}

// eventMark is where a stack's events stood before an execution.
type eventMark struct {
	boundary string        // newest event ID; "" when none
	previous time.Duration // how long the last operation took; 0 unknown
}

// MarkEvents reads the stack's events now, for an Execute of cs later:
// with a change set made ahead of its turn, that read is then not on the
// way to the execution. Nothing else may change the stack in between (the
// rollout holds the stage's lock).
func (c *Client) MarkEvents(ctx context.Context, cs *ChangeSet) error {
	if cs == nil || cs.Empty {
		return nil
	}
	tr := &eventTracker{stackID: cs.StackID, stackName: cs.StackName, seen: map[string]bool{}}
	previous, err := tr.markBoundary(ctx, c.api)
	if err != nil {
		return fmt.Errorf("reading the events of stack %s: %w", cs.StackName, err)
	}
	cs.marked = &eventMark{boundary: tr.boundary, previous: previous}
	return nil
}

// Change is one resource's entry in a change set.
type Change struct {
	LogicalID    string
	PhysicalID   string
	ResourceType string
	// Action is Add, Modify, Remove, Import or Dynamic.
	Action string
	// Replacement is "True", "False" or "Conditional" for Modify, "" else.
	Replacement string
	// PolicyAction is what the resource's DeletionPolicy or
	// UpdateReplacePolicy does to it (Delete, Retain, Snapshot,
	// ReplaceAndDelete, ...), when CloudFormation reports it.
	PolicyAction string
	// Causes names the properties behind the change: those whose change
	// requires recreating the resource (RequiresRecreation Always or
	// Conditionally) when there are any, otherwise every changed property.
	// "Tags" stands for a change of the tags.
	Causes []string
}

// Replaces reports whether the change replaces (or may replace) the
// resource.
func (ch Change) Replaces() bool {
	return ch.Replacement == string(types.ReplacementTrue) || ch.Replacement == string(types.ReplacementConditional)
}

// CreateChangeSet makes a change set for in.StackName and waits until it is
// ready: CREATE for a new stack, UPDATE for an existing one. A stack left in
// ROLLBACK_COMPLETE by a failed first create is deleted first; a stack busy
// with another operation is waited for. A change set without changes is
// deleted and returned with Empty set. The change set is never executed here.
func (c *Client) CreateChangeSet(ctx context.Context, in ChangeSetInput) (*ChangeSet, error) {
	name := in.StackName
	if len(in.Template) > MaxTemplateBody && in.TemplateURL == "" {
		return nil, fmt.Errorf("change set for stack %s: the template is %d bytes; CloudFormation takes at most %d inline (pass it by TemplateURL)", name, len(in.Template), MaxTemplateBody)
	}
	st, err := c.prepareStack(ctx, name, in.Current)
	if err != nil {
		return nil, err
	}
	kind := types.ChangeSetTypeUpdate
	if !st.Exists || st.Status == string(types.StackStatusReviewInProgress) {
		kind = types.ChangeSetTypeCreate
	}
	csName, err := changeSetName(c.now())
	if err != nil {
		return nil, err
	}
	input := &cloudformation.CreateChangeSetInput{
		StackName:           aws.String(name),
		ChangeSetName:       aws.String(csName),
		ChangeSetType:       kind,
		Parameters:          parameters(in.Parameters),
		Tags:                tags(in.Tags),
		Capabilities:        []types.Capability{types.CapabilityCapabilityIam},
		IncludeNestedStacks: aws.Bool(false),
	}
	if in.TemplateURL != "" {
		input.TemplateURL = aws.String(in.TemplateURL)
	} else {
		input.TemplateBody = aws.String(string(in.Template))
	}
	if in.Description != "" {
		input.Description = aws.String(in.Description)
	}
	cs := &ChangeSet{Name: csName, StackName: name, Type: string(kind)}
	out, err := c.api.CreateChangeSet(ctx, input)
	switch {
	case err == nil:
		cs.ID, cs.StackID = aws.ToString(out.Id), aws.ToString(out.StackId)
	case isAlreadyExists(err):
		// A retried call whose first attempt made the change set but whose
		// answer was lost: the name is this call's own, so that change set
		// is the one asked for.
		if err := c.findChangeSet(ctx, cs); err != nil {
			return nil, fmt.Errorf("creating %s change set for stack %s: it already exists, and %w", kind, name, err)
		}
	default:
		return nil, fmt.Errorf("creating %s change set for stack %s: %w", kind, name, err)
	}
	c.log().DebugContext(ctx, "change set created", "stack", name, "type", kind, "changeSet", csName)
	return cs, c.waitChangeSet(ctx, cs)
}

func isAlreadyExists(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "AlreadyExistsException"
}

// findChangeSet fills in the IDs of the change set cs names.
func (c *Client) findChangeSet(ctx context.Context, cs *ChangeSet) error {
	out, err := c.api.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(cs.Name), StackName: aws.String(cs.StackName)})
	if err != nil {
		return fmt.Errorf("looking it up: %w", err)
	}
	cs.ID, cs.StackID = aws.ToString(out.ChangeSetId), aws.ToString(out.StackId)
	c.log().InfoContext(ctx, "change set already created (a retried call whose first attempt ran)", "stack", cs.StackName, "changeSet", cs.Name)
	return nil
}

// prepareStack describes the stack and brings it to a state a change set
// can be made for.
func (c *Client) prepareStack(ctx context.Context, name string, st *Stack) (*Stack, error) {
	var err error
	if st == nil || st.Name != name {
		if st, err = c.Describe(ctx, name); err != nil {
			return nil, err
		}
	}
	if !st.Exists {
		return st, nil
	}
	if !settled(st.Status) {
		// Another operation (a rollout killed mid-update, say) is still
		// running; CloudFormation refuses change sets until it ends.
		c.log().InfoContext(ctx, "stack busy; waiting for it to settle", "stack", name, "status", st.Status)
		if _, err := c.waitSettled(ctx, st.ID, name, st.Status+" operation"); err != nil {
			return nil, err
		}
		if st, err = c.Describe(ctx, name); err != nil {
			return nil, err
		}
		if !st.Exists {
			return st, nil
		}
	}
	switch st.Status {
	case string(types.StackStatusRollbackComplete):
		// A failed first create leaves a stack that can only be deleted.
		c.log().InfoContext(ctx, "deleting stack left by a failed create", "stack", name, "status", st.Status)
		if err := c.Delete(ctx, name); err != nil {
			return nil, fmt.Errorf("removing stack %s left in ROLLBACK_COMPLETE by a failed create: %w", name, err)
		}
		return &Stack{Name: name}, nil
	case string(types.StackStatusUpdateRollbackFailed):
		return nil, &RollbackFailedError{Stack: name, Region: c.region, Reason: st.StatusReason}
	case string(types.StackStatusRollbackFailed), string(types.StackStatusDeleteFailed):
		return nil, fmt.Errorf("stack %s is %s (%s) and can only be deleted: aws cloudformation delete-stack --stack-name %s%s",
			name, st.Status, orNone(st.StatusReason), name, c.regionFlag())
	}
	return st, nil
}

// waitChangeSet polls until the change set is ready or failed, then fills
// cs: its changes, or Empty (after deleting it).
func (c *Client) waitChangeSet(ctx context.Context, cs *ChangeSet) error {
	wctx, cancel := context.WithTimeout(ctx, c.ChangeSetTimeout)
	defer cancel()
	next := c.Poll.schedule(c.random)
	var out *cloudformation.DescribeChangeSetOutput
	for delay := time.Duration(0); ; delay = next() {
		if err := c.sleep(wctx, delay); err != nil {
			return fmt.Errorf("waiting for change set %s of stack %s: %w", cs.Name, cs.StackName, err)
		}
		var err error
		out, err = c.api.DescribeChangeSet(wctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(cs.ID)})
		if err != nil {
			return fmt.Errorf("waiting for change set %s of stack %s: %w", cs.Name, cs.StackName, err)
		}
		if out.Status == types.ChangeSetStatusCreateComplete || out.Status == types.ChangeSetStatusFailed {
			break
		}
	}
	if out.Status == types.ChangeSetStatusFailed {
		reason := aws.ToString(out.StatusReason)
		if isNoChanges(reason) {
			cs.Empty = true
			// A fresh context: the change set should go even if ctx just ended.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			return c.DeleteChangeSet(dctx, cs)
		}
		return fmt.Errorf("change set for stack %s failed: %s", cs.StackName, orNone(reason))
	}
	for {
		for _, rc := range out.Changes {
			if rc.ResourceChange != nil {
				cs.Changes = append(cs.Changes, change(rc.ResourceChange))
			}
		}
		if out.NextToken == nil {
			return nil
		}
		var err error
		out, err = c.api.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(cs.ID), NextToken: out.NextToken})
		if err != nil {
			return fmt.Errorf("listing the changes of change set %s of stack %s: %w", cs.Name, cs.StackName, err)
		}
	}
}

// DeleteChangeSet deletes the change set (which is gone already when Empty
// was reported; deleting it again is not an error).
func (c *Client) DeleteChangeSet(ctx context.Context, cs *ChangeSet) error {
	_, err := c.api.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: aws.String(cs.ID)})
	var missing *types.ChangeSetNotFoundException
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("deleting change set %s of stack %s: %w", cs.Name, cs.StackName, err)
	}
	return nil
}

// isNoChanges recognises the reasons of a change set with nothing to do
// (the first is AWS's; some tools and emulators give UpdateStack's).
func isNoChanges(reason string) bool {
	return strings.Contains(reason, "didn't contain changes") || strings.Contains(reason, "No updates are to be performed")
}

func change(rc *types.ResourceChange) Change {
	ch := Change{
		LogicalID:    aws.ToString(rc.LogicalResourceId),
		PhysicalID:   aws.ToString(rc.PhysicalResourceId),
		ResourceType: aws.ToString(rc.ResourceType),
		Action:       string(rc.Action),
		Replacement:  string(rc.Replacement),
		PolicyAction: string(rc.PolicyAction),
	}
	var recreate, changed []string
	for _, d := range rc.Details {
		if d.Target == nil {
			continue
		}
		prop := aws.ToString(d.Target.Name)
		if d.Target.Attribute == types.ResourceAttributeTags || prop == "" {
			prop = string(d.Target.Attribute)
		}
		if prop == "" {
			continue
		}
		changed = append(changed, prop)
		if r := d.Target.RequiresRecreation; r == types.RequiresRecreationAlways || r == types.RequiresRecreationConditionally {
			recreate = append(recreate, prop)
		}
	}
	if len(recreate) > 0 {
		changed = recreate
	}
	slices.Sort(changed)
	ch.Causes = slices.Compact(changed)
	return ch
}

func parameters(m map[string]string) []types.Parameter {
	out := make([]types.Parameter, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(m[k])})
	}
	return out
}

func tags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// changeSetName is unique per call and sorts by time:
// gantry-20260828T101500Z-1a2b3c4d.
func changeSetName(now time.Time) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("naming a change set: %w", err)
	}
	return "gantry-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]), nil
}

// Executable reports whether cs can still be executed: a change set made
// ahead of time goes stale when its stack changes in between.
func (c *Client) Executable(ctx context.Context, cs *ChangeSet) (bool, error) {
	out, err := c.api.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(cs.ID)})
	var missing *types.ChangeSetNotFoundException
	switch {
	case errors.As(err, &missing):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("describing change set %s of stack %s: %w", cs.Name, cs.StackName, err)
	}
	return out.Status == types.ChangeSetStatusCreateComplete && out.ExecutionStatus == types.ExecutionStatusAvailable, nil
}
