package state

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Release task statuses.
const (
	ReleaseRunning   = "running"
	ReleaseSucceeded = "succeeded"
	ReleaseFailed    = "failed"
)

// Release is the latest run of one release task (a job with beforeDeploy)
// for one version in one region: what makes a rerun after a crash wait for
// a task still running instead of starting another, and skip one that
// succeeded.
type Release struct {
	Service, Stage, Region string
	Version, Job           string
	// Status is ReleaseRunning, ReleaseSucceeded or ReleaseFailed.
	Status string
	// TaskARN and Cluster name the ECS task.
	TaskARN, Cluster string
	ExitCode         int
	RolloutID        string
	StartedAt        time.Time
	EndedAt          time.Time
}

func releasePK(service, stage, region string) string {
	return "release#" + service + "#" + stage + "#" + region
}

func releaseSK(version, job string) string { return version + "#" + job }

// PutRelease records a release task's run (replacing the record of an
// earlier run of the same version and job).
func (s *Store) PutRelease(ctx context.Context, r Release) error {
	if err := checkKeyParts(r.Service, r.Stage, r.Region, r.Version, r.Job); err != nil {
		return fmt.Errorf("recording release task: %w", err)
	}
	item := map[string]types.AttributeValue{
		"pk":        str(releasePK(r.Service, r.Stage, r.Region)),
		"sk":        str(releaseSK(r.Version, r.Job)),
		"status":    str(r.Status),
		"taskArn":   str(r.TaskARN),
		"cluster":   str(r.Cluster),
		"exitCode":  str(strconv.Itoa(r.ExitCode)),
		"rolloutId": str(r.RolloutID),
		"startedAt": str(formatTime(r.StartedAt)),
	}
	if !r.EndedAt.IsZero() {
		item["endedAt"] = str(formatTime(r.EndedAt))
	}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("recording release task %s of %s/%s in %s (version %s): %w", r.Job, r.Service, r.Stage, r.Region, r.Version, err)
	}
	return nil
}

// GetRelease returns the record of a release task's latest run for a
// version in a region, or nil when it never ran.
func (s *Store) GetRelease(ctx context.Context, service, stage, region, version, job string) (*Release, error) {
	if err := checkKeyParts(service, stage, region, version, job); err != nil {
		return nil, fmt.Errorf("reading release task: %w", err)
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{"pk": str(releasePK(service, stage, region)), "sk": str(releaseSK(version, job))},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("reading release task %s of %s/%s in %s (version %s): %w", job, service, stage, region, version, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	code, _ := strconv.Atoi(getS(out.Item, "exitCode"))
	return &Release{
		Service: service, Stage: stage, Region: region, Version: version, Job: job,
		Status: getS(out.Item, "status"), TaskARN: getS(out.Item, "taskArn"), Cluster: getS(out.Item, "cluster"),
		ExitCode: code, RolloutID: getS(out.Item, "rolloutId"),
		StartedAt: parseTime(getS(out.Item, "startedAt")), EndedAt: parseTime(getS(out.Item, "endedAt")),
	}, nil
}
