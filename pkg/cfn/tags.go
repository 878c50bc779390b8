package cfn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// UpdateTags replaces the stack's tags, keeping its template and parameter
// values (UpdateStack with the previous template), and waits for the
// update. It is for a change set that came back empty although the tags
// differ (moto's does; on AWS a tags-only change set is ready with an empty
// change list and applies the tags when executed). Tags equal to the
// stack's cost no update.
func (c *Client) UpdateTags(ctx context.Context, name string, want map[string]string) error {
	st, err := c.Describe(ctx, name)
	if err != nil {
		return err
	}
	if !st.Exists {
		return fmt.Errorf("updating the tags of stack %s: it does not exist", name)
	}
	if maps.Equal(st.Tags, want) {
		return nil
	}
	params := make([]types.Parameter, 0, len(st.Parameters))
	for _, k := range slices.Sorted(maps.Keys(st.Parameters)) {
		params = append(params, types.Parameter{ParameterKey: aws.String(k), UsePreviousValue: aws.Bool(true)})
	}
	tr := &eventTracker{stackID: st.ID, stackName: name, seen: map[string]bool{}}
	// A tags-only update takes its own time: no expectation from the last.
	if _, err := tr.markBoundary(ctx, c.api); err != nil {
		return fmt.Errorf("updating the tags of stack %s: reading its events: %w", name, err)
	}
	_, err = c.api.UpdateStack(ctx, &cloudformation.UpdateStackInput{
		StackName:           aws.String(st.ID),
		UsePreviousTemplate: aws.Bool(true),
		Parameters:          params,
		Tags:                tags(want),
		Capabilities:        []types.Capability{types.CapabilityCapabilityIam},
	})
	var ae smithy.APIError
	if errors.As(err, &ae) && isNoChanges(ae.ErrorMessage()) {
		// moto compares only template and parameters; AWS updates the tags.
		return fmt.Errorf("updating the tags of stack %s: CloudFormation answered %q; the tags were not applied", name, ae.ErrorMessage())
	}
	if err != nil {
		return fmt.Errorf("updating the tags of stack %s: %w", name, err)
	}
	cs := &ChangeSet{StackName: name, StackID: st.ID, Type: string(types.ChangeSetTypeUpdate)}
	res, err := c.follow(ctx, cs, tr, func(Event) {}, pace{}, c.now())
	if err != nil {
		return fmt.Errorf("updating the tags of stack %s: %w", name, err)
	}
	if res.Failed {
		reasons := res.StatusReason
		if len(res.Reasons) > 0 {
			reasons = res.Reasons[0].String()
		}
		return fmt.Errorf("updating the tags of stack %s: ended %s: %s", name, res.Status, reasons)
	}
	return nil
}
