package bootstrap_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gantryhq/gantry/internal/cmdtest"
	"github.com/gantryhq/gantry/internal/emulatortest"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cmd/bootstrap"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/root"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/platform"
)

const payments = "../../../examples/payments/payments.sd.yaml"

func TestMain(m *testing.M) { cmdtest.Main(m) }

// runBootstrap runs the command in-process against the emulator.
func runBootstrap(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	r := cmdtest.Exec(t, bootstrap.NewCmd, args...)
	if r.Err != nil && r.Stderr == "" {
		r.Stderr = r.Err.Error()
	}
	return r.Code, r.Stdout, r.Stderr
}

// inAccount returns a config acting in account and region, the way gantry
// reaches a stage's account (assuming gantry-deploy).
func inAccount(t *testing.T, account, region string) aws.Config {
	t.Helper()
	return cmdtest.InAccount(t, cmdtest.Context(t), account, region)
}

// bucketExists says whether the bucket is there, in cfg's account.
func bucketExists(t *testing.T, cfg aws.Config, name string) bool {
	t.Helper()
	_, err := awsx.NewS3(cfg).HeadBucket(cmdtest.Context(t), &s3.HeadBucketInput{Bucket: aws.String(name)})
	return err == nil
}

func tableExists(t *testing.T, cfg aws.Config, name string) bool {
	t.Helper()
	out, err := dynamodb.NewFromConfig(cfg).DescribeTable(cmdtest.Context(t), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var nf *ddbtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]ddbtypes.KeyType{}
	for _, k := range out.Table.KeySchema {
		keys[aws.ToString(k.AttributeName)] = k.KeyType
	}
	if keys["pk"] != ddbtypes.KeyTypeHash || keys["sk"] != ddbtypes.KeyTypeRange {
		t.Errorf("table %s has keys %v, want pk/sk", name, keys)
	}
	return true
}

func platformParam(t *testing.T, cfg aws.Config, name string) string {
	t.Helper()
	out, err := ssm.NewFromConfig(cfg).GetParameters(cmdtest.Context(t), &ssm.GetParametersInput{Names: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Parameters) == 0 {
		return ""
	}
	return aws.ToString(out.Parameters[0].Value)
}

func decode(t *testing.T, stdout string) bootstrap.Summary {
	t.Helper()
	var s bootstrap.Summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, stdout)
	}
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "}\n") {
		t.Errorf("--output json is not one line:\n%s", stdout)
	}
	return s
}

func statuses(s bootstrap.Summary) map[string]int {
	n := map[string]int{}
	for _, t := range s.Targets {
		for _, r := range t.Resources {
			n[r.Status]++
		}
	}
	return n
}

// examples/payments' dev and staging stages live in two accounts other than
// the caller's: the state table goes to each stage's first region, the
// artifacts bucket and the demo platform to every region of the stages, and
// a rerun finds it all.
func TestBootstrapPaymentsInTwoAccounts(t *testing.T) {
	t.Parallel()
	const dev, staging = "111122223333", "444455556666"
	code, stdout, stderr := runBootstrap(t, payments, "--stage", "dev", "--stage", "staging", "--demo-platform", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	sum := decode(t, stdout)
	if sum.Result != "succeeded" || sum.StateTable != "gantry-state" {
		t.Errorf("summary result %q table %q", sum.Result, sum.StateTable)
	}
	type place struct{ account, region string }
	var got []place
	for _, tr := range sum.Targets {
		got = append(got, place{tr.Account, tr.Region})
		if tr.Platform == nil || tr.Platform.ECSCluster != "gantry-demo" || len(tr.Platform.PrivateSubnets) != 2 {
			t.Errorf("%s %s: platform %+v", tr.Account, tr.Region, tr.Platform)
		}
	}
	want := []place{{dev, "us-east-1"}, {staging, "us-east-1"}, {staging, "eu-west-1"}}
	if !slices.Equal(got, want) {
		t.Errorf("targets %v, want %v", got, want)
	}
	// 12 resources of a platform, the stand-in of payments' one
	// rollout.alarms alarm, and the artifacts bucket.
	if n := statuses(sum); n["found"] != 0 || n["created"] != 2+3*14 {
		t.Errorf("first run: %v, want 2 tables and 3 platforms of 14 resources created", n)
	}

	// What the JSON says is there, through each account's own credentials.
	for _, tr := range sum.Targets {
		cfg := inAccount(t, tr.Account, tr.Region)
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(cmdtest.Context(t), &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(id.Account) != tr.Account {
			t.Fatalf("acting in %s: identity %v, %v", tr.Account, id, err)
		}
		wantTable := tr.Region == "us-east-1" // each stage's first region
		if has := tableExists(t, cfg, "gantry-state"); has != wantTable {
			t.Errorf("%s %s: state table exists = %v, want %v", tr.Account, tr.Region, has, wantTable)
		}
		if !bucketExists(t, cfg, naming.ArtifactsBucket(tr.Account, tr.Region)) {
			t.Errorf("%s %s: no artifacts bucket", tr.Account, tr.Region)
		}
		if v := platformParam(t, cfg, platform.ParamVPCID); v == "" || v != tr.Platform.VPCID {
			t.Errorf("%s %s: %s = %q, want %q", tr.Account, tr.Region, platform.ParamVPCID, v, tr.Platform.VPCID)
		}
		if v := platformParam(t, cfg, platform.ParamALBListenerARN); v != tr.Platform.ALBListenerARN {
			t.Errorf("%s %s: listener parameter %q, want %q", tr.Account, tr.Region, v, tr.Platform.ALBListenerARN)
		}
	}
	// Nothing went to the caller's own account.
	if tableExists(t, cmdtest.Emu.Config(t, "eu-west-1"), "gantry-state") {
		t.Error("a state table was made in the caller's account")
	}

	// The rerun, as text: every line says found.
	code, stdout, stderr = runBootstrap(t, payments, "--stage", "dev", "--stage", "staging", "--demo-platform")
	if code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2+3*14 {
		t.Errorf("rerun printed %d lines, want %d:\n%s", len(lines), 2+3*14, stdout)
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 5 || f[2] != "found" || (f[0] != dev && f[0] != staging) {
			t.Errorf("rerun line %q: want ACCOUNT REGION found KIND ID", l)
		}
	}
	if strings.Contains(stdout, "\x1b[") {
		t.Error("colour codes without a terminal")
	}
}

// Without --demo-platform only the tables and artifacts buckets are made,
// and --stage picks the stages.
func TestBootstrapTablesOnly(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runBootstrap(t, payments, "--stage", "prod", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	sum := decode(t, stdout)
	// prod's six regions, in wave order.
	var regions []string
	for _, tr := range sum.Targets {
		regions = append(regions, tr.Region)
		bucket := bootstrap.Resource{Kind: "bucket", ID: naming.ArtifactsBucket("777788889999", tr.Region), Status: "created"}
		want := []bootstrap.Resource{bucket}
		if tr.Region == "us-west-2" {
			want = []bootstrap.Resource{{Kind: "state-table", ID: "gantry-state", Status: "created"}, bucket}
		}
		if tr.Account != "777788889999" || !slices.Equal(tr.Stages, []string{"prod"}) || !slices.Equal(tr.Resources, want) || tr.Platform != nil {
			t.Errorf("target %+v", tr)
		}
	}
	if want := []string{"us-west-2", "us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1"}; !slices.Equal(regions, want) {
		t.Errorf("regions %v, want %v", regions, want)
	}
	cfg := inAccount(t, "777788889999", "us-west-2")
	if !tableExists(t, cfg, "gantry-state") {
		t.Error("no state table in prod's first region")
	}
	if v := platformParam(t, cfg, platform.ParamVPCID); v != "" {
		t.Errorf("a platform was made without --demo-platform: %s", v)
	}
}

// Without a FILE, --region bootstraps the current account.
func TestBootstrapRegionsOfTheCurrentAccount(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runBootstrap(t, "--region", "eu-north-1", "--region", "eu-south-1", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	sum := decode(t, stdout)
	if len(sum.Targets) != 2 {
		t.Fatalf("targets %+v", sum.Targets)
	}
	for _, tr := range sum.Targets {
		if tr.Account != emulatortest.Account || len(tr.Resources) != 2 || tr.Resources[0].Status != "created" || tr.Resources[1].Kind != "bucket" {
			t.Errorf("target %+v", tr)
		}
		if !tableExists(t, cmdtest.Emu.Config(t, tr.Region), "gantry-state") {
			t.Errorf("no table in %s", tr.Region)
		}
	}
	// Adding the platform later finds the table and makes the platform.
	code, stdout, stderr = runBootstrap(t, "--region", "eu-north-1", "--demo-platform", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	sum = decode(t, stdout)
	if n := statuses(sum); n["found"] != 2 || n["created"] != 12 {
		t.Errorf("second run %v, want the table and bucket found and 12 platform resources created", n)
	}
	if v := platformParam(t, cmdtest.Emu.Config(t, "eu-north-1"), platform.ParamECSCluster); v != "gantry-demo" {
		t.Errorf("%s = %q", platform.ParamECSCluster, v)
	}
}

// An AWS failure in one place exits 1, names the account, region and what
// failed, and does not stop the other places.
func TestBootstrapReportsAWSFailures(t *testing.T) {
	t.Parallel()
	ctx := cmdtest.Context(t)
	const bad, good = "me-south-1", "me-central-1"
	// A table of gantry's name with other keys: EnsureTable refuses it.
	_, err := dynamodb.NewFromConfig(cmdtest.Emu.Config(t, bad)).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("gantry-state"),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runBootstrap(t, "--region", bad, "--region", good)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, emulatortest.Account+" "+bad) || !strings.Contains(stderr, "gantry-state") {
		t.Errorf("error %q should name the account, region and table", stderr)
	}
	if !strings.Contains(stdout, good+" ") || !strings.Contains(stdout, "created") {
		t.Errorf("the good region was not bootstrapped:\n%s", stdout)
	}
	if !tableExists(t, cmdtest.Emu.Config(t, good), "gantry-state") {
		t.Error("no table in the good region")
	}

	code, stdout, _ = runBootstrap(t, "--region", bad, "--output", "json")
	if code != 1 {
		t.Fatalf("json: exit %d", code)
	}
	sum := decode(t, stdout)
	if sum.Result != "failed" || sum.Targets[0].Error == "" {
		t.Errorf("json summary %+v, want failed with the error", sum)
	}
}

func TestBootstrapUsageErrors(t *testing.T) {
	t.Parallel()
	broken := filepath.Join(t.TempDir(), "broken.sd.yaml")
	if err := os.WriteFile(broken, []byte("schemaVersion: 1\nservice: Bad_Name\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing to do", nil, "needs a descriptor FILE or at least one --region"},
		{"stage without file", []string{"--region", "us-east-1", "--stage", "dev"}, "--stage needs a descriptor FILE"},
		{"bad output", []string{"--region", "us-east-1", "--output", "yaml"}, `invalid value "yaml" for --output`},
		{"bad region", []string{"--region", "useast1"}, `invalid value "useast1" for --region`},
		{"two files", []string{payments, payments}, "at most one descriptor FILE"},
		{"unknown stage", []string{payments, "--stage", "prd"}, `did you mean "prod"`},
		{"region no stage uses", []string{payments, "--stage", "dev", "--region", "eu-west-1"}, `no selected stage deploys to region "eu-west-1"`},
		{"missing file", []string{"nope.sd.yaml"}, "nope.sd.yaml"},
		{"invalid descriptor", []string{broken}, "broken.sd.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBootstrap(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", stderr, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

// Through the root command: registered, and the global flags
// (--endpoint-url, --state-table) reach it.
func TestBootstrapThroughRoot(t *testing.T) {
	t.Parallel()
	f, out, errOut := cmdutil.TestFactory(cmdtest.Version)
	code := root.Run(cmdtest.Context(t), f, []string{"bootstrap", "--endpoint-url", cmdtest.Emu.Endpoint, "--state-table", "gantry-custom", "--region", "af-south-1"})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out.String(), "created  state-table     gantry-custom") {
		t.Errorf("stdout %q", out)
	}
	if !tableExists(t, cmdtest.Emu.Config(t, "af-south-1"), "gantry-custom") {
		t.Error("no gantry-custom table")
	}

	f, out, _ = cmdutil.TestFactory(cmdtest.Version)
	if code := root.Run(cmdtest.Context(t), f, []string{"bootstrap", "--help"}); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	if !strings.Contains(out.String(), "Examples:") || !strings.Contains(out.String(), "gantry bootstrap payments.sd.yaml") {
		t.Errorf("--help has no example:\n%s", out)
	}
}

// On a terminal the status is coloured (unless NO_COLOR) and a summary
// line goes to stderr; in JSON mode on a terminal the lines go to stderr
// and stdout holds only the object.
func TestBootstrapOnATerminal(t *testing.T) {
	t.Parallel()
	f, out, errOut := cmdutil.TestFactory(cmdtest.Version)
	f.AWS.EndpointURL = cmdtest.Emu.Endpoint
	f.IOStreams.SetStdoutTTY(true)
	f.IOStreams.SetStderrTTY(true)
	code, _ := cmdutil.Execute(cmdtest.Context(t), bootstrap.NewCmd(f), []string{"--region", "il-central-1"})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out.String(), "\x1b[32mcreated") {
		t.Errorf("no colour on a terminal: %q", out)
	}
	if !strings.Contains(errOut.String(), "Bootstrapped 1 (account, region) pairs: 2 created, 0 updated, 0 found") {
		t.Errorf("stderr %q lacks the summary", errOut)
	}

	f, out, errOut = cmdutil.TestFactory(cmdtest.Version)
	f.AWS.EndpointURL = cmdtest.Emu.Endpoint
	f.IOStreams.SetStdoutTTY(true)
	f.IOStreams.SetStderrTTY(true)
	f.IOStreams.SetNoColor(true)
	code, _ = cmdutil.Execute(cmdtest.Context(t), bootstrap.NewCmd(f), []string{"--region", "il-central-1", "--output", "json"})
	if code != 0 {
		t.Fatalf("json: exit %d\n%s", code, errOut)
	}
	if sum := decode(t, out.String()); sum.Targets[0].Resources[0].Status != "found" {
		t.Errorf("rerun summary %+v", sum)
	}
	if !strings.Contains(errOut.String(), "found    state-table") || strings.Contains(errOut.String(), "\x1b[") {
		t.Errorf("stderr %q: want the lines, uncoloured with NO_COLOR", errOut)
	}
}
