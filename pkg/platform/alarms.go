package platform

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// CloudWatchAPI is the part of the CloudWatch client EnsureDemoAlarms uses.
type CloudWatchAPI interface {
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
}

// DemoAlarmNamespace is the metric namespace of the demo's stand-in alarms.
const DemoAlarmNamespace = "Gantry/Demo"

// EnsureDemoAlarms makes the named alarms exist (a descriptor's
// rollout.alarms, which a team's own monitoring would make on AWS): a
// rollout refuses to start while an alarm its bakes watch is missing, so
// a rehearsal on the emulator needs them. They watch a demo metric nobody
// publishes, so they never fire by themselves; tests set their state.
func EnsureDemoAlarms(ctx context.Context, cw CloudWatchAPI, names []string) ([]Resource, error) {
	if len(names) == 0 {
		return nil, nil
	}
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
		AlarmNames: names,
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
	})
	if err != nil {
		return nil, fmt.Errorf("demo alarms: reading them: %w", err)
	}
	exists := map[string]bool{}
	for _, a := range out.MetricAlarms {
		exists[aws.ToString(a.AlarmName)] = true
	}
	for _, a := range out.CompositeAlarms {
		exists[aws.ToString(a.AlarmName)] = true
	}
	var res []Resource
	for _, n := range names {
		if exists[n] {
			res = append(res, Resource{Kind: "alarm", ID: n, Status: Found})
			continue
		}
		_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName:          aws.String(n),
			AlarmDescription:   aws.String("gantry demo stand-in for rollout.alarms: watches a metric nobody publishes"),
			Namespace:          aws.String(DemoAlarmNamespace),
			MetricName:         aws.String("Unused"),
			Statistic:          cwtypes.StatisticMaximum,
			Period:             aws.Int32(60),
			EvaluationPeriods:  aws.Int32(1),
			Threshold:          aws.Float64(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
			TreatMissingData:   aws.String("notBreaching"),
		})
		if err != nil {
			return res, fmt.Errorf("demo alarms: creating %s: %w", n, err)
		}
		res = append(res, Resource{Kind: "alarm", ID: n, Status: Created})
	}
	return res, nil
}
