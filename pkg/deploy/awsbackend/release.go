package awsbackend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/state"
)

// RunRelease runs a release task once (deploy.ReleaseRunner). The state
// table records each run before it is waited for, so a rerun after a
// crash waits for the task that was running rather than starting
// another, and skips one that succeeded for the version.
func (r *region) RunRelease(ctx context.Context, t deploy.ReleaseTask, onLine func(string)) (deploy.ReleaseOutcome, error) {
	h := r.history
	rec, err := h.store.GetRelease(ctx, h.service, h.stage, h.region, t.Version, t.Job)
	if err != nil {
		return deploy.ReleaseOutcome{}, err
	}
	if rec != nil && rec.Status == state.ReleaseSucceeded {
		return deploy.ReleaseOutcome{Skipped: true, PreviousRollout: rec.RolloutID, TaskOutcome: deploy.TaskOutcome{TaskARN: rec.TaskARN}}, nil
	}
	taskDef, net, err := r.jobStack(ctx, r.release, t.Job)
	if err != nil {
		return deploy.ReleaseOutcome{}, err
	}
	if rec != nil && rec.Status == state.ReleaseRunning && rec.TaskARN != "" {
		out, err := r.finishRelease(ctx, rec, t, net, onLine)
		if !errors.Is(err, errTaskGone) {
			out.Attached = true
			return out, err
		}
		r.cfn.Logger.WarnContext(ctx, "the release task an earlier run started is gone from ECS; running it again", "job", t.Job, "task", rec.TaskARN)
	}
	arn, err := r.startTask(ctx, taskDef, t.Job, net)
	if err != nil {
		return deploy.ReleaseOutcome{}, err
	}
	rec = &state.Release{
		Service: h.service, Stage: h.stage, Region: h.region, Version: t.Version, Job: t.Job,
		Status: state.ReleaseRunning, TaskARN: arn, Cluster: net.cluster, RolloutID: t.RolloutID, StartedAt: time.Now(),
	}
	if err := h.store.PutRelease(ctx, *rec); err != nil {
		return deploy.ReleaseOutcome{TaskOutcome: deploy.TaskOutcome{TaskARN: arn}}, fmt.Errorf("started task %s, but %w", arn, err)
	}
	return r.finishRelease(ctx, rec, t, net, onLine)
}

// finishRelease waits for the release task rec names and records how it
// ended.
func (r *region) finishRelease(ctx context.Context, rec *state.Release, t deploy.ReleaseTask, net taskNetwork, onLine func(string)) (deploy.ReleaseOutcome, error) {
	w := &taskWatch{r: r, job: t.Job, cluster: rec.Cluster, taskARN: rec.TaskARN, logGroup: net.logGroup, deadline: rec.StartedAt.Add(t.Timeout), onLine: onLine}
	out, err := w.wait(ctx)
	if err != nil {
		return deploy.ReleaseOutcome{TaskOutcome: out}, err
	}
	done := *rec
	done.Status, done.ExitCode, done.EndedAt, done.RolloutID = state.ReleaseSucceeded, out.ExitCode, time.Now(), t.RolloutID
	if out.ExitCode != 0 {
		done.Status = state.ReleaseFailed
	}
	// A fresh context: the outcome is known and must be kept.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := r.history.store.PutRelease(sctx, done); err != nil {
		return deploy.ReleaseOutcome{TaskOutcome: out}, err
	}
	return deploy.ReleaseOutcome{TaskOutcome: out}, nil
}

// ReleaseSucceeded reports whether job succeeded for version here
// (deploy.ReleaseRunner).
func (r *region) ReleaseSucceeded(ctx context.Context, version, job string) (bool, error) {
	h := r.history
	rec, err := h.store.GetRelease(ctx, h.service, h.stage, h.region, version, job)
	return rec != nil && rec.Status == state.ReleaseSucceeded, err
}
