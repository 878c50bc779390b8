package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gantryhq/gantry/pkg/cfn"
)

// isThrottle reports whether err is CloudFormation's "Throttling: Rate
// exceeded", as the SDK's retryer sees it.
func isThrottle(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "Throttling" && ae.ErrorMessage() == "Rate exceeded" &&
		(retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}).IsErrorThrottle(err).Bool()
}

// A quota's bucket is the account's and region's: two clients with their
// own credentials in one account share it; another region, and another
// account (its keys learnt from AssumeRole), each have their own.
func TestQuotaIsSharedByEveryClientOfAnAccountAndRegion(t *testing.T) {
	t.Parallel()
	p := start(t)
	p.SetQuotas(Quota{Operation: "cloudformation:DescribeStacks", Rate: 0.5, Burst: 2})
	ctx := testContext(t)
	describe := func(c *cloudformation.Client) error {
		_, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
		return err
	}
	a := cloudformation.NewFromConfig(via(p, "us-east-1", 1))
	other := via(p, "us-east-1", 1)
	other.Credentials = credentials.NewStaticCredentialsProvider("another-key", "x", "")
	b := cloudformation.NewFromConfig(other)
	var ok, throttled int
	for _, c := range []*cloudformation.Client{a, b, a, b, a, b} {
		switch err := describe(c); {
		case err == nil:
			ok++
		case isThrottle(err):
			throttled++
		default:
			t.Fatalf("DescribeStacks: %v", err)
		}
	}
	if ok != 2 || throttled != 4 {
		t.Errorf("two clients of one account, 6 calls against a burst of 2: %d passed, %d throttled; want 2 and 4", ok, throttled)
	}
	if n := p.QuotaThrottled()[DefaultAccount+"/us-east-1/cloudformation:DescribeStacks"]; n != 4 {
		t.Errorf("QuotaThrottled = %v, want 4 for the default account in us-east-1", p.QuotaThrottled())
	}
	if err := describe(cloudformation.NewFromConfig(via(p, "eu-west-1", 1))); err != nil {
		t.Errorf("another region has its own bucket: %v", err)
	}
	// Another account: credentials from AssumeRole through the proxy.
	role, err := sts.NewFromConfig(via(p, "us-east-1", 1)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::210987654321:role/gantry-deploy"), RoleSessionName: aws.String("quota-test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	cross := via(p, "us-east-1", 1)
	cross.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(role.Credentials.AccessKeyId),
		aws.ToString(role.Credentials.SecretAccessKey), aws.ToString(role.Credentials.SessionToken))
	if err := describe(cloudformation.NewFromConfig(cross)); err != nil {
		t.Errorf("another account has its own bucket: %v", err)
	}
	if n := p.QuotaThrottled()["210987654321/us-east-1/cloudformation:DescribeStacks"]; n != 0 {
		t.Errorf("the assumed role's calls were counted as throttled in its account: %d", n)
	}
	// Operations the quota does not name are not limited.
	for range 4 {
		if _, err := a.ListStacks(ctx, &cloudformation.ListStacksInput{}); err != nil {
			t.Errorf("ListStacks: %v", err)
		}
	}
}

// A throttled request takes no token: a client that keeps asking while
// throttled gets through as soon as the bucket refills. The answer is
// CloudFormation's: HTTP 400, Sender, Throttling, "Rate exceeded", in
// CloudFormation's XML namespace.
func TestQuotaRefillsAndThrottlesInCloudFormationsShape(t *testing.T) {
	t.Parallel()
	p := start(t)
	p.SetQuotas(Quota{Operation: "cloudformation:Describe*", Rate: 4, Burst: 1})
	ctx := testContext(t)
	c := cloudformation.NewFromConfig(via(p, "ap-south-1", 1))
	if _, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{}); !isThrottle(err) {
			t.Fatalf("with the bucket empty: %v, want Throttling: Rate exceeded", err)
		}
	}
	// Each operation the glob matches has a bucket of its own.
	if _, err := c.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String("none")}); isThrottle(err) {
		t.Error("DescribeStackEvents was throttled by DescribeStacks' bucket")
	}
	time.Sleep(300 * time.Millisecond) // 1.2 tokens at 4/s
	if _, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{}); err != nil {
		t.Errorf("after the bucket refilled: %v (did throttled requests take tokens?)", err)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL()+"/", strings.NewReader("Action=DescribeStacks&Version=2010-05-15"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/ap-south-1/cloudformation/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>`
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(body), want) {
		t.Errorf("throttled answer: HTTP %d %s\nwant HTTP 400 %s...", resp.StatusCode, body, want)
	}
}

// Each timed operation is recorded with when it ended and when a
// DescribeStacks answer first said so.
func TestOperationsRecordWhenTheEndWasNoticed(t *testing.T) {
	t.Parallel()
	p := start(t)
	const d = 600 * time.Millisecond
	p.SetStackDuration(d)
	s := newStack(t, p, "sa-east-1", "noticed-stack")
	s.execute(s.changeSet("a", cfntypes.ChangeSetTypeCreate))
	if s.status() != "CREATE_IN_PROGRESS" {
		t.Fatal("not in progress just after the execute")
	}
	ops := p.Operations()
	if len(ops) != 1 || ops[0].Stack != "noticed-stack" || ops[0].Region != "sa-east-1" || ops[0].Account != DefaultAccount {
		t.Fatalf("Operations = %+v, want the one create", ops)
	}
	if got := ops[0].Ended.Sub(ops[0].Started); got != d {
		t.Errorf("the operation runs %s, want %s", got, d)
	}
	if !ops[0].Noticed.IsZero() {
		t.Errorf("noticed at %s while still in progress", ops[0].Noticed)
	}
	time.Sleep(d + 200*time.Millisecond)
	before := time.Now()
	if st := s.status(); st != "CREATE_COMPLETE" {
		t.Fatalf("after the duration: %s", st)
	}
	s.status() // a later answer does not move it
	op := p.Operations()[0]
	if op.Noticed.Before(before) || op.Noticed.After(time.Now()) || op.Noticed.Before(op.Ended) {
		t.Errorf("noticed at %s; want the first answer after the end (%s), asked at %s", op.Noticed, op.Ended, before)
	}
	p.ResetCounts()
	if n := len(p.Operations()); n != 0 {
		t.Errorf("%d operations after ResetCounts", n)
	}
}

// Five stack deploys at once in one account and region, each through its
// own client of one process (one cfn.Limiter), under quotas tight enough
// to throttle them: every one ends deployed, none fails for throttling,
// and each end is still seen.
func TestGantryDriversShareTheQuota(t *testing.T) {
	t.Parallel()
	p := start(t)
	const region = "me-central-1"
	p.SetQuotas(Quota{Operation: "cloudformation:*", Rate: 2, Burst: 2})
	p.SetStackDuration(2 * time.Second)
	ctx := testContext(t)
	limiter := cfn.NewLimiter()
	var wg sync.WaitGroup
	results := make([]*cfn.Result, 5)
	errs := make([]error, 5)
	for i := range results {
		wg.Go(func() {
			name := fmt.Sprintf("quota-%d", i)
			drv := cfn.New(cloudformation.NewFromConfig(via(p, region, 1), limiter.ClientOptions(DefaultAccount, region)))
			cs, err := drv.CreateChangeSet(ctx, cfn.ChangeSetInput{StackName: name, Template: []byte(template),
				Parameters: map[string]string{"Value": "a", "Name": "/proxy-test/" + name}})
			if err != nil {
				errs[i] = err
				return
			}
			results[i], errs[i] = drv.Execute(ctx, cs, nil, cfn.Expecting(2*time.Second))
		})
	}
	wg.Wait()
	throttledPolls := 0
	for i, res := range results {
		if errs[i] != nil || res == nil || res.Status != "CREATE_COMPLETE" {
			t.Errorf("stack %d: %+v, %v; want CREATE_COMPLETE whatever the throttling", i, res, errs[i])
			continue
		}
		throttledPolls += res.Throttled
	}
	quota := 0
	for _, n := range p.QuotaThrottled() {
		quota += n
	}
	if quota == 0 {
		t.Fatal("nothing was throttled: the test proves nothing")
	}
	for _, op := range p.Operations() {
		if op.Noticed.IsZero() {
			t.Errorf("the end of %s was never seen", op.Stack)
		} else if late := op.Noticed.Sub(op.Ended); late > 5*time.Second {
			t.Errorf("the end of %s was seen %v late", op.Stack, late)
		}
	}
	t.Logf("%d requests throttled at the proxy (%v), %d of them the waits' polls", quota, p.QuotaThrottled(), throttledPolls)
}
