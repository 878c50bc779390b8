package render

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/cloudwatch"
	"github.com/awslabs/goformation/v7/cloudformation/ecs"
	"github.com/awslabs/goformation/v7/cloudformation/events"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/scheduler"
	"github.com/awslabs/goformation/v7/cloudformation/tags"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
)

// idSchedulerRole is the role EventBridge Scheduler starts the jobs with.
const idSchedulerRole = "SchedulerRole"

// jobID is the logical ID of a job's resource of kind: JobNightlyReportSchedule.
func jobID(job, kind string) string { return "Job" + naming.LogicalStem(job) + kind }

// JobTaskDefinitionOutput is the app or release stack output holding a
// job's task definition ARN.
func JobTaskDefinitionOutput(job string) string { return jobID(job, "TaskDefinitionArn") }

// scheduledJobs lists the jobs run on a schedule, sorted by name.
func (c *ctx) scheduledJobs() []string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(c.spec.Jobs)) {
		if j := c.spec.Jobs[n]; j != nil && !j.BeforeDeploy {
			out = append(out, n)
		}
	}
	return out
}

// releaseJobs lists the release tasks (beforeDeploy), sorted by name.
func (c *ctx) releaseJobs() []string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(c.spec.Jobs)) {
		if j := c.spec.Jobs[n]; j != nil && j.BeforeDeploy {
			out = append(out, n)
		}
	}
	return out
}

// jobTaskDefinition adds a job's task definition: the app container's image
// (at the deployed version), env and secrets, with the job's command, cpu
// and memory, run by the given roles, logging to logGroup.
func (c *ctx) jobTaskDefinition(b *stackBuilder, tg []tags.Tag, name string, app ecs.TaskDefinition_ContainerDefinition, execRole, taskRole, logGroup string) error {
	f := b.fns
	j := c.spec.Jobs[name]
	ct := app
	ct.Name, ct.PortMappings, ct.Cpu, ct.Memory, ct.Command = name, nil, nil, nil, nil
	ct.LogConfiguration = c.logConfig(f, logGroup)
	for i, arg := range j.Command {
		v, err := c.value(f, arg, "jobs."+name+".command["+strconv.Itoa(i)+"]")
		if err != nil {
			return err
		}
		ct.Command = append(ct.Command, v)
	}
	b.resource(jobID(name, "TaskDefinition"), &ecs.TaskDefinition{
		Family:                  ptr(naming.JobFamily(c.service(), c.stageName(), name)),
		RequiresCompatibilities: []string{"FARGATE"},
		NetworkMode:             ptr("awsvpc"),
		Cpu:                     ptr(strconv.Itoa(j.CPU)),
		Memory:                  ptr(strconv.Itoa(j.Memory)),
		ExecutionRoleArn:        ptr(execRole),
		TaskRoleArn:             ptr(taskRole),
		ContainerDefinitions:    []ecs.TaskDefinition_ContainerDefinition{ct},
		Tags:                    tg,
	})
	b.output(JobTaskDefinitionOutput(name), cloudformation.Output{Value: f.ref(jobID(name, "TaskDefinition")), Description: ptr("Task definition of job " + name)})
	return nil
}

// clusterARN is the platform cluster's ARN, from its name.
func clusterARN(f fns) string { return f.arn("ecs", "cluster/", f.ref(paramCluster)) }

// jobs adds the scheduled jobs of the app stack: per job a task definition,
// an EventBridge Scheduler schedule and the alarm on its failed runs; and
// one role the scheduler starts them with, allowed exactly that.
func (c *ctx) jobs(b *stackBuilder, tg []tags.Tag, app ecs.TaskDefinition_ContainerDefinition) error {
	names := c.scheduledJobs()
	if len(names) == 0 {
		return nil
	}
	f := b.fns
	var taskDefs []string
	for _, name := range names {
		if err := c.jobTaskDefinition(b, tg, name, app, f.getAtt(idExecutionRole, "Arn"), f.getAtt(idTaskRole, "Arn"), f.ref(idLogGroup)); err != nil {
			return err
		}
		taskDefs = append(taskDefs, f.ref(jobID(name, "TaskDefinition")))
		c.schedule(b, name)
		c.jobAlarm(b, tg, name)
	}
	// Where the jobs run, for gantry run.
	clusterOutput(b)
	b.output(OutputSubnets, cloudformation.Output{Value: f.fn("Fn::Join", []any{",", f.ref(paramSubnets)}), Description: ptr("Subnets of the jobs")})
	b.output(OutputSecurityGroup, cloudformation.Output{Value: f.getAtt(idServiceSG, "GroupId"), Description: ptr("Security group of the jobs (with the data stack's ClientSecurityGroupId, when it has one)")})
	b.resource(idSchedulerRole, &iam.Role{
		Description:              ptr(fmt.Sprintf("Lets EventBridge Scheduler start the scheduled jobs of %s %s, and nothing else", c.service(), c.stageName())),
		AssumeRolePolicyDocument: serviceTrust(f, "scheduler.amazonaws.com"),
		Policies: []iam.Role_Policy{{PolicyName: "run-jobs", PolicyDocument: map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{
				map[string]any{"Sid": "RunJobs", "Effect": "Allow", "Action": []string{"ecs:RunTask"}, "Resource": taskDefs,
					"Condition": map[string]any{"ArnEquals": map[string]any{"ecs:cluster": clusterARN(f)}}},
				map[string]any{"Sid": "PassTaskRoles", "Effect": "Allow", "Action": []string{"iam:PassRole"},
					"Resource":  []string{f.getAtt(idExecutionRole, "Arn"), f.getAtt(idTaskRole, "Arn")},
					"Condition": map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
			},
		}}},
		Tags: tg,
	})
	return nil
}

// taskSecurityGroups are the security groups a task of the service joins:
// own, and the data stack's client group when there are stores to reach.
func (c *ctx) taskSecurityGroups(f fns, own string) []string {
	groups := []string{own}
	if c.network() {
		groups = append(groups, f.importValue(c.exportName(OutputClientSG)))
	}
	return groups
}

func (c *ctx) schedule(b *stackBuilder, name string) {
	f := b.fns
	j := c.spec.Jobs[name]
	s := &scheduler.Schedule{
		Description:        ptr(fmt.Sprintf("Runs job %s of %s %s", name, c.service(), c.stageName())),
		ScheduleExpression: j.Schedule,
		FlexibleTimeWindow: &scheduler.Schedule_FlexibleTimeWindow{Mode: "OFF"},
		State:              ptr("ENABLED"),
		Target: &scheduler.Schedule_Target{
			Arn:     clusterARN(f),
			RoleArn: f.getAtt(idSchedulerRole, "Arn"),
			EcsParameters: &scheduler.Schedule_EcsParameters{
				TaskDefinitionArn: f.ref(jobID(name, "TaskDefinition")),
				LaunchType:        ptr("FARGATE"),
				TaskCount:         ptr(1.0),
				NetworkConfiguration: &scheduler.Schedule_NetworkConfiguration{AwsvpcConfiguration: &scheduler.Schedule_AwsVpcConfiguration{
					AssignPublicIp: ptr("DISABLED"),
					Subnets:        []string{f.ref(paramSubnets)},
					SecurityGroups: c.taskSecurityGroups(f, f.getAtt(idServiceSG, "GroupId")),
				}},
			},
			RetryPolicy: &scheduler.Schedule_RetryPolicy{MaximumRetryAttempts: ptr(float64(j.Retries))},
		},
	}
	if j.Timezone != "" {
		s.ScheduleExpressionTimezone = ptr(j.Timezone)
	}
	b.resource(jobID(name, "Schedule"), s)
}

// jobAlarm adds the rule that matches a job's failed runs (its task stopped
// with a non-zero exit code, or failed to start) and the alarm on the
// rule's matches, which the bake watches.
func (c *ctx) jobAlarm(b *stackBuilder, tg []tags.Tag, name string) {
	f := b.fns
	family := naming.JobFamily(c.service(), c.stageName(), name)
	b.resource(jobID(name, "FailedRule"), &events.Rule{
		Description: ptr(fmt.Sprintf("Failed runs of job %s of %s %s", name, c.service(), c.stageName())),
		State:       ptr("ENABLED"),
		EventPattern: map[string]any{
			"source":      []string{"aws.ecs"},
			"detail-type": []string{"ECS Task State Change"},
			"detail": map[string]any{
				"group":      []string{"family:" + family},
				"lastStatus": []string{"STOPPED"},
				"$or": []any{
					map[string]any{"stopCode": []string{"TaskFailedToStart"}},
					map[string]any{"containers": map[string]any{"exitCode": []any{map[string]any{"anything-but": 0}}}},
				},
			},
		},
	})
	b.resource(jobID(name, "FailedAlarm"), &cloudwatch.Alarm{
		AlarmName:          ptr(naming.JobAlarm(c.service(), c.stageName(), name)),
		AlarmDescription:   ptr(fmt.Sprintf("%s %s: a run of job %s failed (exited non-zero or did not start)", c.service(), c.stageName(), name)),
		Namespace:          ptr("AWS/Events"),
		MetricName:         ptr("MatchedEvents"),
		Dimensions:         []cloudwatch.Alarm_Dimension{{Name: "RuleName", Value: f.ref(jobID(name, "FailedRule"))}},
		Statistic:          ptr("Sum"),
		Period:             ptr(300),
		EvaluationPeriods:  1,
		Threshold:          ptr(0.0),
		ComparisonOperator: "GreaterThanThreshold",
		TreatMissingData:   ptr("notBreaching"),
		Tags:               tg,
	})
}

// JobAlarms are the alarms of a spec's scheduled jobs, which a bake
// watches beside the service's.
func JobAlarms(service, stage string, spec *descriptor.Spec) []string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(spec.Jobs)) {
		if j := spec.Jobs[n]; j != nil && !j.BeforeDeploy {
			out = append(out, naming.JobAlarm(service, stage, n))
		}
	}
	return out
}
