package bootstrap_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/bootstrap"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/platform"
)

// fakeBootstrapper keeps tables and platforms per account/region in
// memory; Fail fails a target's calls.
type fakeBootstrapper struct {
	Account string
	Fail    map[string]error // "account/region" → error

	mu        sync.Mutex
	tables    map[string]string // "account/region" → table
	platforms map[string]bool
	calls     []string
}

func newFakeBootstrapper() *fakeBootstrapper {
	return &fakeBootstrapper{Account: "999900001111", tables: map[string]string{}, platforms: map[string]bool{}}
}

func (b *fakeBootstrapper) record(call string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, call)
}

// Calls returns the calls so far, sorted: targets run concurrently.
func (b *fakeBootstrapper) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(slices.Values(b.calls))
}

func (b *fakeBootstrapper) CallerAccount(_ context.Context, region string) (string, error) {
	b.record("caller " + region)
	return b.Account, nil
}

func (b *fakeBootstrapper) StateTable(_ context.Context, account, region, table string) (platform.Status, error) {
	k := account + "/" + region
	b.record("table " + k + " " + table)
	if err := b.Fail[k]; err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tables[k] == table {
		return platform.Found, nil
	}
	b.tables[k] = table
	return platform.Created, nil
}

func (b *fakeBootstrapper) ArtifactsBucket(_ context.Context, account, region string) (platform.Resource, error) {
	k := account + "/" + region
	b.record("artifacts " + k)
	if err := b.Fail[k]; err != nil {
		return platform.Resource{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	status := platform.Created
	if b.platforms[k+"/artifacts"] {
		status = platform.Found
	}
	b.platforms[k+"/artifacts"] = true
	return platform.Resource{Kind: "bucket", ID: "gantry-artifacts-" + account + "-" + region, Status: status}, nil
}

func (b *fakeBootstrapper) DemoPlatform(_ context.Context, account, region string) (*platform.Platform, error) {
	k := account + "/" + region
	b.record("platform " + k)
	if err := b.Fail[k]; err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	status := platform.Created
	if b.platforms[k] {
		status = platform.Found
	}
	b.platforms[k] = true
	return &platform.Platform{
		Region: region, VPCID: "vpc-" + region, SubnetIDs: []string{"subnet-a", "subnet-b"},
		SecurityGroupID: "sg-1", ListenerARN: "arn:listener/" + region, ClusterName: platform.Name,
		Resources: []platform.Resource{{Kind: "vpc", ID: "vpc-" + region, Status: status}, {Kind: "ecs-cluster", ID: platform.Name, Status: status}},
	}, nil
}

func (b *fakeBootstrapper) DemoAlarms(_ context.Context, account, region string, names []string) ([]platform.Resource, error) {
	if len(names) == 0 {
		return nil, nil
	}
	k := account + "/" + region
	b.record("alarms " + k + " " + strings.Join(names, ","))
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []platform.Resource
	for _, n := range names {
		status := platform.Created
		if b.platforms[k+"/alarm/"+n] {
			status = platform.Found
		}
		b.platforms[k+"/alarm/"+n] = true
		out = append(out, platform.Resource{Kind: "alarm", ID: n, Status: status})
	}
	return out, nil
}

// runFake runs gantry bootstrap in-process over b; newErr fails making it.
func runFake(t *testing.T, b *fakeBootstrapper, newErr error, args ...string) (int, string, string, int) {
	t.Helper()
	f, out, errOut := cmdutil.TestFactory("v0.0.0-test")
	made := 0
	f.NewBootstrapper = func(context.Context) (cmdutil.Bootstrapper, error) {
		made++
		return b, newErr
	}
	code, err := cmdutil.Execute(context.Background(), bootstrap.NewCmd(f), args)
	stderr := errOut.String()
	if err != nil {
		stderr += "error: " + err.Error()
	}
	return code, out.String(), stderr, made
}

// examples/payments' dev and staging: the table in each stage's first
// region, the demo platform in every region; a rerun finds everything.
func TestBootstrapOverFakeTargets(t *testing.T) {
	t.Parallel()
	b := newFakeBootstrapper()
	code, stdout, stderr, _ := runFake(t, b, nil, payments, "--stage", "dev", "--stage", "staging", "--demo-platform", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	sum := decode(t, stdout)
	var got []string
	for _, tr := range sum.Targets {
		got = append(got, fmt.Sprintf("%s/%s %v %d", tr.Account, tr.Region, tr.Stages, len(tr.Resources)))
		if tr.Platform == nil || tr.Platform.VPCID != "vpc-"+tr.Region || tr.Platform.ECSCluster != "gantry-demo" {
			t.Errorf("%s/%s platform %+v", tr.Account, tr.Region, tr.Platform)
		}
	}
	// Each platform target also gets the stand-in of payments' one
	// rollout.alarms alarm, and every region its artifacts bucket.
	want := []string{"111122223333/us-east-1 [dev] 5", "444455556666/us-east-1 [staging] 5", "444455556666/eu-west-1 [staging] 4"}
	if sum.Result != "succeeded" || sum.StateTable != "gantry-state" || !slices.Equal(got, want) {
		t.Errorf("summary %s %s %v, want %v", sum.Result, sum.StateTable, got, want)
	}
	if n := statuses(sum); n["created"] != 14 || n["found"] != 0 {
		t.Errorf("first run %v", n)
	}
	wantCalls := []string{
		"alarms 111122223333/us-east-1 payments-p99-latency", "alarms 444455556666/eu-west-1 payments-p99-latency",
		"alarms 444455556666/us-east-1 payments-p99-latency",
		"artifacts 111122223333/us-east-1", "artifacts 444455556666/eu-west-1", "artifacts 444455556666/us-east-1",
		"caller us-east-1", // who the caller is, asked once before any work
		"platform 111122223333/us-east-1", "platform 444455556666/eu-west-1", "platform 444455556666/us-east-1",
		"table 111122223333/us-east-1 gantry-state", "table 444455556666/us-east-1 gantry-state",
	}
	if !slices.Equal(b.Calls(), wantCalls) {
		t.Errorf("calls %q, want %q", b.Calls(), wantCalls)
	}

	code, stdout, stderr, _ = runFake(t, b, nil, payments, "--stage", "dev", "--stage", "staging", "--demo-platform")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 14 {
		t.Fatalf("rerun: exit %d, %d lines\n%s\n%s", code, len(lines), stdout, stderr)
	}
	for _, want := range []string{"111122223333  us-east-1       found    state-table     gantry-state", "444455556666  eu-west-1       found    vpc             vpc-eu-west-1",
		"444455556666  eu-west-1       found    bucket          gantry-artifacts-444455556666-eu-west-1",
		"444455556666  eu-west-1       found    alarm           payments-p99-latency"} {
		if !slices.Contains(lines, want) {
			t.Errorf("rerun lacks %q:\n%s", want, stdout)
		}
	}
}

// --region without FILE: the caller's account, asked once, in each region.
func TestBootstrapOverFakeRegions(t *testing.T) {
	t.Parallel()
	b := newFakeBootstrapper()
	code, stdout, stderr, _ := runFake(t, b, nil, "--region", "eu-west-1", "--region", "us-east-1", "--region", "eu-west-1", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	sum := decode(t, stdout)
	if len(sum.Targets) != 2 || sum.Targets[0].Account != b.Account || sum.Targets[0].Region != "eu-west-1" || sum.Targets[1].Region != "us-east-1" || len(sum.Targets[0].Stages) != 0 {
		t.Errorf("targets %+v", sum.Targets)
	}
	want := []string{"artifacts 999900001111/eu-west-1", "artifacts 999900001111/us-east-1", "caller eu-west-1", "table 999900001111/eu-west-1 gantry-state", "table 999900001111/us-east-1 gantry-state"}
	if !slices.Equal(b.Calls(), want) {
		t.Errorf("calls %q, want %q", b.Calls(), want)
	}
}

// A target that fails is reported; the others are still done: exit 1.
func TestBootstrapOverFakeFailure(t *testing.T) {
	t.Parallel()
	b := newFakeBootstrapper()
	b.Fail = map[string]error{"444455556666/eu-west-1": errors.New("AccessDenied: no ec2:CreateVpc")}
	code, stdout, stderr, _ := runFake(t, b, nil, payments, "--stage", "staging", "--demo-platform")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "444455556666  eu-west-1       failed   AccessDenied: no ec2:CreateVpc") ||
		!strings.Contains(stdout, "444455556666  us-east-1       created  state-table     gantry-state") {
		t.Errorf("stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "bootstrap failed in 1 of 2 (account, region) pairs") || !strings.Contains(stderr, "444455556666 eu-west-1: AccessDenied") {
		t.Errorf("stderr: %s", stderr)
	}

	code, stdout, _, _ = runFake(t, b, nil, payments, "--stage", "staging", "--demo-platform", "--output", "json")
	sum := decode(t, stdout)
	if code != 1 || sum.Result != "failed" || sum.Targets[1].Error != "AccessDenied: no ec2:CreateVpc" || sum.Targets[0].Error != "" {
		t.Errorf("json: exit %d %+v", code, sum)
	}
}

// Bad usage is refused before any AWS client is made; a Bootstrapper that
// cannot be made (no credentials) fails with exit 1.
func TestBootstrapOverFakeUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "needs a descriptor FILE or at least one --region"},
		{[]string{"--stage", "dev", "--region", "us-east-1"}, "--stage needs a descriptor FILE"},
		{[]string{"--region", "mars-1"}, `invalid value "mars-1" for --region`},
		{[]string{payments, "--stage", "qa"}, `no stage "qa"`},
		{[]string{payments, "--output", "yaml"}, `invalid value "yaml" for --output`},
	} {
		code, stdout, stderr, made := runFake(t, newFakeBootstrapper(), nil, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" || made != 0 {
			t.Errorf("%q: exit %d, made %d\nstdout %q\nstderr %q; want exit 2 with %q", tc.args, code, made, stdout, stderr, tc.want)
		}
	}
	code, _, stderr, _ := runFake(t, newFakeBootstrapper(), errors.New("loading AWS configuration: no credentials"), "--region", "us-east-1")
	if code != 1 || !strings.Contains(stderr, "no credentials") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// The state table's name is the root's --state-table.
func TestBootstrapOverFakeTableName(t *testing.T) {
	t.Parallel()
	b := newFakeBootstrapper()
	f, out, _ := cmdutil.TestFactory("v0.0.0-test")
	f.NewBootstrapper = func(context.Context) (cmdutil.Bootstrapper, error) { return b, nil }
	f.AWS.StateTable = "gantry-custom"
	if code, err := cmdutil.Execute(context.Background(), bootstrap.NewCmd(f), []string{"--region", "us-east-1"}); code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	if !strings.Contains(out.String(), "created  state-table     gantry-custom") || !slices.Contains(b.Calls(), "table 999900001111/us-east-1 gantry-custom") {
		t.Errorf("stdout %q calls %q", out.String(), b.Calls())
	}
}
