package rollback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gantryhq/gantry/internal/cmdtest"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	deploycmd "github.com/gantryhq/gantry/pkg/cmd/deploy"
	"github.com/gantryhq/gantry/pkg/cmd/rollback"
	"github.com/gantryhq/gantry/pkg/cmd/root"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
	"github.com/gantryhq/gantry/pkg/state"
)

const (
	payments = "../../../examples/payments/payments.sd.yaml"
	// examples/payments' dev stage: one region in its own account.
	devAccount = "111122223333"
	devRegion  = "us-east-1"
)

func TestMain(m *testing.M) { cmdtest.Main(m) }

type result struct {
	code        int
	out, errOut string
}

// factory is a test Factory pointed at the emulator; in, when set, is what
// a terminal user types (stdin and stderr are then terminals).
func factory(in string) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	f, out, errOut := cmdtest.Factory()
	if in != "" {
		f.IOStreams.In = strings.NewReader(in)
		f.IOStreams.SetStdinTTY(true)
		f.IOStreams.SetStderrTTY(true)
		f.IOStreams.SetNoColor(true)
	}
	return f, out, errOut
}

// runRollback runs gantry rollback in-process without a terminal.
func runRollback(t *testing.T, args ...string) result {
	t.Helper()
	return runRollbackTTY(t, "", args...)
}

// runRollbackTTY runs gantry rollback in-process; a non-empty typed makes
// stdin and stderr terminals with typed as the user's input.
func runRollbackTTY(t *testing.T, typed string, args ...string) result {
	t.Helper()
	f, out, errOut := factory(typed)
	r := cmdtest.Run(cmdtest.Context(t), f, out, errOut, rollback.NewCmd, args...)
	if r.Err != nil && !strings.Contains(r.Stderr, r.Err.Error()) {
		r.Stderr += "error: " + r.Err.Error() + "\n"
	}
	return result{r.Code, r.Stdout, r.Stderr}
}

// runDeploy deploys version to the descriptor's dev stage in-process.
func runDeploy(t *testing.T, file, version string, extra ...string) rollout.Result {
	t.Helper()
	f, out, errOut := factory("")
	// payments gates every region on a flag; this file opens them all.
	args := append([]string{file, "--version", version, "--stage", "dev", "--bake", "0s", "--output", "json",
		"--flags", "file:../../../examples/flags/all-open.flagd.json"}, extra...)
	code, err := cmdutil.Execute(cmdtest.Context(t), deploycmd.NewCmd(f), args)
	if code != 0 {
		t.Fatalf("deploy %s: exit %d (%v)\nstdout %s\nstderr %s", version, code, err, out, errOut)
	}
	var res rollout.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("deploy %s: stdout is not the JSON result: %v\n%s", version, err, out)
	}
	return res
}

var bootstrapOnce cmdtest.Once

// bootstrapDev makes the state table and the demo platform of the dev
// stage's account and region, once for the package, with gantry bootstrap.
func bootstrapDev(t *testing.T) {
	t.Helper()
	bootstrapOnce.Bootstrap(t, cmdtest.Context(t), payments, "--stage", "dev", "--demo-platform")
}

// descriptor writes examples/payments as service name (own stacks, own
// lock, own listener path) and returns its path.
func descriptor(t *testing.T, name string, edit ...func(string) string) string {
	t.Helper()
	b, err := os.ReadFile(payments)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "service: payments ", "service: "+name+" ", 1)
	s = strings.Replace(s, "path: /payments/*", "path: /"+name+"/*", 1)
	for _, e := range edit {
		s = e(s)
	}
	path := filepath.Join(t.TempDir(), name+".sd.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// devConfig acts in the dev account, as gantry does (assuming its role).
func devConfig(t *testing.T) aws.Config {
	t.Helper()
	return cmdtest.InAccount(t, cmdtest.Context(t), devAccount, devRegion)
}

func devStore(t *testing.T) *state.Store {
	t.Helper()
	return state.New(dynamodb.NewFromConfig(devConfig(t)), "")
}

// stack is what CloudFormation says about one stack.
type stack struct {
	template   string
	tags       map[string]string
	parameters map[string]string
	status     string
	updated    time.Time
}

func describe(t *testing.T, name string) stack {
	t.Helper()
	ctx := cmdtest.Context(t)
	c := cloudformation.NewFromConfig(devConfig(t))
	out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		t.Fatalf("describing %s: %v", name, err)
	}
	st := out.Stacks[0]
	s := stack{tags: map[string]string{}, parameters: map[string]string{}, status: string(st.StackStatus)}
	for _, tg := range st.Tags {
		s.tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	for _, p := range st.Parameters {
		s.parameters[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	if st.LastUpdatedTime != nil {
		s.updated = *st.LastUpdatedTime
	}
	tmpl, err := c.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(name), TemplateStage: cfntypes.TemplateStageOriginal})
	if err != nil {
		t.Fatalf("template of %s: %v", name, err)
	}
	s.template = aws.ToString(tmpl.TemplateBody)
	return s
}

func recorded(t *testing.T, service, version string) *state.Deployment {
	t.Helper()
	d, err := devStore(t).GetDeployment(cmdtest.Context(t), service, "dev", devRegion, version)
	if err != nil || d == nil {
		t.Fatalf("recorded deployment of %s %s: %v, %v", service, version, d, err)
	}
	return d
}

func decode(t *testing.T, stdout string) rollout.Result {
	t.Helper()
	var res rollout.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not the JSON result: %v\n%s", err, stdout)
	}
	return res
}

// The stacks run exactly what was recorded for v: templates byte for byte,
// parameters, and the version and hash tags.
func assertRuns(t *testing.T, service string, dep *state.Deployment) {
	t.Helper()
	for _, s := range dep.Stacks {
		got := describe(t, s.Name)
		if got.template != string(s.Template) {
			t.Errorf("%s: template is not the recorded %s bytes (%d bytes, want %d)", s.Name, dep.Version, len(got.template), len(s.Template))
		}
		for k, v := range s.Parameters {
			if got.parameters[k] != v {
				t.Errorf("%s: parameter %s = %q, want the recorded %q", s.Name, k, got.parameters[k], v)
			}
		}
		if s.Kind == string(naming.App) {
			if got.tags[render.TagVersion] != dep.Version || got.tags[deploy.TagHash] != dep.Hash {
				t.Errorf("%s: tags version %q hash %q, want %q %q", s.Name, got.tags[render.TagVersion], got.tags[deploy.TagHash], dep.Version, dep.Hash)
			}
		}
		if got.tags[render.TagService] != service || got.tags[render.TagStage] != "dev" {
			t.Errorf("%s: tags %v lack the base tags", s.Name, got.tags)
		}
	}
}

// Deploy 1.0.0 then 2.0.0 (with a changed descriptor), roll back to 1.0.0:
// the stacks run 1.0.0's recorded templates and parameters byte for byte, tagged 1.0.0, the rollback is journaled
// under the stage's lock, which is released; a deploy of 2.0.0 then deploys
// it again.
func TestRollbackToVersion(t *testing.T) {
	bootstrapDev(t)
	const svc = "rb-to"
	// 2.0.0 also changes the descriptor: the rollback must restore 1.0.0's
	// recorded template, not render the descriptor on disk.
	runDeploy(t, descriptor(t, svc), "1.0.0")
	file := descriptor(t, svc, func(s string) string { return strings.Replace(s, "LOG_LEVEL: info", "LOG_LEVEL: debug", 1) })
	runDeploy(t, file, "2.0.0")
	v1, v2 := recorded(t, svc, "1.0.0"), recorded(t, svc, "2.0.0")
	app := svc + "-dev-app"
	if describe(t, app).template == string(v1.Stacks[1].Template) {
		t.Fatal("1.0.0 and 2.0.0 have the same app template: the test proves nothing")
	}

	r := runRollback(t, file, "--stage", "dev", "--region", devRegion, "--to", "1.0.0", "--output", "json")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	res := decode(t, r.out)
	if res.Service != svc || res.Version != "1.0.0" || res.Result != rollout.Succeeded || len(res.Regions) != 1 {
		t.Fatalf("result %+v", res)
	}
	rr := res.Regions[0]
	if rr.Stage != "dev" || rr.Region != devRegion || rr.Wave != 1 || rr.Status != rollout.StatusRolledBack || len(rr.Stacks) != 2 {
		t.Errorf("region %+v", rr)
	}
	if rr.Stacks[0].Action != rollout.ActionUnchanged || rr.Stacks[1].Action != rollout.ActionRestore || rr.Stacks[1].Changes == 0 {
		t.Errorf("stacks %+v: want the data stack unchanged, the app stack restored", rr.Stacks)
	}
	assertRuns(t, svc, v1)
	for _, want := range []string{"no terminal: rolling back without asking", "from 2.0.0 to 1.0.0", "deploying stack " + app, app + " UPDATE_COMPLETE", "rolled-back"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.errOut)
		}
	}

	// The stage's lock was taken and released, as for a deploy.
	ctx := cmdtest.Context(t)
	store := devStore(t)
	if l, err := store.Lock(ctx, svc, "dev"); err != nil || l != nil {
		t.Errorf("lock after the rollback: %+v, %v; want released", l, err)
	}
	ro, err := store.LatestRollout(ctx, svc, "dev")
	if err != nil || ro == nil || ro.Version != "1.0.0" || ro.Status != state.RolloutSucceeded || ro.Regions[devRegion] != string(rollout.StatusRolledBack) {
		t.Errorf("latest rollout record %+v, %v", ro, err)
	}
	entries, err := store.Journal(ctx, svc, "dev", ro.ID)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range entries {
		steps = append(steps, e.Step+":"+e.Status)
	}
	want := "lock:taken rollback:started data:started data:unchanged app:started app:update rollback:rolled-back stage:succeeded"
	if got := strings.Join(steps, " "); got != want {
		t.Errorf("journal %s\nwant    %s", got, want)
	}
	// The restore is recorded as 1.0.0's latest deployment.
	if latest, err := store.LatestDeployment(ctx, svc, "dev", devRegion); err != nil || latest.Version != "1.0.0" || latest.Hash != v1.Hash {
		t.Errorf("latest deployment %+v, %v", latest, err)
	}

	// 2.0.0 deploys again (the tags say 1.0.0), and runs its own templates.
	again := runDeploy(t, file, "2.0.0")
	if again.Regions[0].Status != rollout.StatusDeployed {
		t.Errorf("deploy of 2.0.0 after the rollback: %+v, want deployed", again.Regions[0])
	}
	assertRuns(t, svc, v2)
}

// Without --to the rollback goes to the latest version other than the one
// running, after a yes at the terminal; no at the prompt changes nothing;
// rolling back to the version already running does nothing.
func TestRollbackToPreviousVersion(t *testing.T) {
	bootstrapDev(t)
	const svc = "rb-prev"
	file := descriptor(t, svc)
	runDeploy(t, file, "1.0.0")
	runDeploy(t, file, "2.0.0")
	runDeploy(t, file, "3.0.0")
	app := svc + "-dev-app"
	before := describe(t, app)

	r := runRollbackTTY(t, "n\n", file, "--stage", "dev", "--region", devRegion)
	if r.code != 1 || !strings.Contains(r.errOut, "Roll "+svc+"/dev/us-east-1 back from 3.0.0 to 2.0.0? [y/N]") || !strings.Contains(r.errOut, "cancelled") {
		t.Errorf("declined: exit %d\nstderr %s", r.code, r.errOut)
	}
	if after := describe(t, app); after.tags[render.TagVersion] != "3.0.0" || !after.updated.Equal(before.updated) {
		t.Errorf("declined, yet the app stack changed: %v", after.tags)
	}

	r = runRollbackTTY(t, "y\n", file, "--stage", "dev", "--region", devRegion)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	if want := "rolled back: " + svc + "/dev/us-east-1 from 3.0.0 to 2.0.0 (data: unchanged; app: restore ("; !strings.HasPrefix(r.out, want) {
		t.Errorf("stdout %q, want it to start with %q", r.out, want)
	}
	assertRuns(t, svc, recorded(t, svc, "2.0.0"))

	// Already there: nothing to do, nothing touched.
	before = describe(t, app)
	r = runRollback(t, file, "--stage", "dev", "--region", devRegion, "--to", "2.0.0", "--output", "json")
	if r.code != 0 || decode(t, r.out).Regions[0].Status != rollout.StatusUnchanged || !strings.Contains(r.errOut, "already runs version 2.0.0") {
		t.Errorf("rollback to the running version: exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	if after := describe(t, app); !after.updated.Equal(before.updated) {
		t.Error("rolling back to the running version updated the stack")
	}
}

// A version never deployed there is exit 2 with the recorded versions, and
// so is a region with nothing deployed at all.
func TestRollbackUnknownVersion(t *testing.T) {
	bootstrapDev(t)
	const svc = "rb-unknown"
	file := descriptor(t, svc)
	runDeploy(t, file, "1.0.0")
	runDeploy(t, file, "2.0.0")

	r := runRollback(t, file, "--stage", "dev", "--region", devRegion, "--to", "1.5.0")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\nstderr %s", r.code, r.errOut)
	}
	if r.out != "" {
		t.Errorf("stdout %q, want nothing", r.out)
	}
	i1, i2 := strings.Index(r.errOut, "\n  1.0.0"), strings.Index(r.errOut, "\n  2.0.0")
	if !strings.Contains(r.errOut, "version 1.5.0 was never deployed to "+svc+"/dev/us-east-1") || i1 < 0 || i2 < 0 || i2 > i1 {
		t.Errorf("stderr should name the version and list 2.0.0 then 1.0.0:\n%s", r.errOut)
	}
	if v := describe(t, svc+"-dev-app").tags[render.TagVersion]; v != "2.0.0" {
		t.Errorf("app stack runs %s after a refused rollback", v)
	}

	never := descriptor(t, "rb-never")
	r = runRollback(t, never, "--stage", "dev", "--region", devRegion)
	if r.code != 2 || !strings.Contains(r.errOut, "has no app stack") || !strings.Contains(r.errOut, "no deployment at all is recorded") {
		t.Errorf("nothing deployed: exit %d\nstderr %s", r.code, r.errOut)
	}
}

// Another rollout's lock makes the rollback exit 1 naming the holder, with
// the stacks and the lock untouched.
func TestRollbackLockHeld(t *testing.T) {
	bootstrapDev(t)
	const svc = "rb-locked"
	file := descriptor(t, svc)
	runDeploy(t, file, "1.0.0")
	runDeploy(t, file, "2.0.0")
	ctx := cmdtest.Context(t)
	store := devStore(t)
	lease, err := store.Acquire(ctx, state.LockRequest{Service: svc, Stage: "dev", Owner: "alice@ci-runner-7 pid 4242", RolloutID: "20260101T000000.000Z-abcdef", Version: "3.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lease.Release(context.Background()) })
	app := svc + "-dev-app"
	before := describe(t, app)

	r := runRollback(t, file, "--stage", "dev", "--region", devRegion, "--to", "1.0.0", "--yes")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr %s", r.code, r.errOut)
	}
	for _, want := range []string{"alice@ci-runner-7 pid 4242", "20260101T000000.000Z-abcdef", "gantry unlock"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.errOut)
		}
	}
	after := describe(t, app)
	if after.tags[render.TagVersion] != "2.0.0" || !after.updated.Equal(before.updated) || after.template != before.template {
		t.Errorf("the app stack changed under a held lock: %v", after.tags)
	}
	if l, err := store.Lock(ctx, svc, "dev"); err != nil || l == nil || l.RolloutID != lease.RolloutID {
		t.Errorf("lock after the refusal: %+v, %v; want the other rollout's", l, err)
	}
}

// A rollback that would delete a stateful resource is refused (exit 1,
// JSON result failed) unless --allow-data-loss, before the app stack is
// touched.
func TestRollbackRefusesDataLoss(t *testing.T) {
	bootstrapDev(t)
	const svc = "rb-dataloss"
	// 1.0.0 has no archive bucket; 2.0.0 adds one.
	withBucket := func(s string) string {
		return strings.Replace(s, "  uploads:\n", "  archive:\n    type: s3\n    versioning: false\n    expireDays: 0\n  uploads:\n", 1)
	}
	runDeploy(t, descriptor(t, svc), "1.0.0")
	file := descriptor(t, svc, withBucket)
	runDeploy(t, file, "2.0.0")
	app := svc + "-dev-app"
	before := describe(t, app)

	r := runRollback(t, file, "--stage", "dev", "--region", devRegion, "--output", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	res := decode(t, r.out)
	if res.Result != rollout.Failed || res.Regions[0].Status != rollout.StatusFailed || !strings.Contains(res.Regions[0].Error, "--allow-data-loss") {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(r.errOut, "delete") || !strings.Contains(r.errOut, "AWS::S3::Bucket") {
		t.Errorf("stderr should name the bucket it refused to delete:\n%s", r.errOut)
	}
	if after := describe(t, app); !after.updated.Equal(before.updated) || after.tags[render.TagVersion] != "2.0.0" {
		t.Error("the app stack was touched by a refused rollback")
	}
	ro, err := devStore(t).LatestRollout(cmdtest.Context(t), svc, "dev")
	if err != nil || ro.Status != state.RolloutFailed {
		t.Errorf("rollout record %+v, %v; want failed", ro, err)
	}

	r = runRollback(t, file, "--stage", "dev", "--region", devRegion, "--allow-data-loss")
	if r.code != 0 {
		t.Fatalf("--allow-data-loss: exit %d\nstderr %s", r.code, r.errOut)
	}
	assertRuns(t, svc, recorded(t, svc, "1.0.0"))
}

func TestRollbackUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"--stage", "dev", "--region", devRegion}, "needs one descriptor FILE"},
		{"no stage", []string{payments, "--region", devRegion}, "--stage is required"},
		{"no region", []string{payments, "--stage", "dev"}, "--region is required"},
		{"unknown stage", []string{payments, "--stage", "prd", "--region", devRegion}, `did you mean "prod"`},
		{"region of another stage", []string{payments, "--stage", "dev", "--region", "eu-west-1"}, `no selected stage deploys to region "eu-west-1"`},
		{"bad output", []string{payments, "--stage", "dev", "--region", devRegion, "--output", "yaml"}, `invalid value "yaml" for --output`},
		{"missing file", []string{"nope.sd.yaml", "--stage", "dev", "--region", devRegion}, "nope.sd.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runRollback(t, tt.args...)
			if r.code != 2 || !strings.Contains(r.errOut, tt.want) || r.out != "" {
				t.Errorf("exit %d, want 2 with %q\nstdout %q\nstderr %q", r.code, tt.want, r.out, r.errOut)
			}
		})
	}
}

// Registered on the root, with an example in its help.
func TestRollbackHelp(t *testing.T) {
	f, out, _ := cmdutil.TestFactory(cmdtest.Version)
	if code := root.Run(cmdtest.Context(t), f, []string{"rollback", "--help"}); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	if !strings.Contains(out.String(), "Examples:") || !strings.Contains(out.String(), "gantry rollback payments.sd.yaml --stage prod --region us-east-1") {
		t.Errorf("--help has no example:\n%s", out)
	}
}
