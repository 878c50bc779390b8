package plan_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/internal/cmdtest"
	"github.com/gantryhq/gantry/pkg/cmd/bootstrap"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	deploycmd "github.com/gantryhq/gantry/pkg/cmd/deploy"
	"github.com/gantryhq/gantry/pkg/cmd/plan"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/rollout"
)

const payments = "../../../examples/payments/payments.sd.yaml"

func TestMain(m *testing.M) { cmdtest.Main(m) }

// run runs one command in-process against the emulator.
func run(t *testing.T, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (int, string, string) {
	t.Helper()
	r := cmdtest.Exec(t, newCmd, args...)
	if r.Err != nil {
		r.Stderr += "error: " + r.Err.Error()
	}
	return r.Code, r.Stdout, r.Stderr
}

func mustRun(t *testing.T, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, newCmd, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
	}
	return stdout
}

func decode(t *testing.T, stdout string) deploy.Preview {
	t.Helper()
	var r deploy.Preview
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not the JSON plan: %v\n%s", err, stdout)
	}
	return r
}

// cfnIn is a CloudFormation client acting in account and region, the way
// gantry reaches a stage's account.
func cfnIn(t *testing.T, account, region string) *cloudformation.Client {
	t.Helper()
	return cloudformation.NewFromConfig(cmdtest.InAccount(t, cmdtest.Context(t), account, region))
}

// leftovers lists the stacks in the account and region (deleted ones
// aside) and every change set they hold, as "stack" and "stack/changeset".
func leftovers(t *testing.T, account, region string) []string {
	t.Helper()
	ctx := cmdtest.Context(t)
	c := cfnIn(t, account, region)
	var out []string
	stacks, err := c.ListStacks(ctx, &cloudformation.ListStacksInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stacks.StackSummaries {
		if s.StackStatus == cfntypes.StackStatusDeleteComplete {
			continue
		}
		name := aws.ToString(s.StackName)
		out = append(out, name+" "+string(s.StackStatus))
		sets, err := c.ListChangeSets(ctx, &cloudformation.ListChangeSetsInput{StackName: s.StackId})
		if err != nil {
			t.Fatal(err)
		}
		for _, cs := range sets.Summaries {
			out = append(out, name+"/"+aws.ToString(cs.ChangeSetName)+" "+string(cs.ExecutionStatus))
		}
	}
	slices.Sort(out)
	return out
}

// descriptor writes a small web service with one bucket, resource name
// bucketKey, in a stage dev of two regions in account.
func descriptor(t *testing.T, dir, service, account, bucketKey string) string {
	t.Helper()
	text := fmt.Sprintf(`schemaVersion: 1
service: %[1]s
team: test
description: gantry plan test service
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/%[1]s
compute:
  cpu: 256
  memory: 512
  port: 8080
  healthcheck: /healthz
scaling:
  min: 1
  max: 2
  cpuTarget: 60
routing:
  path: /%[1]s/*
env:
  FILES_BUCKET: ${resources.%[3]s.bucket}
resources:
  %[3]s:
    type: s3
    versioning: true
    expireDays: 0
stages:
  - name: dev
    account: "%[2]s"
    regions: [us-east-1, eu-west-1]
`, service, account, bucketKey)
	path := filepath.Join(dir, service+".sd.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func stackOf(t *testing.T, r deploy.RegionPreview, kind naming.StackKind) deploy.StackPreview {
	t.Helper()
	for _, s := range r.Stacks {
		if s.Kind == kind {
			return s
		}
	}
	t.Fatalf("%s: no %s stack in %+v", r.Region, kind, r.Stacks)
	return deploy.StackPreview{}
}

func change(s deploy.StackPreview, logicalID string) (deploy.Change, bool) {
	for _, c := range s.Changes {
		if c.LogicalID == logicalID {
			return c, true
		}
	}
	return deploy.Change{}, false
}

// A stage never deployed: both stacks are created (the app stack read from
// its template, since the data stack's exports do not exist), and the plan
// leaves nothing behind: no stack, no change set.
func TestPlanNeverDeployed(t *testing.T) {
	t.Parallel()
	const account = "111122223333" // payments' dev; no other test uses it
	mustRun(t, bootstrap.NewCmd, payments, "--stage", "dev", "--demo-platform")
	before := leftovers(t, account, "us-east-1")
	if len(before) != 0 {
		t.Fatalf("stacks before the plan: %v", before)
	}

	code, stdout, stderr := run(t, plan.NewCmd, payments, "--stage", "dev", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	res := decode(t, stdout)
	if res.Service != "payments" || res.Stage != "dev" || res.Version != "latest" || len(res.Regions) != 1 {
		t.Fatalf("plan header: %+v", res)
	}
	reg := res.Regions[0]
	if reg.Region != "us-east-1" || reg.Account != account || reg.Error != "" {
		t.Fatalf("region: %+v", reg)
	}
	data, app := stackOf(t, reg, "data"), stackOf(t, reg, "app")
	if data.Name != "payments-dev-data" || data.Action != rollout.ActionCreate || app.Name != "payments-dev-app" || app.Action != rollout.ActionCreate {
		t.Errorf("stacks: %s %s, %s %s", data.Name, data.Action, app.Name, app.Action)
	}
	for id, typ := range map[string]string{"DbInstance": "AWS::RDS::DBInstance", "UploadsBucket": "AWS::S3::Bucket", "CacheReplicationGroup": "AWS::ElastiCache::ReplicationGroup"} {
		if c, ok := change(data, id); !ok || c.Action != "Add" || c.Type != typ || c.DataLoss {
			t.Errorf("data stack change %s: %+v (found %v)", id, c, ok)
		}
	}
	if c, ok := change(app, "Service"); !ok || c.Action != "Add" || c.Type != "AWS::ECS::Service" {
		t.Errorf("app stack change Service: %+v", c)
	}
	notes := strings.Join(app.Notes, "\n")
	if !strings.Contains(notes, "data stack does not exist yet") || !strings.Contains(notes, "ListenerRulePriority: allocated at deploy") {
		t.Errorf("app notes: %q", notes)
	}
	if res.Summary.Changes != len(data.Changes)+len(app.Changes) || res.Summary.DataLoss != 0 || res.Summary.Errors != 0 {
		t.Errorf("summary %+v", res.Summary)
	}
	if !strings.Contains(stderr, "nothing is deployed") {
		t.Errorf("stderr: %q", stderr)
	}

	// Text, and --exit-code: changes mean exit 4 (no error uses it), with
	// the plan printed.
	code, stdout, _ = run(t, plan.NewCmd, payments, "--stage", "dev", "--exit-code")
	if code != cmdutil.ExitChanges {
		t.Errorf("--exit-code with changes: exit %d, want %d", code, cmdutil.ExitChanges)
	}
	for _, want := range []string{"Plan for payments stage dev, version latest", "payments-dev-data: create, 11 changes", "+  Add  DbInstance", "Plan: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout)
		}
	}
	if after := leftovers(t, account, "us-east-1"); len(after) != 0 {
		t.Errorf("the plan left behind: %v", after)
	}
}

// After a deploy: the same version plans no changes (exit 0 with
// --exit-code), a new one updates the app stack, and a descriptor edit
// that renames a bucket is data loss, which deploy then refuses.
func TestPlanAfterDeploy(t *testing.T) {
	t.Parallel()
	const account, service = "210000000001", "planner"
	dir := t.TempDir()
	file := descriptor(t, dir, service, account, "files2")
	mustRun(t, bootstrap.NewCmd, file, "--demo-platform")
	mustRun(t, deploycmd.NewCmd, file, "--version", "1.0.0", "--bake", "0s")
	regions := []string{"us-east-1", "eu-west-1"}
	before := map[string][]string{}
	for _, r := range regions {
		before[r] = leftovers(t, account, r)
	}

	t.Run("same version", func(t *testing.T) {
		for _, args := range [][]string{{}, {"--version", "1.0.0"}} {
			code, stdout, stderr := run(t, plan.NewCmd, append([]string{file, "--stage", "dev", "--exit-code", "--output", "json"}, args...)...)
			if code != 0 {
				t.Fatalf("%v: exit %d, want 0\n%s\n%s", args, code, stdout, stderr)
			}
			res := decode(t, stdout)
			if res.Version != "1.0.0" || res.Summary != (deploy.PreviewSummary{}) || res.HasChanges() {
				t.Errorf("%v: %+v", args, res)
			}
			for _, reg := range res.Regions {
				for _, s := range reg.Stacks {
					if s.Action != rollout.ActionUnchanged || len(s.Changes) != 0 {
						t.Errorf("%v: %s %s: %s with %d changes", args, reg.Region, s.Name, s.Action, len(s.Changes))
					}
				}
			}
		}
		stdout := mustRun(t, plan.NewCmd, file, "--stage", "dev")
		for _, want := range []string{"planner-dev-data: no changes", "planner-dev-app: no changes", "Plan: no changes in 2 regions."} {
			if !strings.Contains(stdout, want) {
				t.Errorf("text lacks %q:\n%s", want, stdout)
			}
		}
	})

	t.Run("new version", func(t *testing.T) {
		code, stdout, stderr := run(t, plan.NewCmd, file, "--stage", "dev", "--version", "2.0.0", "--output", "json", "--exit-code")
		if code != cmdutil.ExitChanges {
			t.Fatalf("exit %d, want %d (changes with --exit-code)\n%s", code, cmdutil.ExitChanges, stderr)
		}
		res := decode(t, stdout)
		if res.Version != "2.0.0" || len(res.Regions) != 2 || res.Summary.DataLoss != 0 || res.Summary.Changes == 0 {
			t.Fatalf("plan: %+v", res)
		}
		for i, reg := range res.Regions {
			if reg.Region != regions[i] || reg.Error != "" {
				t.Errorf("region %d: %s %q", i, reg.Region, reg.Error)
			}
			if d := stackOf(t, reg, "data"); d.Action != rollout.ActionUnchanged {
				t.Errorf("%s data stack: %s", reg.Region, d.Action)
			}
			app := stackOf(t, reg, "app")
			td, ok := change(app, "TaskDefinition")
			if app.Action != rollout.ActionUpdate || !ok || td.Action != "Modify" || td.Replacement != "True" || !slices.Contains(td.Causes, "ContainerDefinitions") || td.DataLoss {
				t.Errorf("%s app stack: %s, TaskDefinition %+v", reg.Region, app.Action, td)
			}
		}

		// Without --exit-code the same plan exits 0; Markdown is a table.
		code, stdout, _ = run(t, plan.NewCmd, file, "--stage", "dev", "--version", "2.0.0", "--output", "markdown")
		if code != 0 {
			t.Errorf("markdown: exit %d", code)
		}
		for _, want := range []string{"## gantry plan: planner, stage dev", "### us-east-1 (account 210000000001)", "### eu-west-1",
			"| Stack | Change | Logical ID | Type | Replacement | Caused by | |", "| Modify | `TaskDefinition` | `AWS::ECS::TaskDefinition` | **True** | `ContainerDefinitions` |"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("markdown lacks %q:\n%s", want, stdout)
			}
		}
	})

	t.Run("bucket replaced", func(t *testing.T) {
		// files2 and files-2 give the same logical id (Files2Bucket) but
		// another bucket name: CloudFormation replaces the bucket.
		edited := descriptor(t, t.TempDir(), service, account, "files-2")
		code, stdout, stderr := run(t, plan.NewCmd, edited, "--stage", "dev", "--output", "json")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		res := decode(t, stdout)
		if res.Summary.DataLoss != 2 {
			t.Errorf("summary %+v, want 2 data-loss changes", res.Summary)
		}
		for _, reg := range res.Regions {
			data := stackOf(t, reg, "data")
			b, ok := change(data, "Files2Bucket")
			if data.Action != rollout.ActionUpdate || !ok || b.Type != "AWS::S3::Bucket" || b.Replacement != "True" || !slices.Equal(b.Causes, []string{"BucketName"}) || !b.DataLoss {
				t.Errorf("%s data stack %s: bucket change %+v", reg.Region, data.Action, b)
			}
			if p, _ := change(data, "Files2BucketPolicy"); p.DataLoss {
				t.Errorf("%s: the bucket policy is not data: %+v", reg.Region, p)
			}
		}

		stdout = mustRun(t, plan.NewCmd, edited, "--stage", "dev")
		for _, want := range []string{
			"Files2Bucket        AWS::S3::Bucket        replacement: True         BucketName  DATA LOSS",
			"! replaces Files2Bucket (AWS::S3::Bucket) because BucketName changed: gantry deploy refuses it without --allow-data-loss",
			"2 replace or delete data",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("text lacks %q:\n%s", want, stdout)
			}
		}
		stdout = mustRun(t, plan.NewCmd, edited, "--stage", "dev", "--output", "markdown")
		if !strings.Contains(stdout, "⚠️ **data loss**") || !strings.Contains(stdout, "> [!CAUTION]") {
			t.Errorf("markdown does not flag the data loss:\n%s", stdout)
		}

		// What plan flags, deploy refuses.
		code, stdout, stderr = run(t, deploycmd.NewCmd, edited, "--version", "1.0.0", "--bake", "0s")
		if code != 1 || !strings.Contains(stderr+stdout, "Files2Bucket") {
			t.Errorf("deploy of the edit: exit %d, want 1 refusing Files2Bucket\n%s", code, stderr)
		}
	})

	// No plan left a change set or a stack behind.
	for _, r := range regions {
		if after := leftovers(t, account, r); !slices.Equal(after, before[r]) {
			t.Errorf("%s: stacks and change sets before the plans\n%v\nafter\n%v", r, before[r], after)
		}
	}
}

func TestPlanUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{payments}, "--stage is required"},
		{[]string{payments, "--stage", "qa"}, `no stage "qa"`},
		{[]string{payments, "--stage", "dev", "--output", "yaml"}, `invalid value "yaml" for --output`},
		{[]string{payments, "--stage", "dev", "--version=1.0/x"}, "not a valid image tag"},
		{[]string{"--stage", "dev"}, "needs one descriptor FILE"},
		{[]string{"missing.sd.yaml", "--stage", "dev"}, "missing.sd.yaml"},
	} {
		code, stdout, stderr := run(t, plan.NewCmd, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and %q", tc.args, code, stderr, stdout, tc.want)
		}
	}
	cmd := plan.NewCmd(&cmdutil.Factory{})
	if cmd.Example == "" || cmd.Flags().Lookup("exit-code") == nil || cmd.Flags().Lookup("detailed-exitcode") != nil {
		t.Error("plan needs an Example and --exit-code")
	}
}

// Renaming a resource removes the data stack's export that the running app
// stack imports: CloudFormation refuses that (so does the emulator), and
// plan says so before a deploy fails on it.
func TestPlanFlagsARemovedExportInUse(t *testing.T) {
	t.Parallel()
	const account, service = "210000000009", "renamer"
	file := descriptor(t, t.TempDir(), service, account, "files")
	mustRun(t, bootstrap.NewCmd, file, "--demo-platform")
	mustRun(t, deploycmd.NewCmd, file, "--version", "1.0.0", "--bake", "0s")

	renamed := descriptor(t, t.TempDir(), service, account, "uploads")
	res := decode(t, mustRun(t, plan.NewCmd, renamed, "--stage", "dev", "--version", "1.0.0", "--output", "json"))
	for _, reg := range res.Regions {
		data := stackOf(t, reg, naming.Data)
		if len(data.ExportsInUse) == 0 {
			t.Fatalf("%s: no export in use flagged: %+v", reg.Region, data)
		}
		e := data.ExportsInUse[0]
		if !strings.HasPrefix(e.Export, "renamer-dev-data:Files") || len(e.ImportedBy) != 1 || e.ImportedBy[0] != "renamer-dev-app" {
			t.Errorf("%s: %+v", reg.Region, e)
		}
	}
	text := mustRun(t, plan.NewCmd, renamed, "--stage", "dev", "--version", "1.0.0")
	if !strings.Contains(text, "which renamer-dev-app imports: CloudFormation refuses that, so the deploy would fail") {
		t.Errorf("text:\n%s", text)
	}
	// And indeed the deploy fails on it (even with the bucket's loss
	// allowed), the data stack rolled back.
	code, _, stderr := run(t, deploycmd.NewCmd, renamed, "--version", "1.0.0", "--bake", "0s", "--allow-data-loss")
	if code != 1 || !strings.Contains(stderr, "cannot be deleted as it is in use by renamer-dev-app") {
		t.Errorf("deploy of the rename: exit %d\n%s", code, stderr)
	}
}
