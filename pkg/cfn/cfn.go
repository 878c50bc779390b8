// Package cfn drives AWS CloudFormation for gantry: it describes stacks,
// makes and reviews change sets, executes them while streaming the stack's
// events, and manages the stack settings gantry relies on (termination
// protection, stack policies).
//
// Every wait has a deadline. A stack wait polls around the time the
// operation is expected to take (quiet early, dense just past the
// expected end; see pace), or, with no expectation, with a jittered
// back-off that never sleeps more than a twentieth of the time waited; it
// reads the stack's events only when the status changes and at the end.
// Retries of throttling and 5xx errors are left to the SDK's retryer: the
// Limiter's (throttling retried while the deadline allows, behind a
// client-side rate limit per account, region and operation shared by a
// process's clients) for the clients made with it, else the client's own.
package cfn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// API is the part of *cloudformation.Client the driver uses.
type API interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	DescribeStackEvents(context.Context, *cloudformation.DescribeStackEventsInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error)
	CreateChangeSet(context.Context, *cloudformation.CreateChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.CreateChangeSetOutput, error)
	DescribeChangeSet(context.Context, *cloudformation.DescribeChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeChangeSetOutput, error)
	ExecuteChangeSet(context.Context, *cloudformation.ExecuteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.ExecuteChangeSetOutput, error)
	DeleteChangeSet(context.Context, *cloudformation.DeleteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteChangeSetOutput, error)
	UpdateStack(context.Context, *cloudformation.UpdateStackInput, ...func(*cloudformation.Options)) (*cloudformation.UpdateStackOutput, error)
	DeleteStack(context.Context, *cloudformation.DeleteStackInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error)
	CancelUpdateStack(context.Context, *cloudformation.CancelUpdateStackInput, ...func(*cloudformation.Options)) (*cloudformation.CancelUpdateStackOutput, error)
	UpdateTerminationProtection(context.Context, *cloudformation.UpdateTerminationProtectionInput, ...func(*cloudformation.Options)) (*cloudformation.UpdateTerminationProtectionOutput, error)
	SetStackPolicy(context.Context, *cloudformation.SetStackPolicyInput, ...func(*cloudformation.Options)) (*cloudformation.SetStackPolicyOutput, error)
	GetStackPolicy(context.Context, *cloudformation.GetStackPolicyInput, ...func(*cloudformation.Options)) (*cloudformation.GetStackPolicyOutput, error)
	ListImports(context.Context, *cloudformation.ListImportsInput, ...func(*cloudformation.Options)) (*cloudformation.ListImportsOutput, error)
}

var _ API = (*cloudformation.Client)(nil)

// Default deadlines for waits whose context has none sooner.
const (
	DefaultStackTimeout     = time.Hour
	DefaultChangeSetTimeout = 5 * time.Minute
	// DefaultCancelTimeout bounds the wait for a cancelled update's rollback,
	// which runs on a fresh context after the caller's has ended.
	DefaultCancelTimeout = 30 * time.Minute
)

// MaxTemplateBody is the largest template CloudFormation accepts inline.
const MaxTemplateBody = 51200

// Client is the CloudFormation driver for one account and region. Its
// exported fields may be changed before first use.
type Client struct {
	api    API
	region string

	// Logger gets one line per wait and per notable decision; nil discards.
	Logger *slog.Logger
	// Poll is the back-off between polls of a change set or stack.
	Poll Backoff
	// StackTimeout, ChangeSetTimeout and CancelTimeout bound the waits.
	StackTimeout, ChangeSetTimeout, CancelTimeout time.Duration

	// pressed reports whether the process's DescribeStacks calls in this
	// account and region are throttled lately (Limiter.Attach); nil: never.
	pressed func() bool

	sleep  func(ctx context.Context, d time.Duration) error // tests replace it
	random func() float64                                   // in [0,1), for jitter
	now    func() time.Time
}

// New returns a driver over api (normally a *cloudformation.Client, whose
// region is then named in the commands error messages suggest).
func New(api API) *Client {
	c := &Client{
		api:              api,
		Logger:           slog.New(slog.DiscardHandler),
		Poll:             DefaultBackoff(),
		StackTimeout:     DefaultStackTimeout,
		ChangeSetTimeout: DefaultChangeSetTimeout,
		CancelTimeout:    DefaultCancelTimeout,
		sleep:            sleepContext,
		random:           rand.Float64,
		now:              time.Now,
	}
	if o, ok := api.(interface{ Options() cloudformation.Options }); ok {
		c.region = o.Options().Region
	}
	return c
}

func (c *Client) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Stack is what DescribeStacks says about one stack.
type Stack struct {
	Name   string
	ID     string
	Status string
	// StatusReason explains the status, mostly for failures.
	StatusReason string
	// Exists is false when there is no such stack (and every other field is
	// empty but Name).
	Exists  bool
	Tags    map[string]string
	Outputs map[string]string
	// Exports are the export names of the outputs that have one, by
	// output key.
	Exports               map[string]string
	Parameters            map[string]string
	TerminationProtection bool
	// LastUpdated is the last update's time, else the creation time.
	LastUpdated time.Time
}

// Importers returns the stacks that import the export name (ListImports).
func (c *Client) Importers(ctx context.Context, export string) ([]string, error) {
	var out []string
	pages := cloudformation.NewListImportsPaginator(c.api, &cloudformation.ListImportsInput{ExportName: aws.String(export)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the stacks that import %s: %w", export, err)
		}
		out = append(out, page.Imports...)
	}
	return out, nil
}

// Describe returns the stack named name. A stack that does not exist (or
// was deleted) is reported with Exists false and no error.
func (c *Client) Describe(ctx context.Context, name string) (*Stack, error) {
	out, err := c.api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		if isStackNotFound(err) {
			return &Stack{Name: name}, nil
		}
		return nil, fmt.Errorf("describing stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return &Stack{Name: name}, nil
	}
	s := out.Stacks[0]
	if s.StackStatus == types.StackStatusDeleteComplete {
		// Only a lookup by stack ID returns deleted stacks.
		return &Stack{Name: name}, nil
	}
	st := &Stack{
		Name:                  aws.ToString(s.StackName),
		ID:                    aws.ToString(s.StackId),
		Status:                string(s.StackStatus),
		StatusReason:          aws.ToString(s.StackStatusReason),
		Exists:                true,
		Tags:                  map[string]string{},
		Outputs:               map[string]string{},
		Exports:               map[string]string{},
		Parameters:            map[string]string{},
		TerminationProtection: aws.ToBool(s.EnableTerminationProtection),
		LastUpdated:           aws.ToTime(s.CreationTime),
	}
	if s.LastUpdatedTime != nil {
		st.LastUpdated = *s.LastUpdatedTime
	}
	for _, t := range s.Tags {
		st.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for _, o := range s.Outputs {
		st.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
		if o.ExportName != nil {
			st.Exports[aws.ToString(o.OutputKey)] = aws.ToString(o.ExportName)
		}
	}
	for _, p := range s.Parameters {
		st.Parameters[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return st, nil
}

// describeID is DescribeStacks by stack ID, which also finds a deleted
// stack (DELETE_COMPLETE).
func (c *Client) describeID(ctx context.Context, id string, opts ...func(*cloudformation.Options)) (types.Stack, error) {
	out, err := c.api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(id)}, opts...)
	if err != nil {
		if isStackNotFound(err) {
			return types.Stack{StackId: aws.String(id), StackStatus: types.StackStatusDeleteComplete}, nil
		}
		return types.Stack{}, err
	}
	if len(out.Stacks) == 0 {
		return types.Stack{StackId: aws.String(id), StackStatus: types.StackStatusDeleteComplete}, nil
	}
	return out.Stacks[0], nil
}

// Delete deletes the stack and waits until it is gone. A stack that does
// not exist is not an error; a protected one is (the error says so).
func (c *Client) Delete(ctx context.Context, name string) error {
	st, err := c.Describe(ctx, name)
	if err != nil {
		return err
	}
	if !st.Exists {
		return nil
	}
	if st.TerminationProtection {
		return fmt.Errorf("deleting stack %s: termination protection is on; turn it off first (aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name %s%s)",
			name, name, c.regionFlag())
	}
	c.log().InfoContext(ctx, "deleting stack", "stack", name, "status", st.Status)
	if _, err := c.api.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(st.ID)}); err != nil {
		return fmt.Errorf("deleting stack %s: %w", name, err)
	}
	final, err := c.waitSettled(ctx, st.ID, name, "deletion")
	if err != nil {
		return err
	}
	if final.StackStatus != types.StackStatusDeleteComplete {
		return fmt.Errorf("deleting stack %s: ended %s: %s", name, final.StackStatus, aws.ToString(final.StackStatusReason))
	}
	return nil
}

// waitSettled polls the stack (by ID) until its status is no longer an
// in-progress one, within StackTimeout. what names the operation for errors.
func (c *Client) waitSettled(ctx context.Context, id, name, what string) (types.Stack, error) {
	ctx, cancel := context.WithTimeout(ctx, c.StackTimeout)
	defer cancel()
	next := c.Poll.schedule(c.random)
	var last types.Stack
	for delay := time.Duration(0); ; delay = next() {
		if err := c.sleep(ctx, delay); err != nil {
			return last, fmt.Errorf("waiting for the %s of stack %s (last status %s): %w", what, name, orNone(string(last.StackStatus)), err)
		}
		s, err := c.describeID(ctx, id)
		if err != nil {
			return last, fmt.Errorf("waiting for the %s of stack %s: %w", what, name, err)
		}
		last = s
		if settled(string(s.StackStatus)) {
			return s, nil
		}
	}
}

// SetTerminationProtection turns the stack's termination protection on or off.
func (c *Client) SetTerminationProtection(ctx context.Context, name string, on bool) error {
	_, err := c.api.UpdateTerminationProtection(ctx, &cloudformation.UpdateTerminationProtectionInput{
		StackName:                   aws.String(name),
		EnableTerminationProtection: aws.Bool(on),
	})
	if err != nil {
		return fmt.Errorf("setting termination protection of stack %s to %t: %w", name, on, err)
	}
	return nil
}

// SetStackPolicy replaces the stack's policy with policyJSON.
func (c *Client) SetStackPolicy(ctx context.Context, name, policyJSON string) error {
	_, err := c.api.SetStackPolicy(ctx, &cloudformation.SetStackPolicyInput{
		StackName:       aws.String(name),
		StackPolicyBody: aws.String(policyJSON),
	})
	if err != nil {
		return fmt.Errorf("setting the stack policy of %s: %w", name, err)
	}
	return nil
}

// StackPolicy returns the stack's policy ("" when it has none).
func (c *Client) StackPolicy(ctx context.Context, name string) (string, error) {
	out, err := c.api.GetStackPolicy(ctx, &cloudformation.GetStackPolicyInput{StackName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("reading the stack policy of %s: %w", name, err)
	}
	return aws.ToString(out.StackPolicyBody), nil
}

// regionFlag is " --region R" for suggested commands, when the region is known.
func (c *Client) regionFlag() string {
	if c.region == "" {
		return ""
	}
	return " --region " + c.region
}

// settled reports whether a stack status is final (nothing in progress).
// REVIEW_IN_PROGRESS is final too: the stack waits for a change set.
func settled(status string) bool {
	return status == string(types.StackStatusReviewInProgress) || !strings.HasSuffix(status, "_IN_PROGRESS")
}

// failedStatus reports whether a settled status means the last operation
// failed (including every rollback).
func failedStatus(status string) bool {
	return strings.Contains(status, "ROLLBACK") || strings.HasSuffix(status, "_FAILED")
}

// isStackNotFound recognises DescribeStacks' answer for a missing stack.
func isStackNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// RollbackFailedError is returned when a stack ends in
// UPDATE_ROLLBACK_FAILED: CloudFormation could not undo a failed update and
// the stack takes no change until the rollback is continued.
type RollbackFailedError struct {
	Stack, Region, Reason string
}

func (e *RollbackFailedError) Error() string {
	region := ""
	if e.Region != "" {
		region = " --region " + e.Region
	}
	reason := ""
	if e.Reason != "" {
		reason = " (" + e.Reason + ")"
	}
	return fmt.Sprintf("stack %s is UPDATE_ROLLBACK_FAILED%s: fix what blocked the rollback, then run: aws cloudformation continue-update-rollback --stack-name %s%s",
		e.Stack, reason, e.Stack, region)
}
