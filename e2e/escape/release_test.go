package escape_test

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
)

const choresAccount = "111122223333"

// chores is a worker with a scheduled job, a release task running script
// (a quoted YAML string; the emulator reads echo, sleep and exit from it)
// and a sidecar.
func chores(script string) string {
	return `schemaVersion: 1
service: chores
team: e2e
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/chores
compute: {cpu: 512, memory: 1024}
scaling: {min: 1, max: 2}
env:
  APP_VERSION: ${version}
resources:
  files: {type: s3}
jobs:
  nightly:
    schedule: cron(0 3 * * ? *)
    timezone: Europe/Berlin
    command: [bin/nightly]
  migrate:
    command: [sh, -c, ` + script + `]
    beforeDeploy: true
    timeout: 2m
sidecars:
  otel:
    image: public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1
    cpu: 128
    memory: 256
stages:
  - name: dev
    account: "` + choresAccount + `"
    regions: [us-east-1]
`
}

func quoted(s string) string { b, _ := json.Marshal(s); return string(b) }

// migrateTasks lists the release task's ECS tasks in the region, of
// every revision of its task definition.
func (e *env) migrateTasks(t *testing.T) []string {
	t.Helper()
	api := ecs.NewFromConfig(e.cfg(choresAccount, "us-east-1"))
	list, err := api.ListTasks(tctx(t), &ecs.ListTasksInput{Cluster: aws.String("gantry-demo"), StartedBy: aws.String("gantry")})
	if err != nil || len(list.TaskArns) == 0 {
		return nil
	}
	out, err := api.DescribeTasks(tctx(t), &ecs.DescribeTasksInput{Cluster: aws.String("gantry-demo"), Tasks: list.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, task := range out.Tasks {
		if aws.ToString(task.Group) == "family:chores-dev-migrate" {
			arns = append(arns, aws.ToString(task.TaskArn))
		}
	}
	return arns
}

func (e *env) appVersion(t *testing.T) string {
	t.Helper()
	cf := cloudformation.NewFromConfig(e.cfg(choresAccount, "us-east-1"))
	out, err := cf.DescribeStacks(tctx(t), &cloudformation.DescribeStacksInput{StackName: aws.String("chores-dev-app")})
	if err != nil && strings.Contains(err.Error(), "does not exist") {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range out.Stacks[0].Tags {
		if aws.ToString(tag.Key) == "gantry:version" {
			return aws.ToString(tag.Value)
		}
	}
	return ""
}

// TestReleaseTaskRollout: a service with a scheduled job, a release task
// and a sidecar rolls out; the plan says the task will run, then that it
// ran; the task ran once with the new version; the sidecar is in the
// task definition and the schedule exists.
func TestReleaseTaskRollout(t *testing.T) {
	e := newEnv(t)
	file := e.write("chores", chores(quoted(`echo migrating to $APP_VERSION; sleep 1; echo migrated; exit 0`)))
	e.gantry(0, "lint", file)
	e.gantry(0, "bootstrap", file, "--demo-platform")
	r := e.gantry(4, "plan", file, "--stage", "dev", "--version", "1.0.0", "--exit-code")
	if !strings.Contains(r.Stdout, "release task migrate will run once with version 1.0.0") {
		t.Errorf("plan does not say the release task will run:\n%s", r.Stdout)
	}
	res, run := e.deploy(0, file, "1.0.0")
	if res.Result != "succeeded" {
		t.Fatalf("deploy: %s", res.Result)
	}
	if !strings.Contains(run.Stderr, "running release task migrate") || !strings.Contains(run.Stderr, "release task migrate exited 0") {
		t.Errorf("the progress does not show the release task:\n%s", run.Stderr)
	}
	var kinds []string
	for _, s := range res.Regions[0].Stacks {
		kinds = append(kinds, s.Kind)
	}
	if strings.Join(kinds, ",") != "data,release,app" {
		t.Errorf("stacks %v, want data, release, app", kinds)
	}
	if n := len(e.migrateTasks(t)); n != 1 {
		t.Errorf("%d migrate tasks, want 1", n)
	}

	cfg := e.cfg(choresAccount, "us-east-1")
	api := ecs.NewFromConfig(cfg)
	td, err := api.DescribeTaskDefinition(tctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("chores-dev")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range td.TaskDefinition.ContainerDefinitions {
		names = append(names, aws.ToString(c.Name))
	}
	if strings.Join(names, ",") != "chores,otel" {
		t.Errorf("containers of the service's task: %v, want chores and the otel sidecar", names)
	}
	sched, err := scheduler.NewFromConfig(cfg).ListSchedules(tctx(t), &scheduler.ListSchedulesInput{})
	if err != nil || len(sched.Schedules) != 1 {
		t.Errorf("schedules: %+v, %v; want the nightly job's", sched, err)
	}

	r = e.gantry(0, "plan", file, "--stage", "dev", "--version", "1.0.0")
	if !strings.Contains(r.Stdout, "release task migrate already succeeded for version 1.0.0") {
		t.Errorf("plan after the deploy:\n%s", r.Stdout)
	}
	res, _ = e.deploy(0, file, "1.0.0")
	if res.Regions[0].Status != "unchanged" || len(e.migrateTasks(t)) != 1 {
		t.Errorf("an unchanged rerun: %s, %d tasks", res.Regions[0].Status, len(e.migrateTasks(t)))
	}
}

// TestReleaseTaskFailureAndFix: a release task that exits 3 stops its
// region with exit 3 and its last log lines shown, the app stack still on
// the version before; once fixed, the rerun of the same version goes on.
func TestReleaseTaskFailureAndFix(t *testing.T) {
	e := newEnv(t)
	file := e.write("chores", chores(quoted(`echo ok; exit 0`)))
	e.gantry(0, "bootstrap", file, "--demo-platform")
	e.deploy(0, file, "1.0.0")

	e.write("chores", chores(quoted(`echo applying 0042_add_users; echo ERROR: column users.email already exists; exit 3`)))
	res, run := e.deploy(1, file, "2.0.0")
	rr := res.Regions[0]
	if rr.Status != "failed" || !strings.Contains(rr.Error, "release task migrate exited 3") || !strings.Contains(rr.Error, "ERROR: column users.email already exists") {
		t.Errorf("region %s: %q", rr.Status, rr.Error)
	}
	if !strings.Contains(run.Stderr, "exited 3") {
		t.Errorf("stderr does not show the exit code:\n%s", run.Stderr)
	}
	if _, ok := rr.Stack("app"); ok {
		t.Errorf("the result lists an app stack: %+v", rr.Stacks)
	}
	if v := e.appVersion(t); v != "1.0.0" {
		t.Errorf("the app stack runs %s after the failed release task, want 1.0.0 (untouched)", v)
	}

	e.write("chores", chores(quoted(`echo applying 0042_add_users; echo done; exit 0`)))
	res, _ = e.deploy(0, file, "2.0.0")
	if res.Regions[0].Status != "deployed" || e.appVersion(t) != "2.0.0" {
		t.Errorf("the rerun after the fix: %s, app %s", res.Regions[0].Status, e.appVersion(t))
	}
	if n := len(e.migrateTasks(t)); n != 3 {
		t.Errorf("%d migrate tasks, want 3 (1.0.0, the failed 2.0.0, the fixed 2.0.0)", n)
	}
}

// TestKillDuringReleaseTask: gantry is killed (SIGKILL) while the release
// task runs; the rerun waits for that same task rather than starting
// another, then deploys the app stack.
func TestKillDuringReleaseTask(t *testing.T) {
	e := newEnv(t)
	file := e.write("chores", chores(quoted(`echo started; sleep 8; echo finished; exit 0`)))
	e.gantry(0, "bootstrap", file, "--demo-platform")
	p := e.start("deploy", file, "--version", "1.0.0", "--bake", "0s", "--output", "json")
	p.WaitStderr(2*time.Minute, "running release task migrate")
	time.Sleep(time.Second) // the task is started and recorded
	if r := p.Kill(); r.Code != -int(syscall.SIGKILL) {
		t.Fatalf("gantry was not killed: %s", r)
	}
	tasks := e.migrateTasks(t)
	if len(tasks) != 1 {
		t.Fatalf("%d migrate tasks after the kill, want 1", len(tasks))
	}
	if v := e.appVersion(t); v != "" {
		t.Errorf("the app stack exists (%s) though the release task never finished", v)
	}
	e.gantry(0, "unlock", file, "--stage", "dev", "--yes")
	res, run := e.deploy(0, file, "1.0.0")
	if res.Regions[0].Status != "deployed" || e.appVersion(t) != "1.0.0" {
		t.Errorf("the rerun: %s, app %q", res.Regions[0].Status, e.appVersion(t))
	}
	if got := e.migrateTasks(t); len(got) != 1 || got[0] != tasks[0] {
		t.Errorf("migrate tasks after the rerun: %v, want only %s", got, tasks[0])
	}
	if !strings.Contains(run.Stderr, "started by an earlier run") {
		t.Errorf("the rerun does not say it waited for the earlier task:\n%s", e2etest.Tail(run.Stderr, 30))
	}
}

// TestGantryRun: gantry run runs a scheduled job and a release task once,
// now, printing their log lines and exiting with their exit code; with
// --version it runs that version's image.
func TestGantryRun(t *testing.T) {
	e := newEnv(t)
	file := e.write("chores", chores(quoted(`echo migrating to $APP_VERSION; exit 0`)))
	e.gantry(0, "bootstrap", file, "--demo-platform")
	e.deploy(0, file, "1.0.0")

	r := e.gantry(0, "run", file, "nightly", "--stage", "dev", "--region", "us-east-1")
	if r.Stdout != "emulator: would run: bin/nightly\n" || !strings.Contains(r.Stderr, "job nightly exited 0") {
		t.Errorf("run nightly:\n%s", r)
	}
	r = e.gantry(0, "run", file, "migrate", "--stage", "dev", "--region", "us-east-1", "--version", "1.1.0")
	if r.Stdout != "migrating to 1.0.0\n" {
		// APP_VERSION is the deployed env; the image is 1.1.0's.
		t.Errorf("run migrate:\n%s", r)
	}
	api := ecs.NewFromConfig(e.cfg(choresAccount, "us-east-1"))
	td, err := api.DescribeTaskDefinition(tctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("chores-dev-migrate")})
	if err != nil {
		t.Fatal(err)
	}
	if img := aws.ToString(td.TaskDefinition.ContainerDefinitions[0].Image); !strings.HasSuffix(img, "/chores:1.1.0") {
		t.Errorf("the latest migrate revision runs %s, want the 1.1.0 image", img)
	}

	e.write("chores", chores(quoted(`echo boom; exit 3`)))
	e.deploy(1, file, "2.0.0") // the release task fails; its stack has the new command
	r = e.gantry(3, "run", file, "migrate", "--stage", "dev", "--region", "us-east-1")
	if r.Stdout != "boom\n" || !strings.Contains(r.Stderr, "job migrate exited 3") {
		t.Errorf("run of a failing job:\n%s", r)
	}
	e.gantry(2, "run", file, "nigthly", "--stage", "dev", "--region", "us-east-1")
}
