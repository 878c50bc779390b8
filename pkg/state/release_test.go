package state_test

import (
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/state"
)

func TestReleaseRecords(t *testing.T) {
	e := newEnv(t)
	got, err := e.store.GetRelease(e.ctx, "pay", "dev", "us-east-1", "1.0.0", "migrate")
	if err != nil || got != nil {
		t.Fatalf("before any run: %+v, %v", got, err)
	}
	start := time.Date(2026, 8, 28, 10, 0, 0, 0, time.UTC)
	run := state.Release{Service: "pay", Stage: "dev", Region: "us-east-1", Version: "1.0.0", Job: "migrate",
		Status: state.ReleaseRunning, TaskARN: "arn:aws:ecs:us-east-1:1:task/c/abc", Cluster: "gantry-demo", RolloutID: "r1", StartedAt: start}
	if err := e.store.PutRelease(e.ctx, run); err != nil {
		t.Fatal(err)
	}
	got, err = e.store.GetRelease(e.ctx, "pay", "dev", "us-east-1", "1.0.0", "migrate")
	if err != nil || got == nil || got.Status != state.ReleaseRunning || got.TaskARN != run.TaskARN || got.Cluster != "gantry-demo" ||
		!got.StartedAt.Equal(start) || !got.EndedAt.IsZero() {
		t.Fatalf("running: %+v, %v", got, err)
	}
	run.Status, run.ExitCode, run.EndedAt, run.RolloutID = state.ReleaseFailed, 3, start.Add(time.Minute), "r2"
	if err := e.store.PutRelease(e.ctx, run); err != nil {
		t.Fatal(err)
	}
	got, _ = e.store.GetRelease(e.ctx, "pay", "dev", "us-east-1", "1.0.0", "migrate")
	if got.Status != state.ReleaseFailed || got.ExitCode != 3 || got.RolloutID != "r2" || !got.EndedAt.Equal(run.EndedAt) {
		t.Errorf("failed: %+v", got)
	}
	// Other versions, regions and jobs are other records.
	for _, k := range [][3]string{{"eu-west-1", "1.0.0", "migrate"}, {"us-east-1", "1.0.1", "migrate"}, {"us-east-1", "1.0.0", "seed"}} {
		if got, err := e.store.GetRelease(e.ctx, "pay", "dev", k[0], k[1], k[2]); err != nil || got != nil {
			t.Errorf("%v: %+v, %v", k, got, err)
		}
	}
	if err := e.store.PutRelease(e.ctx, state.Release{Service: "pay", Stage: "dev", Region: "us-east-1", Version: "a#b", Job: "x"}); err == nil {
		t.Error("a version with # was recorded")
	}
}
