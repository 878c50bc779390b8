package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// ReleaseTask is one run of a release task (a job with beforeDeploy) in a
// region: its job and the version it runs.
type ReleaseTask struct {
	Job     string
	Version string
	// RolloutID is recorded with the run.
	RolloutID string
	// Timeout is how long the task may run before it is stopped.
	Timeout time.Duration
}

// TaskOutcome is how a task of a job ended.
type TaskOutcome struct {
	// TaskARN is the ECS task that ran.
	TaskARN string
	// ExitCode is the job container's exit code; -1 when it never ran
	// (the task failed to start).
	ExitCode int
	// TimedOut says gantry stopped the task at its timeout.
	TimedOut bool
	// Reason is ECS's stopped reason.
	Reason string
	// LogTail is the last lines of the container's log.
	LogTail []string
}

// ReleaseOutcome is what RunRelease did.
type ReleaseOutcome struct {
	TaskOutcome
	// Skipped says the task succeeded for this version in this region in
	// an earlier rollout (PreviousRollout), so it did not run again.
	Skipped         bool
	PreviousRollout string
	// Attached says an earlier run's task (the rollout was killed while it
	// ran) was waited for instead of starting another.
	Attached bool
}

// ReleaseRunner is a Region that runs release tasks. A Region without it
// cannot deploy a service with release tasks.
type ReleaseRunner interface {
	// RunRelease runs t once in the region with the release stack's task
	// definition and waits for it, unless it already succeeded for t's
	// version there (then Skipped). A task an earlier run started and did
	// not see end is waited for, not started again. Every run is recorded,
	// so that a rerun after a crash knows. onLine gets the task's log
	// lines as they come.
	RunRelease(ctx context.Context, t ReleaseTask, onLine func(string)) (ReleaseOutcome, error)
	// ReleaseSucceeded reports whether the release task job succeeded for
	// version in the region (what a plan says about it).
	ReleaseSucceeded(ctx context.Context, version, job string) (bool, error)
}

// ReleaseError is a release task that did not exit 0: its region stops
// before the app stack.
type ReleaseError struct {
	Job string
	TaskOutcome
}

func (e *ReleaseError) Error() string {
	what := fmt.Sprintf("exited %d", e.ExitCode)
	switch {
	case e.TimedOut:
		what = fmt.Sprintf("did not finish in its timeout and was stopped (exit %d)", e.ExitCode)
	case e.ExitCode < 0:
		what = "did not start: " + e.Reason
	}
	msg := fmt.Sprintf("release task %s %s; the app stack was not changed", e.Job, what)
	if len(e.LogTail) > 0 {
		msg += "; its last log lines:\n    " + strings.Join(e.LogTail, "\n    ")
	}
	return msg
}

// ReleaseJobs lists a spec's release tasks, sorted by name: the order they
// run in.
func ReleaseJobs(spec *descriptor.Spec) []string {
	var out []string
	if spec == nil {
		return nil
	}
	for _, n := range slices.Sorted(maps.Keys(spec.Jobs)) {
		if j := spec.Jobs[n]; j != nil && j.BeforeDeploy {
			out = append(out, n)
		}
	}
	return out
}

// releaseTasks runs the region's release tasks in order, after its release
// stack and before its app stack; the first that fails (or cannot be run)
// fails the region, leaving the app stack as it is.
func (rg *regionRun) releaseTasks(ctx context.Context, stacks []rollout.StackResult) bool {
	r := rg.r
	spec := r.d.SpecFor(rg.step.Stage)
	jobs := ReleaseJobs(spec)
	if len(jobs) == 0 {
		return true
	}
	runner, ok := rg.reg.(ReleaseRunner)
	if !ok {
		r.fail(ctx, rg.j, rg.ref, stacks, errors.New("this backend cannot run release tasks"))
		return false
	}
	for _, job := range jobs {
		t := ReleaseTask{Job: job, Version: r.req.Version, RolloutID: r.id, Timeout: spec.Jobs[job].JobTimeout()}
		r.obs.StepChanged(rg.ref, rollout.StepRelease, job)
		rg.j.region(rg.ref, "release", "started", job, map[string]string{"job": job, "version": t.Version})
		out, err := runner.RunRelease(ctx, t, func(line string) { rg.log.Info("release task log", "job", job, "line", line) })
		if err != nil {
			rg.j.region(rg.ref, "release", "failed", err.Error(), map[string]string{"job": job})
			r.fail(ctx, rg.j, rg.ref, stacks, fmt.Errorf("release task %s: %w", job, err))
			return false
		}
		attrs := map[string]string{"job": job, "version": t.Version, "task": out.TaskARN, "exitCode": fmt.Sprint(out.ExitCode)}
		switch {
		case out.Skipped:
			msg := fmt.Sprintf("release task %s already succeeded for version %s here (rollout %s): not run again", job, t.Version, out.PreviousRollout)
			rg.j.region(rg.ref, "release", "skipped", msg, map[string]string{"job": job, "previousRollout": out.PreviousRollout})
			r.obs.Message(rg.ref, slog.LevelInfo, msg)
		case out.ExitCode != 0:
			rerr := &ReleaseError{Job: job, TaskOutcome: out.TaskOutcome}
			rg.j.region(rg.ref, "release", "failed", rerr.Error(), attrs)
			r.fail(ctx, rg.j, rg.ref, stacks, rerr)
			return false
		default:
			note := ""
			if out.Attached {
				note = " (started by an earlier run that stopped while it ran: waited for, not run again)"
			}
			rg.j.region(rg.ref, "release", "succeeded", job+note, attrs)
			r.obs.Message(rg.ref, slog.LevelInfo, fmt.Sprintf("release task %s exited 0%s", job, note))
		}
	}
	return true
}

// releaseNotes say in a plan what the release tasks will do in a region:
// run with version, or not again.
func releaseNotes(ctx context.Context, reg Region, spec *descriptor.Spec, version string) ([]string, error) {
	var notes []string
	for _, job := range ReleaseJobs(spec) {
		done := false
		if runner, ok := reg.(ReleaseRunner); ok {
			var err error
			if done, err = runner.ReleaseSucceeded(ctx, version, job); err != nil {
				return nil, fmt.Errorf("reading release task %s: %w", job, err)
			}
		}
		if done {
			notes = append(notes, fmt.Sprintf("release task %s already succeeded for version %s: it will not run again", job, version))
			continue
		}
		notes = append(notes, fmt.Sprintf("release task %s will run once with version %s, after this stack and before the app stack; the region stops unless it exits 0", job, version))
	}
	return notes, nil
}

// JobRun is one run of a job, now (gantry run).
type JobRun struct {
	Job string
	// Release says the job is a release task: its task definition is in
	// the release stack, not the app stack.
	Release bool
	// Version is the image tag to run; "" runs the deployed one.
	Version string
	// Timeout is how long the task may run before it is stopped.
	Timeout time.Duration
}

// JobRunner is a Region that can run a job once, now.
type JobRunner interface {
	// RunJob starts one task of the job's deployed task definition (at
	// Version, when given, through a new revision of it) and waits for it,
	// sending its log lines to onLine as they come.
	RunJob(ctx context.Context, r JobRun, onLine func(string)) (TaskOutcome, error)
}
