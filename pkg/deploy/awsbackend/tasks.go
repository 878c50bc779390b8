package awsbackend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/render"
)

// Waiting for a task: how often it and its log are read, how many log
// lines a failure shows, and how long a stopped task may take to stop.
const (
	taskPoll     = 2 * time.Second
	logTailLines = 20
	stopGrace    = 2 * time.Minute
)

// taskNetwork is where a job's task runs, from the outputs of the stack
// that holds its task definition (and the data stack's client group).
type taskNetwork struct {
	cluster  string
	subnets  []string
	groups   []string
	logGroup string
}

// jobStack reads where a job's task runs from stack (the release stack or
// the app stack): its task definition ARN and network.
func (r *region) jobStack(ctx context.Context, stack, job string) (string, taskNetwork, error) {
	st, err := r.cfn.Describe(ctx, stack)
	if err != nil {
		return "", taskNetwork{}, fmt.Errorf("describing %s: %w", stack, err)
	}
	taskDef := st.Outputs[render.JobTaskDefinitionOutput(job)]
	if !st.Exists || taskDef == "" {
		return "", taskNetwork{}, fmt.Errorf("stack %s has no task definition of job %s (output %s): deploy first", stack, job, render.JobTaskDefinitionOutput(job))
	}
	net := taskNetwork{cluster: st.Outputs[render.OutputCluster], logGroup: st.Outputs[render.OutputLogGroup]}
	for _, s := range strings.Split(st.Outputs[render.OutputSubnets], ",") {
		if s = strings.TrimSpace(s); s != "" {
			net.subnets = append(net.subnets, s)
		}
	}
	if g := st.Outputs[render.OutputSecurityGroup]; g != "" {
		net.groups = append(net.groups, g)
	}
	if data, err := r.cfn.Describe(ctx, r.data); err == nil && data.Exists {
		if g := data.Outputs[render.OutputClientSG]; g != "" {
			net.groups = append(net.groups, g)
		}
	}
	if net.cluster == "" || len(net.subnets) == 0 || net.logGroup == "" {
		return "", taskNetwork{}, fmt.Errorf("stack %s does not say where job %s runs (outputs %s, %s, %s): deploy it again", stack, job, render.OutputCluster, render.OutputSubnets, render.OutputLogGroup)
	}
	return taskDef, net, nil
}

// startTask runs one task of a job's task definition.
func (r *region) startTask(ctx context.Context, taskDef, job string, net taskNetwork) (string, error) {
	in := &ecs.RunTaskInput{
		Cluster:        aws.String(net.cluster),
		TaskDefinition: aws.String(taskDef),
		LaunchType:     ecstypes.LaunchTypeFargate,
		Count:          aws.Int32(1),
		StartedBy:      aws.String("gantry"),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: net.subnets, SecurityGroups: net.groups, AssignPublicIp: ecstypes.AssignPublicIpDisabled,
		}},
	}
	out, err := r.ecs.RunTask(ctx, in)
	if err != nil {
		return "", fmt.Errorf("starting a task of job %s: %w", job, err)
	}
	if len(out.Tasks) == 0 {
		reason := "no reason given"
		if len(out.Failures) > 0 {
			reason = aws.ToString(out.Failures[0].Reason)
		}
		return "", fmt.Errorf("starting a task of job %s: ECS started none: %s", job, reason)
	}
	return aws.ToString(out.Tasks[0].TaskArn), nil
}

// errTaskGone is a task ECS no longer knows (it forgets stopped tasks
// after about an hour).
var errTaskGone = errors.New("ECS no longer knows the task")

// taskWatch follows one running task to its end.
type taskWatch struct {
	r        *region
	job      string
	cluster  string
	taskARN  string
	logGroup string
	// deadline is when the task is stopped for its timeout.
	deadline time.Time
	onLine   func(string)

	next    *string // the log's forward token
	tail    []string
	stopped bool // gantry asked ECS to stop it
}

// wait polls the task and its log until the task stops, stopping it at the
// deadline. Lines of its log go to onLine as they come.
func (w *taskWatch) wait(ctx context.Context) (deploy.TaskOutcome, error) {
	out := deploy.TaskOutcome{TaskARN: w.taskARN, ExitCode: -1}
	for {
		task, err := w.describe(ctx)
		if err != nil {
			return out, err
		}
		w.readLog(ctx)
		if aws.ToString(task.LastStatus) == "STOPPED" {
			out.Reason = aws.ToString(task.StoppedReason)
			for _, c := range task.Containers {
				if aws.ToString(c.Name) == w.job && c.ExitCode != nil {
					out.ExitCode = int(*c.ExitCode)
				}
			}
			out.TimedOut, out.LogTail = w.stopped, w.tail
			return out, nil
		}
		if !w.stopped && time.Now().After(w.deadline) {
			if err := w.stop(ctx); err != nil {
				return out, err
			}
			w.deadline = time.Now().Add(stopGrace)
		} else if w.stopped && time.Now().After(w.deadline) {
			return out, fmt.Errorf("task %s of job %s did not stop within %s of being asked to", w.taskARN, w.job, stopGrace)
		}
		t := time.NewTimer(taskPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return out, fmt.Errorf("stopped waiting for task %s of job %s (it keeps running): %w", w.taskARN, w.job, ctx.Err())
		case <-t.C:
		}
	}
}

func (w *taskWatch) describe(ctx context.Context) (*ecstypes.Task, error) {
	out, err := w.r.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.cluster), Tasks: []string{w.taskARN}})
	if err != nil {
		return nil, fmt.Errorf("reading task %s of job %s: %w", w.taskARN, w.job, err)
	}
	if len(out.Tasks) == 0 {
		return nil, fmt.Errorf("task %s of job %s: %w", w.taskARN, w.job, errTaskGone)
	}
	return &out.Tasks[0], nil
}

func (w *taskWatch) stop(ctx context.Context) error {
	w.stopped = true
	_, err := w.r.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(w.cluster), Task: aws.String(w.taskARN),
		Reason: aws.String("gantry: job " + w.job + " ran past its timeout")})
	if err != nil {
		return fmt.Errorf("stopping task %s of job %s at its timeout: %w", w.taskARN, w.job, err)
	}
	return nil
}

// readLog reads the log lines written since the last read. A log that
// cannot be read (not there yet) is not an error: the task's end is.
func (w *taskWatch) readLog(ctx context.Context) {
	id := w.taskARN[strings.LastIndex(w.taskARN, "/")+1:]
	stream := w.r.history.service + "/" + w.job + "/" + id
	for range 10 { // pages per poll, so a chatty task cannot hold the wait
		in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(w.logGroup), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true), NextToken: w.next}
		out, err := w.r.logs.GetLogEvents(ctx, in)
		if err != nil {
			return
		}
		for _, e := range out.Events {
			line := aws.ToString(e.Message)
			w.tail = append(w.tail, line)
			if len(w.tail) > logTailLines {
				w.tail = w.tail[len(w.tail)-logTailLines:]
			}
			if w.onLine != nil {
				w.onLine(line)
			}
		}
		same := w.next != nil && aws.ToString(out.NextForwardToken) == aws.ToString(w.next)
		w.next = out.NextForwardToken
		if same || len(out.Events) == 0 {
			return
		}
	}
}
