// Package secrets_test proves that no secret value gantry handles leaks
// (issue 5, item 6; issue 14, item 9): with distinctive secrets in play -- the AWS secret
// access key in gantry's environment, a LaunchDarkly SDK key, a SecureString
// parameter and a Secrets Manager secret the service reads, and the Postgres
// password and Redis AUTH token the emulator generates at deploy -- it runs
// the built gantry binary (lint, render, bootstrap, plan, deploy, status,
// gates, and a deploy whose LaunchDarkly provider cannot connect; and lint
// in its four formats and render's refusal on a descriptor with a pasted
// credential and a malformed secret reference) with debug
// logging into a log file, then searches every rendered template, every line
// of stdout and stderr, the log file and every item of the state table for
// each value. A plain environment variable of the descriptor is the positive
// control: it must be found in the templates and, gzipped, in the state.
//
// The harness is e2e/internal/e2etest's (see e2e/README.md).
package secrets_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/state"
)

func TestMain(m *testing.M) {
	e2etest.Main(m, e2etest.MainOptions{TempPrefix: "gantry-e2e-secrets-", Name: "e2e/secrets"})
}

// The one stage the service deploys to.
const (
	service  = "vault"
	stage    = "dev"
	account  = "111122223333"
	region   = "us-east-1"
	gateFlag = "vault-gate"
)

// descriptor is a worker with Postgres and Redis whose container reads
// secrets from every kind of source, and one plain variable: the control.
func descriptor(control string) string {
	return fmt.Sprintf(`schemaVersion: 1
service: %[1]s
team: e2e
description: gantry e2e secrets service
image: %[3]s.dkr.ecr.%[4]s.amazonaws.com/%[1]s
compute:
  cpu: 256
  memory: 512
scaling:
  min: 1
  max: 2
  cpuTarget: 60
env:
  LEAK_CONTROL: %[5]s
  DATABASE_HOST: ${resources.db.host}
secrets:
  STRIPE_KEY: ssm:/%[1]s/stripe
  API_TOKEN: secretsmanager:%[1]s/api-token
  DATABASE_PASSWORD: ${resources.db.password}
  CACHE_AUTH: ${resources.cache.auth}
resources:
  db:
    type: postgres
    version: "16"
    class: db.t4g.micro
    storage: 20
  cache:
    type: redis
    class: cache.t4g.micro
stages:
  - name: %[2]s
    account: "%[3]s"
    regions: [%[4]s]
rollout:
  gate: %[6]s
`, service, stage, account, region, control, gateFlag)
}

// leakyDescriptor is descriptor with a credential pasted into env and, if
// token is not "", a token where a secret reference belongs.
func leakyDescriptor(control, key, token string) string {
	d := strings.Replace(descriptor(control), "env:\n", "env:\n  AWS_SECRET_ACCESS_KEY: "+key+"\n", 1)
	if token == "" {
		return d
	}
	return strings.Replace(d, "secrets:\n", "secrets:\n  GITHUB_TOKEN: \"ssm: "+token+"\"\n", 1)
}

// pasted makes a random AWS-secret-key-like string (40 characters of
// mixed case and digits) and a GitHub-token-like one.
func pasted(t *testing.T) (key, token string) {
	t.Helper()
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	randomOf := func(n int) string {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		for i := range b {
			b[i] = alnum[int(b[i])%len(alnum)]
		}
		return string(b)
	}
	// Mixed classes for sure: GN403 wants upper, lower and digits.
	return "Q7x" + randomOf(37), "ghp_" + randomOf(36)
}

const flagFile = `{"flags": {"vault-gate": {"state": "ENABLED", "variants": {"open": true, "closed": false}, "defaultVariant": "open"}}}`

// distinct is a value no test output holds by chance.
func distinct(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// refuser is an HTTPS proxy on loopback that refuses every CONNECT: the
// LaunchDarkly SDK honours HTTPS_PROXY, so its calls end here and never
// leave the machine.
type refuser struct {
	mu    sync.Mutex
	hosts []string
}

func (r *refuser) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.hosts = append(r.hosts, req.Method+" "+req.Host)
	r.mu.Unlock()
	http.Error(w, "no network in tests", http.StatusForbidden)
}

func (r *refuser) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.hosts...)
}

func TestNoSecretLeaks(t *testing.T) {
	e2etest.Emu.Reset(t)
	tmp := t.TempDir()
	// Word-like with a short random tail: a long random string would be
	// (rightly) refused by lint's GN403 as a pasted credential.
	control := "plain-control-value-" + distinct(t, "")[:8]
	file := filepath.Join(tmp, service+".sd.yaml")
	flags := filepath.Join(tmp, "flags.json")
	logFile := filepath.Join(tmp, "gantry.log")
	out := filepath.Join(tmp, "out")
	for p, data := range map[string]string{file: descriptor(control), flags: flagFile} {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	s := newScanner()
	awsSecret, ldKey := distinct(t, "awssecret"), distinct(t, "sdk-")
	s.add("AWS_SECRET_ACCESS_KEY", awsSecret)
	s.add("LAUNCHDARKLY_SDK_KEY", ldKey)

	ld := &refuser{}
	proxySrv := httptest.NewServer(ld)
	defer proxySrv.Close()

	// Later entries win over the harness's own AWS_SECRET_ACCESS_KEY=test.
	r := e2etest.Runner{Endpoint: e2etest.Emu.Endpoint, Timeout: 3 * time.Minute, Tail: 40, Env: []string{
		"AWS_SECRET_ACCESS_KEY=" + awsSecret,
		"LAUNCHDARKLY_SDK_KEY=" + ldKey,
		"HTTPS_PROXY=" + proxySrv.URL,
		"GANTRY_LOG_LEVEL=debug",
		"GANTRY_LOG_FILE=" + logFile,
	}}
	var runs []e2etest.Run
	run := func(code int, args ...string) {
		t.Helper()
		runs = append(runs, r.MustRun(t, code, args...))
	}

	run(0, "lint", file, "--format", "json")
	run(0, "render", file, "--out", out)

	// A pull request's descriptor with a pasted credential (GN403) and a
	// malformed secret reference holding a token (GN108): lint in every
	// format and render's refusal must not repeat either (issue 14, item 9).
	leaky := filepath.Join(tmp, "leaky.sd.yaml")
	pastedKey, pastedToken := pasted(t)
	if err := os.WriteFile(leaky, []byte(leakyDescriptor(control, pastedKey, pastedToken)), 0o644); err != nil {
		t.Fatal(err)
	}
	s.add("pasted AWS secret access key (GN403)", pastedKey)
	s.add("token in a malformed secret reference (GN108)", pastedToken)
	for _, format := range []string{"text", "json", "sarif", "github"} {
		run(1, "lint", leaky, "--format", format)
		if got := runs[len(runs)-1].Stdout; !strings.Contains(got, "GN403") || !strings.Contains(got, "GN108") {
			t.Errorf("lint --format %s did not flag both secrets, so the search proves nothing:\n%s", format, got)
		}
	}
	// Render refuses a descriptor that does not load (GN108) before it
	// lints it (GN403): one copy with each.
	onlyKey := filepath.Join(tmp, "onlykey.sd.yaml")
	if err := os.WriteFile(onlyKey, []byte(leakyDescriptor(control, pastedKey, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	for file, rule := range map[string]string{leaky: "GN108", onlyKey: "GN403"} {
		run(2, "render", file, "--out", filepath.Join(tmp, "refused"))
		if got := runs[len(runs)-1].Stderr; !strings.Contains(got, rule) {
			t.Errorf("render's refusal of %s does not name %s:\n%s", filepath.Base(file), rule, got)
		}
	}
	run(0, "bootstrap", file, "--demo-platform")

	// What the service's secrets hold, put where its stage reads them.
	c := newCloud(t)
	ctx := t.Context()
	cfg := c.cfg(ctx)
	ssmValue, smValue := distinct(t, "ssmvalue"), distinct(t, "smvalue")
	s.add("SSM SecureString", ssmValue)
	s.add("Secrets Manager secret", smValue)
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/" + service + "/stripe"), Value: aws.String(ssmValue), Type: ssmtypes.ParameterTypeSecureString,
	}); err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(cfg)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(service + "/api-token"), SecretString: aws.String(smValue),
	}); err != nil {
		t.Fatal(err)
	}

	run(0, "plan", file, "--stage", stage, "--output", "json")
	run(0, "deploy", file, "--version", "1.0.0", "--bake", "0s", "--output", "json", "--flags", "file:"+flags)
	run(0, "status", file, "--output", "json")
	run(0, "gates", file, "--version", "1.0.1", "--output", "json", "--flags", "file:"+flags)
	// LaunchDarkly cannot be reached: the deploy fails before any stack,
	// with the key in gantry's hands throughout.
	run(1, "deploy", file, "--version", "1.0.1", "--bake", "0s", "--output", "json", "--flags", "launchdarkly")
	if len(ld.seen()) == 0 {
		t.Error("the LaunchDarkly SDK never called out: the SDK key was not in use")
	}
	for _, h := range ld.seen() {
		if !strings.Contains(h, "launchdarkly.com") {
			t.Errorf("the proxy saw %q, not a LaunchDarkly host", h)
		}
	}

	// The secrets the emulator generated at deploy.
	outputs := c.outputs(ctx, service+"-"+stage+"-data")
	for name, key := range map[string]string{"DbSecretArn": "password", "CacheSecretArn": "auth"} {
		got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(outputs[name])})
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(got.SecretString)), &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v, _ := doc[key].(string)
		if len(v) < 16 {
			t.Fatalf("%s's %s is %d characters; too short to search for", name, key, len(v))
		}
		s.add("generated "+name+" "+key, v)
	}
	s.add("control", control)

	// Search everything gantry wrote.
	rendered := 0
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil {
			rel, _ := filepath.Rel(tmp, p)
			s.bytes("rendered "+rel, data)
			rendered++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range runs {
		cmd := "gantry " + rr.Args[0]
		s.text(cmd+" stdout", rr.Stdout)
		s.text(cmd+" stderr", rr.Stderr)
	}
	logData, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logData), `"level":"DEBUG"`) {
		t.Errorf("the log file has no debug line; the test would miss what debug logging says")
	}
	s.bytes("log file", logData)
	items := c.stateItems(ctx)
	for i, item := range items {
		s.item(fmt.Sprintf("state item %d", i), item)
	}
	t.Logf("searched %d rendered files, the output of %d commands, %d bytes of log and %d state items for %d values",
		rendered, len(runs), len(logData), len(items), len(s.needles))

	// The control is a plain variable: it must be found, or the search is
	// blind.
	var inTemplate, inState bool
	for _, w := range s.found("control") {
		inTemplate = inTemplate || strings.HasPrefix(w, "rendered ")
		inState = inState || (strings.HasPrefix(w, "state item") && strings.HasSuffix(w, "(gunzipped)"))
	}
	if !inTemplate || !inState {
		t.Errorf("the control value was found in %v: want a rendered template and a gzipped template in the state table", s.found("control"))
	}
	for _, h := range s.hits {
		if h.needle != "control" {
			t.Errorf("secret leaked: %s", h)
		}
	}
}

// cloud reads the emulator directly, in the stage's account, reached by
// assuming gantry-deploy as gantry does.
type cloud struct {
	t *testing.T
	p *awsx.Provider
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	p, err := awsx.New(t.Context(), awsx.Options{
		EndpointURL: e2etest.Emu.Endpoint,
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &cloud{t: t, p: p}
}

func (c *cloud) cfg(ctx context.Context) aws.Config {
	c.t.Helper()
	cfg, err := c.p.Config(ctx, account, region)
	if err != nil {
		c.t.Fatalf("reaching %s in %s: %v", account, region, err)
	}
	return cfg
}

// outputs are a stack's outputs by key.
func (c *cloud) outputs(ctx context.Context, stack string) map[string]string {
	c.t.Helper()
	got, err := cloudformation.NewFromConfig(c.cfg(ctx)).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil || len(got.Stacks) != 1 {
		c.t.Fatalf("describing %s: %v", stack, err)
	}
	out := map[string]string{}
	for _, o := range got.Stacks[0].Outputs {
		out[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return out
}

// stateItems scans the stage's whole state table.
func (c *cloud) stateItems(ctx context.Context) []map[string]ddbtypes.AttributeValue {
	c.t.Helper()
	var items []map[string]ddbtypes.AttributeValue
	pages := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(c.cfg(ctx)), &dynamodb.ScanInput{TableName: aws.String(state.DefaultTable)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			c.t.Fatalf("scanning %s: %v", state.DefaultTable, err)
		}
		items = append(items, page.Items...)
	}
	if len(items) == 0 {
		c.t.Fatalf("the state table %s is empty after a deploy", state.DefaultTable)
	}
	return items
}
