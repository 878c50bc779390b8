package proxy

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/gantryhq/gantry/internal/emulatortest"
	"github.com/gantryhq/gantry/pkg/cfn"
)

var emu *emulatortest.Emulator

func TestMain(m *testing.M) {
	e, stop, err := emulatortest.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	emu = e
	code := m.Run()
	stop()
	os.Exit(code)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// start runs a proxy to the emulator for the test.
func start(t *testing.T) *Proxy {
	t.Helper()
	p, err := New(emu.Endpoint, WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// via is a config whose clients go through p, with the SDK's standard
// retryer (short back-offs, so tests are quick).
func via(p *Proxy, region string, attempts int) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(emulatortest.AccessKeyID, emulatortest.SecretAccessKey, ""),
		BaseEndpoint: aws.String(p.URL()),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = 200 * time.Millisecond
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

func attempts(md middleware.Metadata) int {
	r, _ := retry.GetAttemptResults(md)
	return len(r.Results)
}

func TestNewRefusesABadTarget(t *testing.T) {
	for _, target := range []string{"", "127.0.0.1:4566", "ftp://x", "http://"} {
		if _, err := New(target); err == nil {
			t.Errorf("New(%q) did not fail", target)
		}
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	p := start(t)
	ctx := testContext(t)
	client := sts.NewFromConfig(via(p, "us-east-1", 3))
	call := func() time.Duration {
		t0 := time.Now()
		if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
		return time.Since(t0)
	}
	call() // warm the connection
	base := call()

	p.SetLatency(400*time.Millisecond, 0)
	if d := call(); d < 400*time.Millisecond {
		t.Errorf("with 400ms latency a call took %s", d)
	}
	p.SetLatency(100*time.Millisecond, 200*time.Millisecond)
	var ds []time.Duration
	for range 6 {
		d := call()
		ds = append(ds, d)
		if d < 100*time.Millisecond || d > 300*time.Millisecond+base+200*time.Millisecond {
			t.Errorf("with 100ms+200ms jitter a call took %s", d)
		}
	}
	if slices.Min(ds)+20*time.Millisecond > slices.Max(ds) {
		t.Errorf("jitter made no spread: %v", ds)
	}
	p.SetLatency(0, 0)
	if d := call(); d >= 400*time.Millisecond {
		t.Errorf("latency off, a call took %s", d)
	}
}

// Every Nth request is throttled in the query protocol's shape; the SDK
// retries it and the call succeeds.
func TestThrottleEveryNthIsRetried(t *testing.T) {
	t.Parallel()
	p := start(t)
	ctx := testContext(t)
	p.SetThrottles(Throttle{Operation: "cloudformation:DescribeStacks", Every: 2})
	cfn := cloudformation.NewFromConfig(via(p, "us-east-1", 3))
	var tries []int
	for range 3 {
		out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
		if err != nil {
			t.Fatalf("DescribeStacks: %v", err)
		}
		tries = append(tries, attempts(out.ResultMetadata))
	}
	if !slices.Equal(tries, []int{1, 2, 2}) {
		t.Errorf("attempts per call %v, want [1 2 2]", tries)
	}
	if n := p.Counts()["cloudformation:DescribeStacks"]; n != 5 {
		t.Errorf("requests counted %d, want 5", n)
	}
	if n := p.Throttled()["cloudformation:DescribeStacks"]; n != 2 {
		t.Errorf("throttled %d, want 2", n)
	}
	// Another operation is not throttled.
	if _, err := cfn.ListStacks(ctx, &cloudformation.ListStacksInput{}); err != nil {
		t.Fatal(err)
	}
	if n := p.Throttled()["cloudformation:ListStacks"]; n != 0 {
		t.Errorf("ListStacks throttled %d times", n)
	}
}

// Each protocol's throttling error is recognised by the SDK as throttling:
// retried until the attempts run out, with the service's error code.
func TestThrottleWireShapes(t *testing.T) {
	t.Parallel()
	p := start(t)
	p.SetThrottles(Throttle{Every: 1})
	cfg := via(p, "us-west-2", 2)
	ctx := testContext(t)
	tests := []struct {
		op   string
		code string
		call func() error
	}{
		{"cloudformation:DescribeStacks", "Throttling", func() error {
			_, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
			return err
		}},
		{"sts:GetCallerIdentity", "Throttling", func() error {
			_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}},
		{"dynamodb:ListTables", "ThrottlingException", func() error {
			_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}},
		{"ecs:ListClusters", "ThrottlingException", func() error {
			_, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{})
			return err
		}},
		{"ssm:GetParameters", "ThrottlingException", func() error {
			_, err := ssm.NewFromConfig(cfg).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/x"}})
			return err
		}},
		{"ec2:DescribeVpcs", "RequestLimitExceeded", func() error {
			_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
			return err
		}},
		{"monitoring:DescribeAlarms", "Throttling", func() error {
			_, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
			return err
		}},
	}
	for _, tt := range tests {
		err := tt.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
			t.Errorf("%s: err = %v, want API error %s", tt.op, err, tt.code)
			continue
		}
		if !(retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}).IsErrorThrottle(err).Bool() {
			t.Errorf("%s: the SDK does not see %s as throttling", tt.op, tt.code)
		}
		if n := p.Counts()[tt.op]; n != 2 {
			t.Errorf("%s: %d requests, want 2 (one retry)", tt.op, n)
		}
	}

	// DynamoDB's answers carry the CRC32 of their body, which the SDK
	// checks.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL()+"/", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got, want := resp.Header.Get("X-Amz-Crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10); got != want {
		t.Errorf("throttled DynamoDB answer: X-Amz-Crc32 %q, want %s (the CRC32 of %s)", got, want, body)
	}
}

// A rate limit throttles the excess; the retries get through once tokens
// come back.
func TestThrottleRate(t *testing.T) {
	t.Parallel()
	p := start(t)
	p.SetThrottles(Throttle{Operation: "dynamodb:*", Region: "eu-west-2", Rate: 5, Burst: 1})
	ctx := testContext(t)
	db := dynamodb.NewFromConfig(via(p, "eu-west-2", 15))
	t0 := time.Now()
	for range 5 {
		if _, err := db.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(t0); d < 700*time.Millisecond {
		t.Errorf("5 calls at 5/s (burst 1) took %s, want at least 0.8s less slack", d)
	}
	if p.Throttled()["dynamodb:ListTables"] == 0 {
		t.Error("nothing was throttled")
	}
	// Other regions are not limited.
	other := dynamodb.NewFromConfig(via(p, "eu-west-1", 1))
	for range 5 {
		if _, err := other.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
			t.Fatalf("eu-west-1: %v", err)
		}
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	t.Parallel()
	p := start(t)
	ctx := testContext(t)
	p.SetServerErrors(ServerError{Operation: "GetCallerIdentity", Every: 2, Status: 503})
	client := sts.NewFromConfig(via(p, "us-east-1", 3))
	for range 2 {
		if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
	}
	if n, f := p.Counts()["sts:GetCallerIdentity"], p.ServerErrors()["sts:GetCallerIdentity"]; n != 3 || f != 1 {
		t.Errorf("requests %d, 5xx %d; want 3 and 1", n, f)
	}

	// Every request failing: the retryer gives up after its attempts, with
	// the status and the protocol's error code.
	p.SetServerErrors(ServerError{Fraction: 1})
	db := dynamodb.NewFromConfig(via(p, "us-east-1", 3))
	_, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	var re *smithyhttp.ResponseError
	var ae smithy.APIError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 500 || !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" {
		t.Fatalf("err = %v, want HTTP 500 InternalFailure", err)
	}
	if n := p.Counts()["dynamodb:ListTables"]; n != 3 {
		t.Errorf("ListTables sent %d times, want 3", n)
	}

	// A fraction fails some requests, reproducibly with a seed.
	p.SetServerErrors(ServerError{Operation: "sts:*", Fraction: 0.5})
	p.ResetCounts()
	client = sts.NewFromConfig(via(p, "us-east-1", 10))
	for range 10 {
		if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity at 50%% 5xx: %v", err)
		}
	}
	if f := p.ServerErrors()["sts:GetCallerIdentity"]; f == 0 || f >= p.Counts()["sts:GetCallerIdentity"] {
		t.Errorf("5xx %d of %d requests, want some but not all", f, p.Counts()["sts:GetCallerIdentity"])
	}
	p.SetServerErrors()
}

// A Fraction throttles some requests at random, and the same seed
// throttles the same ones: the nth request of an operation in a region
// meets the same dice however the regions' requests interleave.
func TestThrottleFraction(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	regions := []string{"us-east-1", "eu-west-1"}
	// throttled makes 8 calls per region, regions alternating or one after
	// the other, and returns each region's attempts per call.
	throttled := func(alternate bool) map[string][]int {
		p := start(t)
		p.SetThrottles(Throttle{Operation: "sts:*", Fraction: 0.3})
		tries := map[string][]int{}
		call := func(region string) {
			out, err := sts.NewFromConfig(via(p, region, 10)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity at 30%% throttling: %v", err)
			}
			tries[region] = append(tries[region], attempts(out.ResultMetadata))
		}
		if alternate {
			for range 8 {
				for _, r := range regions {
					call(r)
				}
			}
		} else {
			for _, r := range regions {
				for range 8 {
					call(r)
				}
			}
		}
		n, th := p.Counts()["sts:GetCallerIdentity"], p.Throttled()["sts:GetCallerIdentity"]
		if th == 0 || n != 16+th {
			t.Errorf("%d requests, %d throttled: want some throttled, each retried once per throttle", n, th)
		}
		return tries
	}
	a, b := throttled(true), throttled(false)
	for _, r := range regions {
		if !slices.Equal(a[r], b[r]) {
			t.Errorf("%s: attempts per call with seed 1: %v interleaved, %v in sequence; want the same", r, a[r], b[r])
		}
	}
}

// isConnectionError says whether err is the SDK's error for a request that
// got no answer (not an API error).
func isConnectionError(err error) bool {
	var se *smithyhttp.RequestSendError
	var ae smithy.APIError
	return errors.As(err, &se) && !errors.As(err, &ae)
}

// A connection dropped before forwarding: the SDK sees a connection error
// and retries; the emulator saw nothing of the dropped attempt.
func TestDropBeforeForward(t *testing.T) {
	t.Parallel()
	p := start(t)
	ctx := testContext(t)
	direct := ssm.NewFromConfig(emu.Config(t, "sa-east-1"))
	p.SetDrops(Drop{Operation: "ssm:PutParameter", Every: 1})
	put := func(c *ssm.Client, name string) (*ssm.PutParameterOutput, error) {
		return c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"), Type: "String"})
	}
	_, err := put(ssm.NewFromConfig(via(p, "sa-east-1", 2)), "/proxy-test/drop-before")
	if !isConnectionError(err) {
		t.Fatalf("PutParameter with every request dropped: err = %v, want a connection error", err)
	}
	if _, gerr := direct.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/proxy-test/drop-before")}); gerr == nil {
		t.Error("the parameter exists, but every request was dropped before reaching the emulator")
	}
	if n, d := p.Counts()["ssm:PutParameter"], p.Dropped(BeforeForward)["ssm:PutParameter"]; n != 2 || d != 2 {
		t.Errorf("requests %d, dropped %d; want 2 and 2", n, d)
	}

	// Every second request dropped: the retry gets through.
	p.SetDrops(Drop{Operation: "ssm:PutParameter", Every: 2})
	p.ResetCounts()
	client := ssm.NewFromConfig(via(p, "sa-east-1", 3))
	var tries []int
	for _, name := range []string{"/proxy-test/drop-1", "/proxy-test/drop-2"} {
		out, err := put(client, name)
		if err != nil {
			t.Fatalf("PutParameter %s: %v", name, err)
		}
		tries = append(tries, attempts(out.ResultMetadata))
	}
	if !slices.Equal(tries, []int{1, 2}) {
		t.Errorf("attempts per call %v, want [1 2]", tries)
	}
	if d, a := p.Dropped(BeforeForward)["ssm:PutParameter"], p.Dropped(AfterForward); d != 1 || len(a) != 0 {
		t.Errorf("dropped before %d, after %v; want 1 and none", d, a)
	}
}

// A connection dropped after forwarding: the emulator did the work, the
// client never heard, and its retry meets its own first attempt.
func TestDropAfterForward(t *testing.T) {
	t.Parallel()
	p := start(t)
	ctx := testContext(t)
	p.SetDrops(Drop{Operation: "ssm:PutParameter", Every: 2, When: AfterForward})
	client := ssm.NewFromConfig(via(p, "sa-east-1", 3))
	put := func(name string) error {
		_, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"), Type: "String"})
		return err
	}
	if err := put("/proxy-test/after-1"); err != nil {
		t.Fatal(err)
	}
	// Request 2 creates the parameter and is dropped; the retry (request
	// 3) is refused: it exists.
	err := put("/proxy-test/after-2")
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ParameterAlreadyExists" {
		t.Fatalf("err = %v, want ParameterAlreadyExists from the retry of a write that happened", err)
	}
	direct := ssm.NewFromConfig(emu.Config(t, "sa-east-1"))
	if _, err := direct.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/proxy-test/after-2")}); err != nil {
		t.Errorf("the dropped write did not reach the emulator: %v", err)
	}
	if n, d, b := p.Counts()["ssm:PutParameter"], p.Dropped(AfterForward)["ssm:PutParameter"], p.Dropped(BeforeForward); n != 3 || d != 1 || len(b) != 0 {
		t.Errorf("requests %d, dropped after forward %d, before %v; want 3, 1, none", n, d, b)
	}
	p.ResetCounts()
	if len(p.Dropped(AfterForward)) != 0 {
		t.Errorf("after ResetCounts: %v", p.Dropped(AfterForward))
	}
}

func TestCountsPerRegionAndMutating(t *testing.T) {
	t.Parallel()
	p := start(t)
	ctx := testContext(t)
	for _, region := range []string{"ap-northeast-1", "ap-northeast-2"} {
		db := dynamodb.NewFromConfig(via(p, region, 1))
		if _, err := db.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := sts.NewFromConfig(via(p, region, 1)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ssm.NewFromConfig(via(p, "ap-northeast-2", 1)).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/proxy-test/counts"), Value: aws.String("v"), Type: "String", Overwrite: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int{
		"ap-northeast-1": {"dynamodb:ListTables": 1, "sts:GetCallerIdentity": 1},
		"ap-northeast-2": {"dynamodb:ListTables": 1, "sts:GetCallerIdentity": 1, "ssm:PutParameter": 1},
	}
	got := p.CountsByRegion()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CountsByRegion = %v, want %v", got, want)
	}
	all := p.Counts()
	if all["dynamodb:ListTables"] != 2 || all["sts:GetCallerIdentity"] != 2 || all["ssm:PutParameter"] != 1 || len(all) != 3 {
		t.Errorf("Counts = %v", all)
	}
	if m := Mutating(all); len(m) != 1 || m["ssm:PutParameter"] != 1 {
		t.Errorf("Mutating = %v, want only ssm:PutParameter", m)
	}
	p.ResetCounts()
	if len(p.Counts()) != 0 {
		t.Errorf("after ResetCounts: %v", p.Counts())
	}
}

// --- CloudFormation ---

const template = `{
  "Parameters": {"Value": {"Type": "String"}, "Name": {"Type": "String"}},
  "Resources": {"Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": {"Ref": "Name"}, "Type": "String", "Value": {"Ref": "Value"}}}}
}`

type stackClient struct {
	t      *testing.T
	ctx    context.Context
	cfn    *cloudformation.Client // through the proxy
	direct *cloudformation.Client // straight to the emulator
	ssm    *ssm.Client            // straight to the emulator
	name   string
}

func newStack(t *testing.T, p *Proxy, region, name string) *stackClient {
	return &stackClient{
		t: t, ctx: testContext(t), name: name,
		cfn:    cloudformation.NewFromConfig(via(p, region, 3)),
		direct: cloudformation.NewFromConfig(emu.Config(t, region)),
		ssm:    ssm.NewFromConfig(emu.Config(t, region)),
	}
}

// changeSet creates a change set setting the SSM parameter to value and
// waits until it can be executed; it returns its ARN.
func (s *stackClient) changeSet(value string, typ cfntypes.ChangeSetType) string {
	s.t.Helper()
	out, err := s.cfn.CreateChangeSet(s.ctx, &cloudformation.CreateChangeSetInput{
		StackName:     aws.String(s.name),
		ChangeSetName: aws.String(fmt.Sprintf("cs-%d", time.Now().UnixNano())),
		ChangeSetType: typ,
		TemplateBody:  aws.String(template),
		Parameters: []cfntypes.Parameter{
			{ParameterKey: aws.String("Value"), ParameterValue: aws.String(value)},
			{ParameterKey: aws.String("Name"), ParameterValue: aws.String("/proxy-test/" + s.name)},
		},
	})
	if err != nil {
		s.t.Fatalf("CreateChangeSet: %v", err)
	}
	for {
		d, err := s.cfn.DescribeChangeSet(s.ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: out.Id})
		if err != nil {
			s.t.Fatalf("DescribeChangeSet: %v", err)
		}
		if d.Status == cfntypes.ChangeSetStatusCreateComplete {
			return aws.ToString(out.Id)
		}
		if d.Status == cfntypes.ChangeSetStatusFailed {
			s.t.Fatalf("change set failed: %s", aws.ToString(d.StatusReason))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *stackClient) execute(id string) {
	s.t.Helper()
	if _, err := s.cfn.ExecuteChangeSet(s.ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: aws.String(id)}); err != nil {
		s.t.Fatalf("ExecuteChangeSet: %v", err)
	}
}

// deploy creates (or updates) the stack and waits for it through the proxy.
func (s *stackClient) deploy(value string, typ cfntypes.ChangeSetType) {
	s.t.Helper()
	s.execute(s.changeSet(value, typ))
	s.waitSettled()
}

func (s *stackClient) describe(c *cloudformation.Client) cfntypes.Stack {
	s.t.Helper()
	out, err := c.DescribeStacks(s.ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(s.name)})
	if err != nil {
		s.t.Fatalf("DescribeStacks %s: %v", s.name, err)
	}
	return out.Stacks[0]
}

func (s *stackClient) status() string { return string(s.describe(s.cfn).StackStatus) }

func (s *stackClient) waitSettled() string {
	s.t.Helper()
	for {
		st := s.status()
		if !strings.HasSuffix(st, "_IN_PROGRESS") {
			return st
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *stackClient) events() []cfntypes.StackEvent {
	s.t.Helper()
	out, err := s.cfn.DescribeStackEvents(s.ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(s.name)})
	if err != nil {
		s.t.Fatalf("DescribeStackEvents: %v", err)
	}
	return out.StackEvents
}

func (s *stackClient) value() string {
	s.t.Helper()
	out, err := s.ssm.GetParameter(s.ctx, &ssm.GetParameterInput{Name: aws.String("/proxy-test/" + s.name)})
	if err != nil {
		return ""
	}
	return aws.ToString(out.Parameter.Value)
}

func paramValue(st cfntypes.Stack, key string) string {
	for _, p := range st.Parameters {
		if aws.ToString(p.ParameterKey) == key {
			return aws.ToString(p.ParameterValue)
		}
	}
	return ""
}

func hasEvent(evs []cfntypes.StackEvent, logical, status string) *cfntypes.StackEvent {
	for i, e := range evs {
		if aws.ToString(e.LogicalResourceId) == logical && string(e.ResourceStatus) == status {
			return &evs[i]
		}
	}
	return nil
}

// A just-executed stack reads IN_PROGRESS (while the emulator says
// COMPLETE) until the duration has passed; its events appear over that
// time, in order; and the stack refuses a new change set meanwhile.
func TestStackDuration(t *testing.T) {
	t.Parallel()
	p := start(t)
	const d = 1500 * time.Millisecond
	p.SetStackDurations(StackDuration{Region: "us-east-2", Stack: "dur-*", Duration: d})
	s := newStack(t, p, "us-east-2", "dur-stack")

	cs := s.changeSet("a", cfntypes.ChangeSetTypeCreate)
	t0 := time.Now()
	s.execute(cs)
	if st := s.status(); st != "CREATE_IN_PROGRESS" {
		t.Errorf("just after execute: %s, want CREATE_IN_PROGRESS", st)
	}
	if st := s.describe(s.direct).StackStatus; st != cfntypes.StackStatusCreateComplete {
		t.Errorf("the emulator says %s; the proxy should only rewrite what is reported", st)
	}
	early := s.events()
	if hasEvent(early, "dur-stack", "CREATE_COMPLETE") != nil {
		t.Error("the stack's CREATE_COMPLETE event shows before the duration passed")
	}
	_, err := s.cfn.CreateChangeSet(s.ctx, &cloudformation.CreateChangeSetInput{
		StackName: aws.String(s.name), ChangeSetName: aws.String("too-early"), ChangeSetType: cfntypes.ChangeSetTypeUpdate, TemplateBody: aws.String(template),
	})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(ae.ErrorMessage(), "CREATE_IN_PROGRESS state") {
		t.Errorf("CreateChangeSet during the operation: %v, want a ValidationError", err)
	}

	if st := s.waitSettled(); st != "CREATE_COMPLETE" {
		t.Fatalf("settled as %s", st)
	}
	if took := time.Since(t0); took < d-100*time.Millisecond || took > d+time.Second {
		t.Errorf("the create took %s, want about %s", took, d)
	}
	evs := s.events()
	if len(evs) <= len(early) {
		t.Errorf("events: %d at first, %d at the end; want them revealed over time", len(early), len(evs))
	}
	if last := evs[0]; aws.ToString(last.LogicalResourceId) != "dur-stack" || last.ResourceStatus != "CREATE_COMPLETE" ||
		aws.ToTime(last.Timestamp).Sub(t0) < d-200*time.Millisecond {
		t.Errorf("newest event %s %s at +%s, want the stack's CREATE_COMPLETE at about +%s",
			aws.ToString(last.LogicalResourceId), last.ResourceStatus, aws.ToTime(last.Timestamp).Sub(t0), d)
	}
	for i := 1; i < len(evs); i++ {
		if aws.ToTime(evs[i].Timestamp).After(aws.ToTime(evs[i-1].Timestamp)) {
			t.Errorf("events not newest first at %d", i)
		}
	}

	// An update takes the same time, and other stacks none. The create's
	// events keep the times they were shown with once the next change set
	// ends the create's window, as CloudFormation's history does.
	next := s.changeSet("b", cfntypes.ChangeSetTypeUpdate)
	var created, completed time.Time
	for _, e := range s.events() {
		if aws.ToString(e.LogicalResourceId) != "dur-stack" {
			continue
		}
		switch e.ResourceStatus {
		case "CREATE_IN_PROGRESS":
			created = aws.ToTime(e.Timestamp) // the oldest one: the list is newest first
		case "CREATE_COMPLETE":
			completed = aws.ToTime(e.Timestamp)
		}
	}
	if took := completed.Sub(created); took < d-200*time.Millisecond || took > d+200*time.Millisecond {
		t.Errorf("after the next change set, the create's events span %s, want about %s", took, d)
	}
	s.execute(next)
	if st := s.status(); st != "UPDATE_IN_PROGRESS" {
		t.Errorf("after the update's execute: %s", st)
	}
	if st := s.waitSettled(); st != "UPDATE_COMPLETE" || s.value() != "b" {
		t.Errorf("update settled %s with value %q", st, s.value())
	}
	other := newStack(t, p, "us-east-2", "quick-stack")
	other.execute(other.changeSet("a", cfntypes.ChangeSetTypeCreate))
	if st := other.status(); st != "CREATE_COMPLETE" {
		t.Errorf("a stack no rule names: %s", st)
	}
}

// CancelUpdateStack during an update in progress rolls it back; on a
// settled stack it is refused as CloudFormation refuses it.
func TestCancelUpdate(t *testing.T) {
	t.Parallel()
	p := start(t)
	s := newStack(t, p, "eu-central-1", "cancel-stack")
	s.deploy("a", cfntypes.ChangeSetTypeCreate)
	_, err := s.cfn.CancelUpdateStack(s.ctx, &cloudformation.CancelUpdateStackInput{StackName: aws.String(s.name)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Errorf("cancel of a settled stack: %v, want ValidationError", err)
	}

	p.SetStackDuration(2 * time.Second)
	s.execute(s.changeSet("b", cfntypes.ChangeSetTypeUpdate))
	time.Sleep(300 * time.Millisecond)
	if _, err := s.cfn.CancelUpdateStack(s.ctx, &cloudformation.CancelUpdateStackInput{StackName: aws.String(s.name)}); err != nil {
		t.Fatalf("CancelUpdateStack: %v", err)
	}
	st := s.describe(s.cfn)
	if st.StackStatus != "UPDATE_ROLLBACK_IN_PROGRESS" || !strings.Contains(aws.ToString(st.StackStatusReason), "cancelled") {
		t.Errorf("after cancel: %s (%s)", st.StackStatus, aws.ToString(st.StackStatusReason))
	}
	if got := s.waitSettled(); got != "UPDATE_ROLLBACK_COMPLETE" {
		t.Errorf("settled as %s", got)
	}
	evs := s.events()
	if hasEvent(evs, s.name, "UPDATE_ROLLBACK_COMPLETE") == nil || hasEvent(evs, s.name, "UPDATE_COMPLETE") != nil {
		t.Errorf("events should end in UPDATE_ROLLBACK_COMPLETE, without the update's UPDATE_COMPLETE")
	}
}

// DeleteStack with a duration reads DELETE_IN_PROGRESS, by name, although
// the emulator has dropped the stack; then the stack is gone.
func TestDeleteDuration(t *testing.T) {
	t.Parallel()
	p := start(t)
	s := newStack(t, p, "eu-north-1", "del-stack")
	s.deploy("a", cfntypes.ChangeSetTypeCreate)
	p.SetStackDuration(time.Second)
	if _, err := s.cfn.DeleteStack(s.ctx, &cloudformation.DeleteStackInput{StackName: aws.String(s.name)}); err != nil {
		t.Fatal(err)
	}
	if st := s.status(); st != "DELETE_IN_PROGRESS" {
		t.Errorf("after DeleteStack: %s", st)
	}
	time.Sleep(1100 * time.Millisecond)
	_, err := s.cfn.DescribeStacks(s.ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(s.name)})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("after the delete: %v, want does not exist", err)
	}
}

// An injected failure of an update leaves the emulator's stack as it was,
// reports the rollback and the failed resource, and clears at the next
// change set so that a rerun deploys.
func TestInjectedFailureOfAnUpdate(t *testing.T) {
	t.Parallel()
	p := start(t)
	const region = "ap-southeast-1"
	s := newStack(t, p, region, "fail-update")
	s.deploy("a", cfntypes.ChangeSetTypeCreate)
	before := s.describe(s.direct)

	p.SetFailures(Failure{Region: region, Stack: "fail-*"})
	p.ResetCounts()
	s.execute(s.changeSet("b", cfntypes.ChangeSetTypeUpdate))
	st := s.describe(s.cfn)
	if st.StackStatus != cfntypes.StackStatusUpdateRollbackComplete || !strings.Contains(aws.ToString(st.StackStatusReason), "[Param]") {
		t.Errorf("reported %s (%q), want UPDATE_ROLLBACK_COMPLETE naming Param", st.StackStatus, aws.ToString(st.StackStatusReason))
	}
	failed := hasEvent(s.events(), "Param", "UPDATE_FAILED")
	if failed == nil || aws.ToString(failed.ResourceStatusReason) != DefaultFailureReason || aws.ToString(failed.ResourceType) != "AWS::SSM::Parameter" {
		t.Errorf("UPDATE_FAILED event for Param: %+v", failed)
	}
	if hasEvent(s.events(), s.name, "UPDATE_ROLLBACK_COMPLETE") == nil {
		t.Error("no UPDATE_ROLLBACK_COMPLETE stack event")
	}
	after := s.describe(s.direct)
	if after.StackStatus != before.StackStatus || paramValue(after, "Value") != "a" || s.value() != "a" {
		t.Errorf("the emulator's stack changed: %s -> %s, value %q", before.StackStatus, after.StackStatus, s.value())
	}
	if n := p.InjectedFailures()[region+"/fail-update"]; n != 1 {
		t.Errorf("InjectedFailures = %v", p.InjectedFailures())
	}
	if n := p.Counts()["cloudformation:ExecuteChangeSet"]; n != 1 {
		t.Errorf("ExecuteChangeSet counted %d times", n)
	}

	// Rule removed: the next change set clears the override and deploys.
	p.SetFailures()
	cs := s.changeSet("b", cfntypes.ChangeSetTypeUpdate)
	if got := s.status(); got != string(before.StackStatus) {
		t.Errorf("after a new change set the stack reads %s, want the emulator's %s", got, before.StackStatus)
	}
	s.execute(cs)
	if got := s.waitSettled(); got != "UPDATE_COMPLETE" || s.value() != "b" {
		t.Errorf("rerun: %s, value %q", got, s.value())
	}
}

// A stack that fails its first create reads ROLLBACK_COMPLETE with a
// CREATE_FAILED event, stays REVIEW_IN_PROGRESS in the emulator, and can be
// deleted and created again.
func TestInjectedFailureOfACreate(t *testing.T) {
	t.Parallel()
	p := start(t)
	const region = "ap-southeast-2"
	p.SetFailures(Failure{Stack: "new-*", Resource: "Param", Reason: "Parameter limit exceeded"})
	s := newStack(t, p, region, "new-fails")
	s.execute(s.changeSet("a", cfntypes.ChangeSetTypeCreate))
	st := s.describe(s.cfn)
	if st.StackStatus != cfntypes.StackStatusRollbackComplete || !strings.Contains(aws.ToString(st.StackStatusReason), "failed to create: [Param]") {
		t.Errorf("reported %s (%q)", st.StackStatus, aws.ToString(st.StackStatusReason))
	}
	if e := hasEvent(s.events(), "Param", "CREATE_FAILED"); e == nil || aws.ToString(e.ResourceStatusReason) != "Parameter limit exceeded" {
		t.Errorf("CREATE_FAILED event: %+v", e)
	}
	if got := s.describe(s.direct).StackStatus; got != cfntypes.StackStatusReviewInProgress {
		t.Errorf("the emulator's stack is %s, want REVIEW_IN_PROGRESS", got)
	}
	if s.value() != "" {
		t.Error("the parameter was created")
	}

	if _, err := s.cfn.DeleteStack(s.ctx, &cloudformation.DeleteStackInput{StackName: aws.String(s.name)}); err != nil {
		t.Fatal(err)
	}
	p.SetFailures()
	s.deploy("a", cfntypes.ChangeSetTypeCreate)
	if got := s.status(); got != "CREATE_COMPLETE" || s.value() != "a" {
		t.Errorf("after delete and retry: %s, value %q", got, s.value())
	}
}

// With a duration the failure plays out over it.
func TestInjectedFailureTakesTheDuration(t *testing.T) {
	t.Parallel()
	p := start(t)
	const region = "ap-east-1"
	s := newStack(t, p, region, "slow-fail")
	s.deploy("a", cfntypes.ChangeSetTypeCreate)
	p.SetStackDuration(time.Second)
	p.SetFailures(Failure{Stack: "slow-fail"})
	s.execute(s.changeSet("b", cfntypes.ChangeSetTypeUpdate))
	if st := s.status(); st != "UPDATE_IN_PROGRESS" {
		t.Errorf("at first: %s", st)
	}
	if hasEvent(s.events(), "Param", "UPDATE_FAILED") != nil {
		t.Error("the failure shows before halfway")
	}
	if st := s.waitSettled(); st != "UPDATE_ROLLBACK_COMPLETE" {
		t.Errorf("settled %s", st)
	}
	if hasEvent(s.events(), "Param", "UPDATE_FAILED") == nil {
		t.Error("no UPDATE_FAILED event at the end")
	}
}

// gantry's own CloudFormation driver through the proxy: it waits out the
// duration, collects the injected failure's reason, cancels an update when
// its context ends, and after a failed first create deletes the stack and
// creates it again once the rule is gone.
func TestGantryDriverThroughProxy(t *testing.T) {
	t.Parallel()
	p := start(t)
	const region = "ca-west-1"
	ctx := testContext(t)
	drv := cfn.New(cloudformation.NewFromConfig(via(p, region, 3)))
	in := func(name, value string) cfn.ChangeSetInput {
		return cfn.ChangeSetInput{StackName: name, Template: []byte(template),
			Parameters: map[string]string{"Value": value, "Name": "/proxy-test/" + name}}
	}
	run := func(ctx context.Context, in cfn.ChangeSetInput) (*cfn.Result, []cfn.Event, error) {
		t.Helper()
		cs, err := drv.CreateChangeSet(ctx, in)
		if err != nil {
			t.Fatalf("CreateChangeSet %s: %v", in.StackName, err)
		}
		var evs []cfn.Event
		res, err := drv.Execute(ctx, cs, func(e cfn.Event) { evs = append(evs, e) })
		return res, evs, err
	}

	p.SetStackDuration(time.Second)
	t0 := time.Now()
	res, evs, err := run(ctx, in("drv", "a"))
	if err != nil || res.Failed || res.Status != "CREATE_COMPLETE" {
		t.Fatalf("create: %+v, %v", res, err)
	}
	if took := time.Since(t0); took < 900*time.Millisecond {
		t.Errorf("create took %s, want the proxy's 1s", took)
	}
	if len(evs) < 4 || evs[len(evs)-1].Status != "CREATE_COMPLETE" || evs[len(evs)-1].LogicalID != "drv" {
		t.Errorf("streamed events %+v", evs)
	}

	p.SetFailures(Failure{Stack: "drv"})
	res, _, err = run(ctx, in("drv", "b"))
	if err != nil || !res.Failed || res.Status != "UPDATE_ROLLBACK_COMPLETE" || len(res.Reasons) != 1 ||
		res.Reasons[0].LogicalID != "Param" || res.Reasons[0].Reason != DefaultFailureReason {
		t.Fatalf("injected failure: %+v, %v", res, err)
	}
	p.SetFailures()
	res, _, err = run(ctx, in("drv", "b"))
	if err != nil || res.Status != "UPDATE_COMPLETE" {
		t.Fatalf("rerun: %+v, %v", res, err)
	}

	p.SetStackDuration(3 * time.Second)
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	res, _, err = run(short, in("drv", "c"))
	if !errors.Is(err, context.DeadlineExceeded) || res == nil || res.Status != "UPDATE_ROLLBACK_COMPLETE" {
		t.Fatalf("interrupted update: %+v, %v; want the deadline and UPDATE_ROLLBACK_COMPLETE", res, err)
	}
	if n := p.Counts()["cloudformation:CancelUpdateStack"]; n != 1 {
		t.Errorf("CancelUpdateStack sent %d times", n)
	}

	p.SetStackDuration(0)
	p.SetFailures(Failure{Stack: "drv-new"})
	res, _, err = run(ctx, in("drv-new", "a"))
	if err != nil || !res.Failed || res.Status != "ROLLBACK_COMPLETE" {
		t.Fatalf("failed create: %+v, %v", res, err)
	}
	p.SetFailures()
	res, _, err = run(ctx, in("drv-new", "a"))
	if err != nil || res.Status != "CREATE_COMPLETE" {
		t.Fatalf("create after the failed one: %+v, %v", res, err)
	}
}

// gantry's driver survives answers lost after the work was done: a
// CreateChangeSet whose retry meets its own change set (AlreadyExists)
// uses it, and an ExecuteChangeSet whose retry finds the change set
// executed (InvalidChangeSetStatus) follows that execution -- for a new
// stack and for an update.
func TestGantryDriverAfterLostAnswers(t *testing.T) {
	t.Parallel()
	p := start(t)
	const region = "ca-west-1"
	ctx := testContext(t)
	drv := cfn.New(cloudformation.NewFromConfig(via(p, region, 3)))
	p.SetStackDuration(time.Second)
	p.SetDrops(
		Drop{Operation: "cloudformation:CreateChangeSet", Every: 2, When: AfterForward},
		Drop{Operation: "cloudformation:ExecuteChangeSet", Every: 2, When: AfterForward},
	)
	s := newStack(t, p, region, "lost")
	for i, value := range []string{"a", "b", "c"} {
		cs, err := drv.CreateChangeSet(ctx, cfn.ChangeSetInput{StackName: "lost", Template: []byte(template),
			Parameters: map[string]string{"Value": value, "Name": "/proxy-test/lost"}})
		if err != nil {
			t.Fatalf("CreateChangeSet %d: %v", i, err)
		}
		res, err := drv.Execute(ctx, cs, nil)
		want := "UPDATE_COMPLETE"
		if i == 0 {
			want = "CREATE_COMPLETE"
		}
		if err != nil || res.Failed || res.Status != want {
			t.Fatalf("Execute %d: %+v, %v; want %s", i, res, err, want)
		}
		if got := s.value(); got != value {
			t.Errorf("after deploy %d the parameter holds %q, want %q", i, got, value)
		}
	}
	late := p.Dropped(AfterForward)
	if late["cloudformation:CreateChangeSet"] == 0 || late["cloudformation:ExecuteChangeSet"] == 0 {
		t.Errorf("dropped after forwarding: %v; want CreateChangeSet and ExecuteChangeSet", late)
	}
}
