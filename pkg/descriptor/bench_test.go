package descriptor

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The loader's hot path: `gantry lint`, `render`, `plan` and `deploy` all
// start here. Run with `go test -run '^$' -bench . -benchmem ./pkg/descriptor`.

const paymentsFile = "../../examples/payments/payments.sd.yaml"

// BenchmarkLoadPayments: the example service, read from disk and parsed.
func BenchmarkLoadPayments(b *testing.B) {
	st, err := os.Stat(paymentsFile)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		_, probs, err := Load(paymentsFile)
		if err != nil || len(probs) > 0 {
			b.Fatalf("%v %v", err, probs)
		}
	}
}

// BenchmarkParseLarge: a generated descriptor far bigger than a real one
// (see largeDescriptor), parsed from memory.
func BenchmarkParseLarge(b *testing.B) {
	src := []byte(largeDescriptor())
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, probs := Parse("large.sd.yaml", src); len(probs) > 0 {
			b.Fatal(probs[0])
		}
	}
}

// TestLargeDescriptorLoads keeps the benchmark's input valid (and quick to
// check): a problem there would make BenchmarkParseLarge measure the error
// path.
func TestLargeDescriptorLoads(t *testing.T) {
	src := largeDescriptor()
	t.Logf("%d bytes", len(src))
	d, probs := Parse("large.sd.yaml", []byte(src))
	if len(probs) > 0 {
		t.Fatalf("%d problems, first: %v", len(probs), probs[0])
	}
	if len(d.Env) != largeEnv || len(d.Resources) != largeResources || len(d.Stages) != largeStages {
		t.Fatalf("env %d, resources %d, stages %d", len(d.Env), len(d.Resources), len(d.Stages))
	}
	for _, st := range d.Stages {
		if st.Effective == nil || len(st.Waves) != 3 {
			t.Fatalf("stage %s: effective spec %v, %d waves", st.Name, st.Effective != nil, len(st.Waves))
		}
	}
}

const largeEnv, largeResources, largeStages = 300, 30, 12

// largeDescriptor: 300 env vars (a third of them placeholders), 30
// resources of every type, secrets from each postgres and redis, and 12
// stages of three waves each with overrides: about 17 KB, seven times payments.
func largeDescriptor() string {
	var b strings.Builder
	b.WriteString("schemaVersion: 1\nservice: large-svc\nteam: platform\ndescription: generated for benchmarks\n" +
		"image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/large\n" +
		"compute: {cpu: 1024, memory: 2048, port: 8080, healthcheck: /healthz, command: [./server, --fast]}\n" +
		"scaling: {min: 2, max: 20, cpuTarget: 55}\nrouting: {path: /large/*}\nenv:\n")
	types := []string{"postgres", "redis", "s3"}
	for i := range largeEnv {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "  VAR_%03d: value-%d-${stage}-${region}\n", i, i)
		case 1:
			r := i % largeResources
			fmt.Fprintf(&b, "  VAR_%03d: ${resources.r%02d.%s}\n", i, r, map[string]string{"postgres": "host", "redis": "host", "s3": "bucket"}[types[r%3]])
		default:
			fmt.Fprintf(&b, "  VAR_%03d: \"plain %d\"\n", i, i)
		}
	}
	b.WriteString("secrets:\n  API_KEY: ssm:/large/api-key\n")
	for r := range largeResources {
		switch types[r%3] {
		case "postgres":
			fmt.Fprintf(&b, "  PG_%02d_PASSWORD: ${resources.r%02d.password}\n", r, r)
		case "redis":
			fmt.Fprintf(&b, "  REDIS_%02d_AUTH: ${resources.r%02d.auth}\n", r, r)
		}
	}
	b.WriteString("resources:\n")
	for r := range largeResources {
		switch types[r%3] {
		case "postgres":
			fmt.Fprintf(&b, "  r%02d: {type: postgres, version: \"16\", class: db.t4g.medium, storage: %d, multiAZ: false, backupDays: 7}\n", r, 20+r)
		case "redis":
			fmt.Fprintf(&b, "  r%02d: {type: redis, class: cache.t4g.small, replicas: 1}\n", r)
		case "s3":
			fmt.Fprintf(&b, "  r%02d: {type: s3, versioning: true, expireDays: %d}\n", r, r)
		}
	}
	b.WriteString("stages:\n")
	regions := []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1"}
	for s := range largeStages {
		fmt.Fprintf(&b, "  - name: stage%02d\n    account: \"%012d\"\n    waves:\n", s, 100000000000+s)
		fmt.Fprintf(&b, "      - regions: [%s]\n        bake: 5m\n", regions[0])
		fmt.Fprintf(&b, "      - regions: [%s]\n        bake: 10m\n", strings.Join(regions[1:3], ", "))
		fmt.Fprintf(&b, "      - regions: [%s]\n        maxParallel: 2\n", strings.Join(regions[3:], ", "))
		fmt.Fprintf(&b, "    overrides:\n      scaling: {min: %d, max: 40}\n      env: {STAGE_ONLY: s%d}\n      resources:\n        r00: {class: db.r6g.large, multiAZ: true}\n", 2+s%3, s)
	}
	b.WriteString("rollout: {gate: large-gate, halt: large-halt, alarms: [large-p99]}\n")
	return b.String()
}
