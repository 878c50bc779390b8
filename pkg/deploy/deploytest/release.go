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
