package descriptor

import (
	"strings"
	"testing"
	"time"
)

// escapeDoc is minimal with the contract block of jobs, sidecars
// and patches, and a stage that adds a patch.
const escapeDoc = `schemaVersion: 1
service: payments
team: payments-platform
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments
compute: {cpu: 512, memory: 1024, port: 8080}
routing: {path: /payments/*}
jobs:
  nightly-report:
    schedule: cron(0 3 * * ? *)
    timezone: Europe/Berlin
    command: [bin/report, --yesterday]
    cpu: 256
    memory: 512
    timeout: 30m
    retries: 1
  migrate:
    command: [bin/migrate]
    beforeDeploy: true
sidecars:
  otel:
    image: public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1
    cpu: 128
    memory: 256
    port: 4317
    essential: false
    env: {OTEL_SERVICE: "${service}"}
    secrets: {API_KEY: "ssm:/otel/key"}
patches:
  - stack: app
    op: add
    path: /Resources/Service/Properties/EnableExecuteCommand
    value: true
stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1]
  - name: prod
    account: "111122223333"
    regions: [us-east-1]
    overrides:
      patches:
        - stack: app
          op: replace
          path: /Resources/Service/Properties/DesiredCount
          value: 3
`

func TestEscapeFieldsDecode(t *testing.T) {
	d, probs := parse(t, escapeDoc)
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	nr := d.Jobs["nightly-report"]
	if nr.Schedule != "cron(0 3 * * ? *)" || nr.Timezone != "Europe/Berlin" || nr.CPU != 256 || nr.Memory != 512 ||
		nr.JobTimeout() != 30*time.Minute || nr.Retries != 1 || nr.BeforeDeploy || len(nr.Command) != 2 {
		t.Errorf("nightly-report = %+v", nr)
	}
	mig := d.Jobs["migrate"]
	if !mig.BeforeDeploy || mig.CPU != 512 || mig.Memory != 1024 || mig.JobTimeout() != time.Hour {
		t.Errorf("migrate (defaults from compute, 1h) = %+v", mig)
	}
	otel := d.Sidecars["otel"]
	if otel.CPU != 128 || otel.Memory != 256 || *otel.Port != 4317 || otel.IsEssential() || otel.Env["OTEL_SERVICE"] != "${service}" {
		t.Errorf("otel = %+v", otel)
	}
	if len(d.Patches) != 1 || d.Patches[0].Value == nil || d.Patches[0].Value.Value != "true" {
		t.Fatalf("patches = %+v", d.Patches)
	}
	if sp := d.Pos["patches[0].path"]; sp.Line != 31 {
		t.Errorf("patches[0].path at line %d, want 35", sp.Line)
	}
	// The stage's patches come after the top level's.
	prod := d.Stages[1].Effective
	if len(prod.Patches) != 2 || prod.Patches[0].Op != "add" || prod.Patches[1].Op != "replace" || prod.Patches[1].Value.Value != "3" {
		t.Fatalf("prod patches = %+v", prod.Patches)
	}
	if sp := d.Stages[1].EffectivePos["patches[1].path"]; sp.Line != 44 {
		t.Errorf("prod's patches[1].path at line %d, want 44 (in the overrides)", sp.Line)
	}
	if sp := d.Stages[1].EffectivePos["patches[0].path"]; sp.Line != 31 {
		t.Errorf("prod's patches[0].path at line %d, want 31 (the top level's)", sp.Line)
	}
	if dev := d.SpecFor("dev"); len(dev.Patches) != 1 {
		t.Errorf("dev patches = %+v", dev.Patches)
	}
}

func TestEscapeLoaderProblems(t *testing.T) {
	cases := []struct {
		name, yaml string
		line       int
		code, msg  string
	}{
		{"job name", "jobs:\n  Nightly:\n    command: [x]\n    beforeDeploy: true\n", 2, CodeName, `job name "Nightly"`},
		{"empty command", "jobs:\n  a:\n    command: []\n    beforeDeploy: true\n", 3, CodeValue, "is empty"},
		{"no command", "jobs:\n  a:\n    beforeDeploy: true\n", 3, CodeRequired, `"command"`},
		{"retries", "jobs:\n  a:\n    command: [x]\n    schedule: rate(1 hour)\n    retries: 6\n", 5, CodeValue, "use 0-5"},
		{"timeout", "jobs:\n  a:\n    command: [x]\n    schedule: rate(1 hour)\n    timeout: 25h\n", 5, CodeValue, "at most 24h"},
		{"bad placeholder", "jobs:\n  a:\n    command: [\"${nope\"]\n    beforeDeploy: true\n", 3, CodePlaceholder, ""},
		{"sidecar memory", "sidecars:\n  s:\n    image: a/b:1\n    cpu: 0\n    memory: 4\n", 5, CodeValue, "at least 6 MiB"},
		{"sidecar port", "sidecars:\n  s:\n    image: a/b:1\n    cpu: 0\n    memory: 64\n    port: 70000\n", 6, CodeValue, "out of range"},
		{"sidecar secret", "sidecars:\n  s:\n    image: a/b:1\n    cpu: 0\n    memory: 64\n    secrets: {K: plain}\n", 6, CodeValue, "secrets are references"},
		{"sidecar env name", "sidecars:\n  s:\n    image: a/b:1\n    cpu: 0\n    memory: 64\n    env: {1X: a}\n", 6, CodeName, "environment variable name"},
		{"sidecar missing memory", "sidecars:\n  s:\n    image: a/b:1\n    cpu: 0\n", 3, CodeRequired, `"memory"`},
		{"op", "patches:\n  - {stack: app, op: ad, path: /x, value: 1}\n", 2, CodeValue, `did you mean "add"`},
		{"stack", "patches:\n  - {stack: apps, op: remove, path: /x}\n", 2, CodeValue, "use app or data"},
		{"no value", "patches:\n  - {stack: app, op: add, path: /x}\n", 2, CodeRequired, "needs `value`"},
		{"value on remove", "patches:\n  - {stack: app, op: remove, path: /x, value: 1}\n", 2, CodeValue, "takes no `value`"},
		{"no from", "patches:\n  - {stack: app, op: copy, path: /x}\n", 2, CodeRequired, "needs `from`"},
		{"from on add", "patches:\n  - {stack: app, op: add, path: /x, from: /y, value: 1}\n", 2, CodeValue, "only for move and copy"},
		{"no path", "patches:\n  - {stack: app, op: remove}\n", 2, CodeRequired, `"path"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(minimal, "resources:\n", c.yaml+"resources:\n", 1)
			_, probs := parse(t, src)
			offset := strings.Count(minimal[:strings.Index(minimal, "resources:\n")], "\n")
			for _, p := range probs {
				if p.Code == c.code && p.Line == c.line+offset && strings.Contains(p.Message, c.msg) {
					return
				}
			}
			t.Errorf("want %s at line %d containing %q; got %v", c.code, c.line+offset, c.msg, probs)
		})
	}
}

func TestPatchValueNull(t *testing.T) {
	src := strings.Replace(minimal, "resources:\n", "patches:\n  - {stack: app, op: add, path: /Metadata, value: null}\nresources:\n", 1)
	d, probs := parse(t, src)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if v := d.Patches[0].Value; v == nil || v.ShortTag() != "!!null" {
		t.Errorf("value: null should be kept as a null node, got %+v", v)
	}
}
