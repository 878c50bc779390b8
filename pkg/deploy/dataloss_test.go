package deploy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/rollout"
)

func TestDataLossConsent(t *testing.T) {
	for _, tc := range []struct {
		flag string
		id   string
		want bool
	}{
		{"", "DbInstance", false},
		{"*", "DbInstance", true},
		{"true", "UploadsBucket", true},
		{"db", "DbInstance", true},
		{"db", "Db", true},
		{"db", "DbxInstance", false},
		{"db, cache", "CacheReplicationGroup", true},
		{"DbInstance", "DbInstance", true},
		{"uploads", "DbInstance", false},
		{"my-db", "MyDbInstance", true},
	} {
		if got := deploy.ParseDataLossConsent(tc.flag).Allows(tc.id); got != tc.want {
			t.Errorf("--allow-data-loss=%q allows %s: %v, want %v", tc.flag, tc.id, got, tc.want)
		}
	}
}

// A replacement allowed by --allow-data-loss is loud: a warning, a journal
// entry and a note in the result, naming resource, stage and region; one
// the narrowed consent does not cover is refused.
func TestAllowedDataLossIsLoud(t *testing.T) {
	e := newEnv(t, full)
	e.b.DataLoss = func(step plan.Step, a deploy.StackApply) []deploy.DataLossChange {
		if a.Kind != naming.Data {
			return nil
		}
		return []deploy.DataLossChange{{Stack: a.Name, LogicalID: "UploadsBucket", Type: "AWS::S3::Bucket", Action: "replace", Causes: []string{"BucketName"}}}
	}
	res := e.run("v1", e.plan("dev"), func(r *deploy.Request) { r.AllowDataLoss = deploy.ParseDataLossConsent("db") })
	if res.ExitCode() != 1 || !strings.Contains(region(t, res, "dev", "us-east-1").Error, "UploadsBucket") {
		t.Fatalf("narrowed consent: exit %d, %v", res.ExitCode(), statuses(res))
	}

	res = e.run("v1", e.plan("dev"), func(r *deploy.Request) { r.AllowDataLoss = deploy.ParseDataLossConsent("uploads") })
	if res.ExitCode() != 0 {
		t.Fatalf("exit %d, %v", res.ExitCode(), statuses(res))
	}
	want := "dev/us-east-1: data loss allowed by --allow-data-loss: replace UploadsBucket (AWS::S3::Bucket) because BucketName changed in stack payments-dev-data"
	if !slices.Contains(res.Notes, want) || !strings.Contains(res.Notes[0], "--allow-data-loss: change sets may replace or delete uploads") {
		t.Errorf("notes %q", res.Notes)
	}
	var warned, journaled bool
	for _, ev := range e.rec.Snapshot() {
		warned = warned || (ev.Kind == "Message" && ev.Text == want)
	}
	for _, j := range e.b.Journal() {
		journaled = journaled || (j.Step == "data-loss" && j.Region == "us-east-1" && j.Attrs["logicalId"] == "UploadsBucket")
	}
	if !warned || !journaled {
		t.Errorf("warned %v, journaled %v", warned, journaled)
	}
	if region(t, res, "dev", "us-east-1").Status != rollout.StatusDeployed {
		t.Errorf("dev = %+v", region(t, res, "dev", "us-east-1"))
	}
}
