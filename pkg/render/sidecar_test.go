package render

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSidecars(t *testing.T) {
	src := strings.Replace(shop, "resources:\n", `sidecars:
  otel:
    image: public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1
    cpu: 64
    memory: 128
    port: 4317
    essential: false
    command: [--config, "/etc/otel-${stage}.yaml"]
    env: {OTEL_RESOURCE: "service=${service}", DB: "${resources.db.host}"}
    secrets: {OTEL_KEY: "ssm:/otel/key"}
  proxy:
    image: 111122223333.dkr.ecr.${region}.amazonaws.com/proxy@sha256:`+strings.Repeat("a", 64)+`
    cpu: 32
    memory: 64
resources:
`, 1)
	stacks := renderOK(t, parse(t, src), "dev", "us-east-1")
	raw, err := stacks[1].Encode("json")
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct{ Properties json.RawMessage }
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	var td struct {
		Cpu, Memory          string
		ContainerDefinitions []struct {
			Name         string
			Image        any
			Cpu, Memory  int
			Essential    bool
			Command      []any
			PortMappings []struct{ ContainerPort int }
			Environment  []struct {
				Name  string
				Value any
			}
			Secrets []struct {
				Name      string
				ValueFrom any
			}
			LogConfiguration struct{ Options map[string]any }
		}
	}
	if err := json.Unmarshal(tpl.Resources["TaskDefinition"].Properties, &td); err != nil {
		t.Fatal(err)
	}
	if td.Cpu != "256" || td.Memory != "512" || len(td.ContainerDefinitions) != 3 {
		t.Fatalf("task %s/%s with %d containers; want the task size kept and three containers", td.Cpu, td.Memory, len(td.ContainerDefinitions))
	}
	app, otel, proxy := td.ContainerDefinitions[0], td.ContainerDefinitions[1], td.ContainerDefinitions[2]
	if app.Name != "shop" || app.Cpu != 160 || app.Memory != 320 || !app.Essential {
		t.Errorf("app container %s cpu %d memory %d; want shop with 256-96 and 512-192", app.Name, app.Cpu, app.Memory)
	}
	if otel.Name != "otel" || otel.Image != "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1" || otel.Cpu != 64 || otel.Memory != 128 || otel.Essential {
		t.Errorf("otel = %+v", otel)
	}
	if len(otel.PortMappings) != 1 || otel.PortMappings[0].ContainerPort != 4317 || otel.Command[1] != "/etc/otel-dev.yaml" {
		t.Errorf("otel port %v command %v", otel.PortMappings, otel.Command)
	}
	if len(otel.Environment) != 2 || otel.Environment[1].Name != "OTEL_RESOURCE" || otel.Environment[1].Value != "service=shop" {
		t.Errorf("otel env %+v", otel.Environment)
	}
	if _, ok := otel.Environment[0].Value.(map[string]any); !ok || otel.Environment[0].Name != "DB" {
		t.Errorf("otel DB env %+v: want an Fn::ImportValue", otel.Environment[0])
	}
	if otel.LogConfiguration.Options["awslogs-stream-prefix"] != "shop" {
		t.Errorf("otel logs %v", otel.LogConfiguration.Options)
	}
	if !proxy.Essential || !strings.Contains(string(raw), `".amazonaws.com/proxy@sha256:`) {
		t.Errorf("proxy = %+v", proxy)
	}
	// The execution role reads the sidecar's secret too.
	var exec struct {
		Policies []struct {
			PolicyDocument struct {
				Statement []struct {
					Sid      string
					Resource []any
				}
			}
		}
	}
	if err := json.Unmarshal(tpl.Resources["ExecutionRole"].Properties, &exec); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tpl.Resources["ExecutionRole"].Properties), "/otel/key") {
		t.Errorf("the execution role cannot read the sidecar's secret: %s", tpl.Resources["ExecutionRole"].Properties)
	}
}

func TestSidecarsLeavingNothing(t *testing.T) {
	src := strings.Replace(shop, "resources:\n", "sidecars:\n  big:\n    image: a/b:1\n    cpu: 256\n    memory: 64\nresources:\n", 1)
	_, err := Render(parse(t, src), Target{Stage: "dev", Region: "us-east-1"})
	if err == nil || !strings.Contains(err.Error(), "leaving the app container nothing") {
		t.Errorf("err = %v", err)
	}
	src = strings.Replace(shop, "resources:\n", "sidecars:\n  shop:\n    image: a/b:1\n    cpu: 6\n    memory: 64\nresources:\n", 1)
	if _, err := Render(parse(t, src), Target{Stage: "dev", Region: "us-east-1"}); err == nil || !strings.Contains(err.Error(), "rename the sidecar") {
		t.Errorf("err = %v", err)
	}
}
