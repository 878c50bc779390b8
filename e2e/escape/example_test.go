package escape_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

const invoices = "examples/invoices/invoices.sd.yaml"

// TestInvoicesExample rolls the example out to dev as it is: the
// migration runs before the app stack, the two schedules' failed-run
// alarms exist and the bake watches them, the sidecar is in the task and
// the patches are in the deployed templates.
func TestInvoicesExample(t *testing.T) {
	e := newEnv(t)
	e.gantry(0, "bootstrap", invoices, "--stage", "dev", "--demo-platform")
	r := e.gantry(4, "plan", invoices, "--stage", "dev", "--version", "1.0.0", "--exit-code")
	for _, want := range []string{"invoices-dev-release", "release task migrate will run once with version 1.0.0",
		"invoices-dev-monthly-statements-failed", "invoices-dev-reminders-failed"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.Stdout)
		}
	}
	res, run := e.deploy(0, invoices, "1.0.0", "--stage", "dev")
	if res.Result != "succeeded" || !strings.Contains(run.Stderr, "release task migrate exited 0") {
		t.Fatalf("deploy: %s\n%s", res.Result, run.Stderr)
	}
	cfg := e.cfg("111122223333", "eu-central-1")
	alarms, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(tctx(t), &cloudwatch.DescribeAlarmsInput{
		AlarmNames: []string{"invoices-dev-monthly-statements-failed", "invoices-dev-reminders-failed"},
	})
	if err != nil || len(alarms.MetricAlarms) != 2 {
		t.Errorf("job alarms: %v, %v", alarms, err)
	}
	svc, err := ecs.NewFromConfig(cfg).DescribeTaskDefinition(tctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("invoices-dev")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(svc.TaskDefinition.ContainerDefinitions); n != 2 || aws.ToString(svc.TaskDefinition.ContainerDefinitions[1].Name) != "otel" {
		t.Errorf("the service's task has %d containers, want the app and the otel sidecar", n)
	}
}
