package deploytest

import (
	"context"

	"github.com/gantryhq/gantry/pkg/deploy"
)

// RunRelease implements deploy.ReleaseRunner: a release task that
// succeeded for the version here is skipped; otherwise Backend.Release
// runs it (exit 0 when nil) and a success is remembered.
func (r *Region) RunRelease(ctx context.Context, t deploy.ReleaseTask, onLine func(string)) (deploy.ReleaseOutcome, error) {
	b := r.b
	key := r.step.Stage + "/" + r.step.Region + "/" + t.Version + "/" + t.Job
	b.mu.Lock()
	b.calls = append(b.calls, Call{Op: "release-task", Stage: r.step.Stage, Region: r.step.Region, Stack: t.Job, Version: t.Version})
	prev, done := b.released[key]
	b.mu.Unlock()
	if done {
		return deploy.ReleaseOutcome{Skipped: true, PreviousRollout: prev}, nil
	}
	out := deploy.TaskOutcome{TaskARN: "arn:aws:ecs:" + r.step.Region + ":" + r.step.Account + ":task/" + t.Job}
	if b.Release != nil {
		var err error
		if out, err = b.Release(ctx, r.step, t); err != nil {
			return deploy.ReleaseOutcome{TaskOutcome: out}, err
		}
	}
	for _, l := range out.LogTail {
		if onLine != nil {
			onLine(l)
		}
	}
	if out.ExitCode == 0 {
		b.mu.Lock()
		if b.released == nil {
			b.released = map[string]string{}
		}
		b.released[key] = t.RolloutID
		b.mu.Unlock()
	}
	return deploy.ReleaseOutcome{TaskOutcome: out}, nil
}

// ReleaseSucceeded implements deploy.ReleaseRunner.
func (r *Region) ReleaseSucceeded(_ context.Context, version, job string) (bool, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	_, ok := r.b.released[r.step.Stage+"/"+r.step.Region+"/"+version+"/"+job]
	return ok, nil
}

// RunJob implements deploy.JobRunner through Backend.RunJob, sending the
// outcome's log lines to onLine.
func (r *Region) RunJob(ctx context.Context, j deploy.JobRun, onLine func(string)) (deploy.TaskOutcome, error) {
	r.b.record(Call{Op: "run-job", Stage: r.step.Stage, Region: r.step.Region, Stack: j.Job, Version: j.Version})
	if r.b.RunJob == nil {
		return deploy.TaskOutcome{TaskARN: "arn:aws:ecs:" + r.step.Region + ":" + r.step.Account + ":task/" + j.Job}, nil
	}
	out, err := r.b.RunJob(ctx, r.step, j)
	for _, l := range out.LogTail {
		if onLine != nil {
			onLine(l)
		}
	}
	return out, err
}
