package render

import (
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/naming"
)

const jobsSrc = `jobs:
  nightly-report:
    schedule: cron(0 3 * * ? *)
    timezone: Europe/Berlin
    command: [bin/report]
    cpu: 256
    memory: 1024
    retries: 2
  migrate:
    command: [bin/migrate, "${version}"]
    beforeDeploy: true
`

func TestJobsAndReleaseStack(t *testing.T) {
	d := parse(t, strings.Replace(shop, "resources:\n", jobsSrc+"resources:\n", 1))
	stacks := renderOK(t, d, "dev", "us-east-1")
	var kinds []naming.StackKind
	for _, s := range stacks {
		kinds = append(kinds, s.Kind)
	}
	if !slices.Equal(kinds, []naming.StackKind{naming.Data, naming.Release, naming.App}) {
		t.Fatalf("stacks %v, want data, release, app", kinds)
	}
	release, app := doc(t, stacks[1]), doc(t, stacks[2])
	res := func(tpl map[string]any, id string) map[string]any {
		r, _ := tpl["Resources"].(map[string]any)[id].(map[string]any)
		return r
	}
	props := func(tpl map[string]any, id string) map[string]any {
		p, _ := res(tpl, id)["Properties"].(map[string]any)
		return p
	}
	// The release task is in the release stack only; the scheduled job in
	// the app stack only.
	if res(release, "JobMigrateTaskDefinition") == nil || res(app, "JobMigrateTaskDefinition") != nil {
		t.Error("the release task's task definition belongs in the release stack, not the app stack")
	}
	if res(app, "JobNightlyReportTaskDefinition") == nil || res(release, "JobNightlyReportTaskDefinition") != nil {
		t.Error("the scheduled job's task definition belongs in the app stack")
	}
	mig := props(release, "JobMigrateTaskDefinition")
	ct := mig["ContainerDefinitions"].([]any)[0].(map[string]any)
	cmd := ct["Command"].([]any)
	if ct["Name"] != "migrate" || cmd[0] != "bin/migrate" || cmd[1].(map[string]any)["Ref"] != "Version" || mig["Family"] != "shop-dev-migrate" {
		t.Errorf("migrate task definition: %v", mig)
	}
	if _, hasPorts := ct["PortMappings"]; hasPorts {
		t.Error("a job's container has the app's port")
	}
	group := props(release, "LogGroup")["LogGroupName"]
	if group != "/gantry/shop/dev/release" {
		t.Errorf("release log group %v", group)
	}
	outs := release["Outputs"].(map[string]any)
	for _, o := range []string{"JobMigrateTaskDefinitionArn", OutputCluster, OutputSubnets, OutputSecurityGroup, OutputLogGroup} {
		if outs[o] == nil {
			t.Errorf("release stack has no output %s", o)
		}
	}

	sched := props(app, "JobNightlyReportSchedule")
	target := sched["Target"].(map[string]any)
	ecsp := target["EcsParameters"].(map[string]any)
	if sched["ScheduleExpression"] != "cron(0 3 * * ? *)" || sched["ScheduleExpressionTimezone"] != "Europe/Berlin" ||
		sched["FlexibleTimeWindow"].(map[string]any)["Mode"] != "OFF" || target["RetryPolicy"].(map[string]any)["MaximumRetryAttempts"] != float64(2) ||
		ecsp["TaskDefinitionArn"].(map[string]any)["Ref"] != "JobNightlyReportTaskDefinition" || ecsp["LaunchType"] != "FARGATE" {
		t.Errorf("schedule: %v", sched)
	}
	td := props(app, "JobNightlyReportTaskDefinition")
	if td["Cpu"] != "256" || td["Memory"] != "1024" {
		t.Errorf("job size %v/%v", td["Cpu"], td["Memory"])
	}
	alarm := props(app, "JobNightlyReportFailedAlarm")
	if alarm["AlarmName"] != "shop-dev-nightly-report-failed" || alarm["MetricName"] != "MatchedEvents" {
		t.Errorf("alarm %v", alarm)
	}
	role := props(app, "SchedulerRole")
	stmts := role["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)
	run := stmts[0].(map[string]any)
	if run["Action"].([]any)[0] != "ecs:RunTask" || len(run["Resource"].([]any)) != 1 || run["Condition"] == nil {
		t.Errorf("the scheduler may run more than the job's task definition on its cluster: %v", run)
	}
	if got := JobAlarms("shop", "dev", d.SpecFor("dev")); !slices.Equal(got, []string{"shop-dev-nightly-report-failed"}) {
		t.Errorf("JobAlarms = %v", got)
	}
}
