package awsbackend

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/gantryhq/gantry/pkg/deploy"
)

// StableOnly implements deploy.TrafficSwitch: one ModifyRule puts every
// request on the stable target group, then one UpdateService scales the
// canary to zero tasks. The traffic moves first: it is what users see.
func (r *region) StableOnly(ctx context.Context, t deploy.CanaryTargets) error {
	_, err := r.elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{
		RuleArn: aws.String(t.Rule),
		Actions: []elbtypes.Action{{
			Type: elbtypes.ActionTypeEnumForward,
			ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(t.StableGroup), Weight: aws.Int32(100)},
				{TargetGroupArn: aws.String(t.CanaryGroup), Weight: aws.Int32(0)},
			}},
		}},
	})
	if err != nil {
		return fmt.Errorf("moving the traffic of listener rule %s to the stable target group: %w", t.Rule, err)
	}
	if t.CanaryService == "" {
		return nil
	}
	_, err = r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(t.Cluster), Service: aws.String(t.CanaryService), DesiredCount: aws.Int32(0),
	})
	if err != nil {
		return errors.Join(errors.New("the traffic is back on the stable service"),
			fmt.Errorf("scaling the canary service %s to zero: %w", t.CanaryService, err))
	}
	return nil
}
