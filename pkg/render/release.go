package render

import (
	"fmt"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/ec2"
	"github.com/awslabs/goformation/v7/cloudformation/logs"

	"github.com/gantryhq/gantry/pkg/naming"
)

// Outputs of the release stack, which deploy reads to run a release task.
const (
	OutputCluster       = "Cluster"
	OutputSubnets       = "Subnets"
	OutputSecurityGroup = "SecurityGroup"
	OutputLogGroup      = "LogGroupName"
	idTaskSG            = "TaskSecurityGroup"
)

// releaseStack renders <service>-<stage>-release: what the release tasks
// (jobs with beforeDeploy) need to run before the app stack changes, so
// also at a region's first deploy, when the app stack does not exist yet:
// their log group and its key, execution and task roles like the app's,
// a security group, and a task definition per release task at the new
// version. Deploy applies it after the data stack, runs the tasks, and only
// then the app stack.
func (c *ctx) releaseStack() (Stack, error) {
	name := naming.Stack(c.service(), c.stageName(), naming.Release)
	b := newStackBuilder(fmt.Sprintf("gantry release stack of %s in %s: the release tasks run before the app stack changes", c.service(), c.stageName()))
	f := b.fns
	tg := c.tags(f, true)
	app, arns, err := c.container(f)
	if err != nil {
		return Stack{}, err
	}
	b.param(paramVersion, versionParam())
	b.param(paramVpc, platformParam(paramVpc))
	b.param(paramSubnets, platformParam(paramSubnets))
	b.param(paramCluster, platformParam(paramCluster))

	group := naming.ReleaseLogGroup(c.service(), c.stageName())
	c.logKeyFor(b, group, fmt.Sprintf("Encrypts the %s %s release task logs", c.service(), c.stageName()))
	b.resource(idLogGroup, &logs.LogGroup{
		LogGroupName:    ptr(group),
		RetentionInDays: ptr(LogRetentionDays),
		KmsKeyId:        ptr(f.getAtt(idLogKey, "Arn")),
		Tags:            tg,
	})
	c.roles(b, tg, arns.policy(f))
	b.resource(idTaskSG, &ec2.SecurityGroup{
		GroupDescription: fmt.Sprintf("Release tasks of %s %s", c.service(), c.stageName()),
		VpcId:            ptr(f.ref(paramVpc)),
		Tags:             tg,
	})
	for _, job := range c.releaseJobs() {
		if err := c.jobTaskDefinition(b, tg, job, app, f.getAtt(idExecutionRole, "Arn"), f.getAtt(idTaskRole, "Arn"), f.ref(idLogGroup)); err != nil {
			return Stack{}, err
		}
	}
	clusterOutput(b)
	b.output(OutputSubnets, cloudformation.Output{Value: f.fn("Fn::Join", []any{",", f.ref(paramSubnets)}), Description: ptr("Subnets of the release tasks")})
	// The data stack's client group (the tasks join it too, to reach the
	// stores) is read from the data stack: an output may not re-export an
	// import.
	b.output(OutputSecurityGroup, cloudformation.Output{Value: f.getAtt(idTaskSG, "GroupId"), Description: ptr("Security group of the release tasks (with the data stack's ClientSecurityGroupId, when it has one)")})
	b.output(OutputLogGroup, cloudformation.Output{Value: f.ref(idLogGroup), Description: ptr("Log group of the release tasks")})
	return b.stack(name, naming.Release, map[string]string{paramVersion: c.t.Version})
}

// versionParam is the Version parameter of the stacks that carry the
// deployed version.
func versionParam() cloudformation.Parameter {
	return imageTagParam("Image tag to run: the deployed version")
}

// clusterOutput says in a stack which ECS cluster its tasks run on, once:
// an app stack with both jobs and a canary needs it for each.
func clusterOutput(b *stackBuilder) {
	if _, ok := b.tpl.Outputs[OutputCluster]; !ok {
		b.output(OutputCluster, cloudformation.Output{Value: b.fns.ref(paramCluster), Description: ptr("ECS cluster the service's tasks run on")})
	}
}
