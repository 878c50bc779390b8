package render

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/naming"
)

// withCanary is shop with a canary in prod only, without compare alarms.
const withCanary = shop + `rollout:
  canary:
    steps: [10, 50]
    stages: [prod]
`

func TestCanaryOnlyInItsStages(t *testing.T) {
	d := parse(t, withCanary)
	dev := stackOf(t, renderOK(t, d, "dev", "us-east-1"), naming.App)
	if got := keysOf(doc(t, dev)["Resources"].(map[string]any)); slices.Contains(got, "CanaryService") {
		t.Errorf("dev, outside canary.stages, has a canary: %v", got)
	}
	if !maps.Equal(dev.Parameters, map[string]string{"Version": "v1"}) {
		t.Errorf("dev parameters %v, want only Version", dev.Parameters)
	}
	prod := stackOf(t, renderOK(t, d, "prod", "us-west-2"), naming.App)
	want := map[string]string{"Version": "v1", "CanaryVersion": "v1", "CanaryWeight": "0", "StableWeight": "100", "CanaryTasks": "0"}
	if !maps.Equal(prod.Parameters, want) {
		t.Errorf("prod parameters %v, want %v: rendered, the canary has no traffic and no tasks", prod.Parameters, want)
	}
	m := doc(t, prod)
	for _, id := range []string{"CanaryTaskDefinition", "CanaryService", "CanaryTargetGroup", "CanaryErrorRateAlarm"} {
		get(t, m, "Resources", id)
	}
	for _, id := range []string{"CanaryErrorMarginAlarm", "CanaryLatencyAlarm"} {
		if _, ok := m["Resources"].(map[string]any)[id]; ok {
			t.Errorf("%s rendered without compare asking for it", id)
		}
	}
	// The canary service joins the same security groups as the stable one
	// (the database's client group), behind its own target group.
	stable := compact(t, get(t, m, "Resources", "Service", "Properties", "NetworkConfiguration"))
	canary := compact(t, get(t, m, "Resources", "CanaryService", "Properties", "NetworkConfiguration"))
	if stable != canary || !strings.Contains(canary, "ClientSecurityGroupId") {
		t.Errorf("canary network %s, stable %s", canary, stable)
	}
	if got := compact(t, get(t, m, "Resources", "CanaryService", "Properties", "DesiredCount")); got != `{"Ref":"CanaryTasks"}` {
		t.Errorf("canary desired count %s", got)
	}
	if _, named := get(t, m, "Resources", "CanaryTargetGroup", "Properties").(map[string]any)["Name"]; named {
		t.Error("the canary target group has an explicit name (it would need its own length check)")
	}
	fwd := compact(t, get(t, m, "Resources", "ListenerRule", "Properties", "Actions"))
	if fwd != `[{"ForwardConfig":{"TargetGroups":[{"TargetGroupArn":{"Ref":"TargetGroup"},"Weight":{"Ref":"StableWeight"}},{"TargetGroupArn":{"Ref":"CanaryTargetGroup"},"Weight":{"Ref":"CanaryWeight"}}]},"Type":"forward"}]` {
		t.Errorf("listener rule actions %s", fwd)
	}
	// The alarms rendered are the ones the canary's bake watches.
	var names []string
	for _, r := range m["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == "AWS::CloudWatch::Alarm" {
			if n := res["Properties"].(map[string]any)["AlarmName"].(string); strings.Contains(n, "canary") {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	if w := CanaryAlarmNames("shop", "prod", d.Rollout.Canary); !slices.Equal(names, w) {
		t.Errorf("canary alarms rendered %v, CanaryAlarmNames %v", names, w)
	}
	outs := keysOf(m["Outputs"].(map[string]any))
	for _, o := range []string{OutputListenerRule, OutputStableTargetGroup, OutputCanaryTargetGroup, OutputCanaryService, OutputCluster} {
		if !slices.Contains(outs, o) {
			t.Errorf("no output %s among %v", o, outs)
		}
	}
}

func TestCanaryRefused(t *testing.T) {
	worker := strings.Replace(withCanary, "  port: 8080\n  healthcheck: /healthz\n", "", 1)
	worker = strings.Replace(worker, "routing:\n  path: /shop/*\n", "", 1)
	if _, err := Render(parse(t, worker), Target{Stage: "prod", Region: "us-west-2"}); err == nil || !strings.Contains(err.Error(), "needs compute.port") {
		t.Errorf("a worker with a canary rendered: %v", err)
	}
	bad := withCanary + "    compare: {latencyFactor: 1}\n"
	if _, err := Render(parse(t, bad), Target{Stage: "prod", Region: "us-west-2"}); err == nil || !strings.Contains(err.Error(), "latencyFactor 1 is out of range") {
		t.Errorf("latencyFactor 1 rendered: %v", err)
	}
}

func TestCanaryTasks(t *testing.T) {
	for _, c := range []struct{ min, weight, want int }{
		{3, 0, 0}, {3, 5, 1}, {3, 25, 1}, {3, 50, 2}, {10, 25, 3}, {10, 99, 10}, {0, 10, 1}, {2, 100, 2},
	} {
		if got := CanaryTasks(c.min, c.weight); got != c.want {
			t.Errorf("CanaryTasks(%d, %d) = %d, want %d", c.min, c.weight, got, c.want)
		}
	}
}
