package awsx_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gantryhq/gantry/internal/emulatortest"
	"github.com/gantryhq/gantry/pkg/awsx"
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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newProvider builds a Provider on the emulator with static test
// credentials, counting every call (its own STS calls included).
func newProvider(t *testing.T, o awsx.Options) (*awsx.Provider, *awsx.CallCounter) {
	t.Helper()
	calls := awsx.NewCallCounter()
	if o.EndpointURL == "" {
		o.EndpointURL = emu.Endpoint
	}
	o.Credentials = credentials.NewStaticCredentialsProvider("test", "test", "")
	o.APIOptions = append(o.APIOptions, calls.APIOption)
	p, err := awsx.New(testContext(t), o)
	if err != nil {
		t.Fatalf("awsx.New: %v", err)
	}
	return p, calls
}

func whoami(t *testing.T, cfg aws.Config) *sts.GetCallerIdentityOutput {
	t.Helper()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(testContext(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the returned config: %v", err)
	}
	return out
}

func TestSameAccountDoesNotAssume(t *testing.T) {
	t.Parallel()
	p, calls := newProvider(t, awsx.Options{})
	cfg, err := p.Config(testContext(t), emulatortest.Account, "eu-west-1")
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region = %q", cfg.Region)
	}
	if _, err := p.Config(testContext(t), emulatortest.Account, "us-east-1"); err != nil {
		t.Fatalf("Config again: %v", err)
	}
	got := calls.Snapshot()
	if got["STS.GetCallerIdentity"] != 1 || got["STS.AssumeRole"] != 0 {
		t.Fatalf("calls = %v; want one GetCallerIdentity (cached) and no AssumeRole", got)
	}
	if id := whoami(t, cfg); aws.ToString(id.Account) != emulatortest.Account || strings.Contains(aws.ToString(id.Arn), "assumed-role") {
		t.Fatalf("identity = %s %s; want the caller itself", aws.ToString(id.Account), aws.ToString(id.Arn))
	}
}

func TestOtherAccountAssumesRoleOnceConcurrently(t *testing.T) {
	t.Parallel()
	const other = "444455556666"
	p, calls := newProvider(t, awsx.Options{RoleName: "deployer"})

	var wg sync.WaitGroup
	cfgs := make([]aws.Config, 8)
	errs := make([]error, 8)
	for i := range cfgs {
		wg.Go(func() {
			region := []string{"us-east-1", "eu-west-1"}[i%2]
			cfgs[i], errs[i] = p.Config(testContext(t), other, region)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Config %d: %v", i, err)
		}
	}
	id := whoami(t, cfgs[1])
	if got := aws.ToString(id.Account); got != other {
		t.Fatalf("account with the returned config = %q, want %q", got, other)
	}
	if arn := aws.ToString(id.Arn); !strings.Contains(arn, "assumed-role/deployer/"+awsx.RoleSessionName) {
		t.Errorf("arn = %q; want the assumed role deployer", arn)
	}
	got := calls.Snapshot()
	if got["STS.GetCallerIdentity"] != 2 || got["STS.AssumeRole"] != 1 {
		// One identity lookup by the provider, one by whoami; one AssumeRole
		// shared by all eight configs.
		t.Fatalf("calls = %v; want 2 GetCallerIdentity and 1 AssumeRole", got)
	}
	if p.RoleARN(other) != "arn:aws:iam::444455556666:role/deployer" {
		t.Errorf("RoleARN = %q", p.RoleARN(other))
	}
}

func TestBadAccountIsRefused(t *testing.T) {
	t.Parallel()
	p, calls := newProvider(t, awsx.Options{})
	for _, account := range []string{"", "12345", "12345678901a"} {
		if _, err := p.Config(testContext(t), account, "us-east-1"); err == nil || !strings.Contains(err.Error(), "12-digit") {
			t.Errorf("Config(%q) err = %v; want a 12-digit account error", account, err)
		}
	}
	if _, err := p.Config(testContext(t), emulatortest.Account, ""); err == nil {
		t.Error("Config with no region: want an error")
	}
	if n := calls.Total(); n != 0 {
		t.Errorf("%d API calls for invalid input; want none", n)
	}
}

// The SDK retries 5xx and throttling: a proxy in front of the emulator fails
// the first attempts and the call still succeeds.
func TestRetriesThrottlingAnd5xx(t *testing.T) {
	t.Parallel()
	target, err := url.Parse(emu.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	var attempts atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch attempts.Add(1) {
		case 1:
			http.Error(w, "boom", http.StatusInternalServerError)
		case 2:
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`)
		default:
			forward.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(proxy.Close)

	p, calls := newProvider(t, awsx.Options{EndpointURL: proxy.URL})
	id, err := p.CallerIdentity(testContext(t), "us-east-1")
	if err != nil {
		t.Fatalf("CallerIdentity through a failing proxy: %v", err)
	}
	if id.Account != emulatortest.Account {
		t.Errorf("account = %q", id.Account)
	}
	if n := attempts.Load(); n != 3 {
		t.Errorf("proxy saw %d attempts; want 3 (500, throttled, ok)", n)
	}
	if got := calls.Snapshot()["STS.GetCallerIdentity"]; got != 1 {
		t.Errorf("counter = %d; want 1 operation however many attempts", got)
	}
}

// AWS_ENDPOINT_URL and a named profile from the shared config files are
// honoured by the default chain (no Credentials or EndpointURL option).
func TestDefaultChainProfileAndEndpointFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(creds, []byte("[ci]\naws_access_key_id = test\naws_secret_access_key = test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("[profile ci]\nregion = ap-southeast-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_SHARED_CREDENTIALS_FILE": creds,
		"AWS_CONFIG_FILE":             conf,
		"AWS_ENDPOINT_URL":            emu.Endpoint,
		"AWS_ACCESS_KEY_ID":           "",
		"AWS_SECRET_ACCESS_KEY":       "",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
	} {
		t.Setenv(k, v)
	}
	p, err := awsx.New(testContext(t), awsx.Options{Profile: "ci"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := p.Base("").Region; got != "ap-southeast-2" {
		t.Errorf("region from the profile = %q", got)
	}
	cfg, err := p.Config(testContext(t), emulatortest.Account, "us-west-2")
	if err != nil {
		t.Fatalf("Config through AWS_ENDPOINT_URL and profile ci: %v", err)
	}
	if id := whoami(t, cfg); aws.ToString(id.Account) != emulatortest.Account {
		t.Fatalf("account = %q", aws.ToString(id.Account))
	}

	if _, err := awsx.New(testContext(t), awsx.Options{Profile: "missing"}); err == nil || !strings.Contains(err.Error(), `"missing"`) {
		t.Errorf("New with an unknown profile: err = %v; want one naming the profile", err)
	}
}

func TestCallCounterAttachIsPerConfig(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, awsx.Options{})
	a, b := awsx.NewCallCounter(), awsx.NewCallCounter()
	cfgA, cfgB := p.Base("us-east-1"), p.Base("eu-west-1")
	a.Attach(&cfgA)
	b.Attach(&cfgB)
	whoami(t, cfgA)
	whoami(t, cfgA)
	whoami(t, cfgB)
	if got := a.Snapshot(); got["STS.GetCallerIdentity"] != 2 || len(got) != 1 {
		t.Errorf("counter a = %v; want 2 GetCallerIdentity", got)
	}
	if got := b.Snapshot(); got["STS.GetCallerIdentity"] != 1 || len(got) != 1 {
		t.Errorf("counter b = %v; want 1 GetCallerIdentity", got)
	}
	b.Reset()
	if b.Total() != 0 {
		t.Errorf("after Reset total = %d", b.Total())
	}
}
