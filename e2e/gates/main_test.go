// Package gates_test is gantry's end-to-end suite for feature-flag-gated
// rollouts (issue 4, item 5): the built gantry binary deploys small
// descriptors whose rollout.gate and rollout.halt flags come from a flagd
// flag file written by the test, against the local AWS emulator behind an
// e2e/proxy (for per-region request counts). It checks exit codes, the JSON
// result, the stacks in the emulator, `gantry status` and `gantry gates`.
//
// The harness is e2e/rollout's, shared in e2e/internal/e2etest (see
// e2e/README.md). The emulator is reset before every test, so the tests run one after another.
package gates_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/e2e/proxy"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/state"
)

// cmdTimeout bounds one gantry command.
const cmdTimeout = 3 * time.Minute

func TestMain(m *testing.M) {
	e2etest.Main(m, e2etest.MainOptions{TempPrefix: "gantry-e2e-gates-", Name: "e2e/gates"})
}

// The harness's types, as this suite names them.
type (
	run          = e2etest.Run
	proc         = e2etest.Proc
	result       = e2etest.Result
	regionResult = e2etest.RegionResult
)

// env is one test's world: the reset emulator behind a fresh proxy, and a
// temporary folder for the descriptor and the flag file.
type env struct {
	t     *testing.T
	proxy *proxy.Proxy
	url   string // the proxy's URL, gantry's --endpoint-url
	tmp   string
	// extraEnv is added to every gantry command's environment (e.g.
	// GANTRY_FLAGS=file:PATH).
	extraEnv []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e2etest.Emu.Reset(t)
	p := e2etest.NewProxy(t)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return &env{t: t, proxy: p, url: p.URL(), tmp: t.TempDir()}
}

// ---- running gantry ----

// runner runs gantry against the proxy as a CI step would run it: no TTY,
// test credentials, none of the caller's AWS configuration, and no
// GANTRY_FLAGS (each test passes --flags, or tests its absence) beyond
// extraEnv.
func (e *env) runner() e2etest.Runner {
	return e2etest.Runner{Endpoint: e.url, Env: e.extraEnv, Timeout: cmdTimeout, Tail: 40}
}

// gantry runs gantry and waits for it.
func (e *env) gantry(args ...string) run {
	e.t.Helper()
	return e.runner().Run(e.t, args...)
}

// mustRun runs gantry and fails the test unless it exits with code.
func (e *env) mustRun(code int, args ...string) run {
	e.t.Helper()
	return e.runner().MustRun(e.t, code, args...)
}

// bootstrap runs gantry bootstrap FILE --demo-platform.
func (e *env) bootstrap(file string) {
	e.t.Helper()
	r := e.mustRun(0, "bootstrap", file, "--demo-platform")
	e.t.Logf("bootstrap: %s", r.Took.Round(time.Millisecond))
	e.proxy.ResetCounts() // count only what the test's own commands do
}

// deploy runs gantry deploy FILE --version V --bake 0s --output json and
// the extra flags, checks the exit code and returns the parsed result.
func (e *env) deploy(code int, file, version string, extra ...string) (*result, run) {
	e.t.Helper()
	args := append([]string{"deploy", file, "--version", version, "--bake", "0s", "--output", "json"}, extra...)
	r := e.mustRun(code, args...)
	res := parseResult(e.t, r)
	e.t.Logf("deploy %s: exit %d, %s in %s", version, r.Code, res.Summary(), r.Took.Round(time.Millisecond))
	return res, r
}

// start runs gantry in the background; the test's cleanup kills it if it
// is still running.
func (e *env) start(args ...string) *proc {
	e.t.Helper()
	return e.runner().Start(e.t, args...)
}

// ---- the JSON result (design: `gantry deploy --output json`) ----

// parseResult reads the one JSON object gantry deploy --output json prints.
func parseResult(t *testing.T, r run) *result {
	t.Helper()
	return e2etest.DecodeResult(t, r)
}

// regionOf returns the result of one region (every test here has one stage).
func regionOf(t *testing.T, r *result, region string) regionResult {
	t.Helper()
	for _, rr := range r.Regions {
		if rr.Region == region {
			return rr
		}
	}
	t.Fatalf("the result has no region %s: %s", region, r.Summary())
	return regionResult{}
}

// wantStatuses checks every region's status: want maps a region to its
// status; the result must list exactly the regions of want.
func wantStatuses(t *testing.T, res *result, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, rr := range res.Regions {
		got[rr.Region] = rr.Status
		if w, ok := want[rr.Region]; ok && rr.Status != w {
			t.Errorf("%s: status %q, want %q (error: %s)", rr.Region, rr.Status, w, rr.Error)
		}
	}
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
		t.Errorf("the result lists regions %v, want %v", got, want)
	}
}

// ---- what the emulator holds ----

// cloud reads the emulator directly (not through the proxy, so the checks
// never show in the proxy's counts), in the stage's account, reached by
// assuming gantry-deploy as gantry does. Make it after the test's reset.
type cloud struct {
	t *testing.T
	p *awsx.Provider
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	p, err := awsx.New(context.Background(), awsx.Options{
		EndpointURL: e2etest.Emu.Endpoint,
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &cloud{t: t, p: p}
}

// stacks lists the stacks of a service (named <service>-...) that exist in
// an account and region, with their status and gantry:version tag.
func (c *cloud) stacks(account, region, service string) map[string]string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cf := cloudformation.NewFromConfig(c.cfg(ctx, account, region))
	out := map[string]string{}
	pages := cloudformation.NewDescribeStacksPaginator(cf, &cloudformation.DescribeStacksInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			c.t.Fatalf("listing the stacks of %s/%s: %v", account, region, err)
		}
		for _, s := range page.Stacks {
			name := aws.ToString(s.StackName)
			if !strings.HasPrefix(name, service+"-") || s.StackStatus == cfntypes.StackStatusDeleteComplete {
				continue
			}
			version := ""
			for _, tg := range s.Tags {
				if aws.ToString(tg.Key) == "gantry:version" {
					version = aws.ToString(tg.Value)
				}
			}
			out[name] = string(s.StackStatus) + " " + version
		}
	}
	return out
}

func (c *cloud) cfg(ctx context.Context, account, region string) aws.Config {
	c.t.Helper()
	cfg, err := c.p.Config(ctx, account, region)
	if err != nil {
		c.t.Fatalf("reaching %s in %s: %v", account, region, err)
	}
	return cfg
}

// journal reads every journal entry of (service, stage) from the stage's
// state table (in its account and first region).
func (c *cloud) journal(account, region, service, stage string) []state.Entry {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store := state.New(dynamodb.NewFromConfig(c.cfg(ctx, account, region)), state.DefaultTable)
	entries, err := store.Journal(ctx, service, stage, "")
	if err != nil {
		c.t.Fatalf("reading the journal of %s/%s: %v", service, stage, err)
	}
	return entries
}

// cfnMutations counts the mutating CloudFormation calls gantry made in a
// region, through the proxy.
func (e *env) cfnMutations(region string) map[string]int {
	out := map[string]int{}
	for op, n := range proxy.Mutating(e.proxy.CountsByRegion()[region]) {
		if strings.HasPrefix(op, "cloudformation:") {
			out[op] = n
		}
	}
	return out
}
