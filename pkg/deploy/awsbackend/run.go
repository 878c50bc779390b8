package awsbackend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/gantryhq/gantry/pkg/deploy"
)

// RunJob runs a job once, now (deploy.JobRunner): the task definition the
// app stack (or, for a release task, the release stack) deployed, or a new
// revision of it at r.Version.
func (rg *region) RunJob(ctx context.Context, r deploy.JobRun, onLine func(string)) (deploy.TaskOutcome, error) {
	stack := rg.stack
	if r.Release {
		stack = rg.release
	}
	taskDef, net, err := rg.jobStack(ctx, stack, r.Job)
	if err != nil {
		return deploy.TaskOutcome{ExitCode: -1}, err
	}
	if r.Version != "" {
		if taskDef, err = rg.atVersion(ctx, taskDef, r.Job, r.Version); err != nil {
			return deploy.TaskOutcome{ExitCode: -1}, err
		}
	}
	arn, err := rg.startTask(ctx, taskDef, r.Job, net)
	if err != nil {
		return deploy.TaskOutcome{ExitCode: -1}, err
	}
	w := &taskWatch{r: rg, job: r.Job, cluster: net.cluster, taskARN: arn, logGroup: net.logGroup, deadline: time.Now().Add(r.Timeout), onLine: onLine}
	return w.wait(ctx)
}

// atVersion registers a revision of taskDef whose job container runs the
// image at version, and returns its ARN.
func (rg *region) atVersion(ctx context.Context, taskDef, job, version string) (string, error) {
	out, err := rg.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(taskDef)})
	if err != nil {
		return "", fmt.Errorf("reading task definition %s of job %s: %w", taskDef, job, err)
	}
	td := out.TaskDefinition
	containers := td.ContainerDefinitions
	found := false
	for i, c := range containers {
		if aws.ToString(c.Name) != job {
			continue
		}
		image := aws.ToString(c.Image)
		if at := strings.LastIndex(image, ":"); at > strings.LastIndex(image, "/") {
			image = image[:at]
		}
		containers[i].Image = aws.String(image + ":" + version)
		found = true
	}
	if !found {
		return "", fmt.Errorf("task definition %s has no container %s", taskDef, job)
	}
	reg, err := rg.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: td.Family, ContainerDefinitions: containers, Cpu: td.Cpu, Memory: td.Memory,
		NetworkMode: td.NetworkMode, RequiresCompatibilities: td.RequiresCompatibilities,
		ExecutionRoleArn: td.ExecutionRoleArn, TaskRoleArn: td.TaskRoleArn, RuntimePlatform: td.RuntimePlatform,
		EphemeralStorage: td.EphemeralStorage, Volumes: td.Volumes,
	})
	if err != nil {
		return "", fmt.Errorf("registering job %s at version %s: %w", job, version, err)
	}
	return aws.ToString(reg.TaskDefinition.TaskDefinitionArn), nil
}
