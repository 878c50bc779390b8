package lint

import (
	"fmt"
	"testing"
)

// sidecar is a sidecars entry of name with image, cpu, memory and port (0:
// none).
func sidecar(name, image string, cpu, mem, port int) string {
	s := fmt.Sprintf("  %s:\n    image: %s\n    cpu: %d\n    memory: %d\n", name, image, cpu, mem)
	if port != 0 {
		s += fmt.Sprintf("    port: %d\n", port)
	}
	return s
}

const otelImage = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1"

func TestGN601SidecarSize(t *testing.T) {
	web := "compute:\n  cpu: 512\n  memory: 1024\n"
	runRuleCases(t, "GN601", []ruleCase{
		{name: "room left", yaml: web + "sidecars:\n" + sidecar("otel", otelImage, 128, 256, 0) + sidecar("proxy", otelImage, 128, 256, 0)},
		{name: "cpu all taken by the second", yaml: web + "sidecars:\n" + sidecar("otel", otelImage, 256, 256, 0) + sidecar("proxy", otelImage, 256, 256, 0), want: []at{{11, 10}}, msg: "reserve 512 of compute.cpu 512"},
		{name: "memory", yaml: web + "sidecars:\n" + sidecar("otel", otelImage, 128, 1020, 0), want: []at{{8, 13}}, msg: "leaving the app container 4"},
		{name: "zero cpu sidecars share", yaml: web + "sidecars:\n" + sidecar("otel", otelImage, 0, 256, 0)},
		{
			name: "a stage shrinks the task",
			yaml: web + "sidecars:\n" + sidecar("otel", otelImage, 256, 256, 0) + "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1]\n    overrides:\n      compute: {cpu: 256}\n",
			want: []at{{7, 10}}, msg: `(in stage "dev", with its overrides)`,
		},
	})
}

func TestGN602PortClash(t *testing.T) {
	web := "compute:\n  cpu: 512\n  memory: 1024\n  port: 8080\nrouting: {path: /x/*}\n"
	runRuleCases(t, "GN602", []ruleCase{
		{name: "distinct", yaml: web + "sidecars:\n" + sidecar("otel", otelImage, 128, 256, 4317) + sidecar("proxy", otelImage, 128, 256, 9901)},
		{name: "the app's", yaml: web + "sidecars:\n" + sidecar("otel", otelImage, 128, 256, 8080), want: []at{{11, 11}}, msg: "also the app container's (compute.port, line 4)"},
		{name: "another sidecar's", yaml: web + "sidecars:\n" + sidecar("otel", otelImage, 128, 256, 4317) + sidecar("zproxy", otelImage, 128, 256, 4317), want: []at{{16, 11}}, msg: "also sidecar otel's (line 11)"},
	})
}

func TestGN603SidecarImage(t *testing.T) {
	runRuleCases(t, "GN603", []ruleCase{
		{name: "tag", yaml: "sidecars:\n" + sidecar("otel", otelImage, 0, 64, 0)},
		{name: "digest", yaml: "sidecars:\n" + sidecar("otel", "public.ecr.aws/x/y@sha256:"+fmt.Sprintf("%064x", 7), 0, 64, 0)},
		{name: "registry port is no tag", yaml: "sidecars:\n" + sidecar("otel", "registry.local:5000/otel", 0, 64, 0), want: []at{{3, 12}}, msg: "names no tag or digest"},
		{name: "bare", yaml: "sidecars:\n" + sidecar("otel", "public.ecr.aws/aws-observability/aws-otel-collector", 0, 64, 0), want: []at{{3, 12}}},
		{name: "bad digest", yaml: "sidecars:\n" + sidecar("otel", "x/y@sha256:abc", 0, 64, 0), want: []at{{3, 12}}, msg: "64 lowercase hex"},
		{name: "bad tag", yaml: "sidecars:\n" + sidecar("otel", "x/y:-bad", 0, 64, 0), want: []at{{3, 12}}, msg: "not a valid tag"},
	})
}

func TestGN604ContainerName(t *testing.T) {
	runRuleCases(t, "GN604", []ruleCase{
		{name: "distinct", yaml: "sidecars:\n" + sidecar("otel", otelImage, 0, 64, 0)},
		{name: "the service's name", yaml: "sidecars:\n" + sidecar("payments", otelImage, 0, 64, 0), want: []at{{2, 3}}},
	})
}
