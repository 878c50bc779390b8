package awsx

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
)

// opErr wraps err as the SDK does for a failed call.
func opErr(service, op string, err error) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
}

func TestClassify(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "http://127.0.0.1:9/?secret=no", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}}
	noHost := &url.Error{Op: "Post", URL: "https://sts.nowhere.invalid/", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: "sts.nowhere.invalid", IsNotFound: true}}}
	tests := []struct {
		name    string
		err     error
		setting Setting
		want    Problem
		msg     string
		next    string
	}{
		{"unknown profile", fmt.Errorf("loading: %w", config.SharedConfigProfileNotExistError{Profile: "x"}), Setting{Profile: "x"},
			UnknownProfile, `AWS profile "x" is not in the AWS config files`, "aws configure --profile x"},
		{"expired SSO", opErr("STS", "GetCallerIdentity", fmt.Errorf("get identity: get credentials: failed to refresh cached credentials, %w", &ssocreds.InvalidTokenError{})),
			Setting{Profile: "dev"}, ExpiredSSO, `the AWS SSO session for profile "dev" has expired`, "aws sso login --profile dev"},
		{"no credentials", opErr("STS", "GetCallerIdentity", errors.New("get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled")),
			Setting{}, NoCredentials, "no AWS credentials found", "export AWS_ACCESS_KEY_ID"},
		{"no credentials off EC2", opErr("STS", "GetCallerIdentity", fmt.Errorf("failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, %w", refused)),
			Setting{Profile: "p"}, NoCredentials, `no AWS credentials found for profile "p"`, "aws sso login --profile p"},
		{"connection refused", opErr("STS", "GetCallerIdentity", fmt.Errorf("exceeded maximum number of attempts, 8, %w", refused)),
			Setting{EndpointURL: "http://127.0.0.1:9"}, Unreachable, "cannot reach the AWS endpoint http://127.0.0.1:9: connection refused", "emulator"},
		{"no such host", opErr("STS", "GetCallerIdentity", noHost), Setting{},
			Unreachable, "cannot reach the AWS endpoint https://sts.nowhere.invalid: no such host", "network"},
		{"expired session token", opErr("DynamoDB", "DescribeTable", &smithy.GenericAPIError{Code: "ExpiredTokenException", Message: "The security token included in the request is expired"}),
			Setting{}, RejectedCredential, "the AWS session token has expired", "fresh credentials"},
		{"role refused", &AssumeRoleError{Account: "111122223333", Role: "arn:aws:iam::111122223333:role/gantry-deploy", Caller: "arn:aws:iam::999999999999:user/me",
			Err: opErr("STS", "AssumeRole", &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized"})},
			Setting{}, RoleNotAssumable, "cannot assume role arn:aws:iam::111122223333:role/gantry-deploy in account 111122223333: AccessDenied", "trust arn:aws:iam::999999999999:user/me"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_PROFILE", "")
			t.Setenv("AWS_ENDPOINT_URL", "")
			se := Classify(tt.err, tt.setting)
			if se == nil {
				t.Fatalf("Classify(%v) = nil, want %s", tt.err, tt.want)
			}
			if se.Problem != tt.want || !strings.Contains(se.Message, tt.msg) || !strings.Contains(se.Next, tt.next) {
				t.Errorf("got %s %q → %q; want %s %q → …%q…", se.Problem, se.Message, se.Next, tt.want, tt.msg, tt.next)
			}
			if !errors.Is(se, tt.err) || se.Detail() != tt.err.Error() {
				t.Errorf("the SDK's error is not kept for the log: %q", se.Detail())
			}
			if strings.Contains(se.Error(), "secret=") || strings.Contains(se.Error(), "operation error") {
				t.Errorf("message %q carries the request or the chain", se.Error())
			}
		})
	}
}

func TestClassifyLeavesOtherErrors(t *testing.T) {
	for _, err := range []error{
		errors.New("disk full"),
		opErr("CloudFormation", "DescribeStacks", &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}),
		&AssumeRoleError{Err: opErr("STS", "AssumeRole", &smithy.GenericAPIError{Code: "Throttling"})},
	} {
		if se := Classify(err, Setting{}); se != nil {
			t.Errorf("Classify(%v) = %+v, want nil", err, se)
		}
	}
}

func TestBrief(t *testing.T) {
	err := fmt.Errorf("stack payments-dev-app: %w", opErr("CloudFormation", "DescribeStacks",
		fmt.Errorf("https response error StatusCode: 403, RequestID: 1234, %w", &smithy.GenericAPIError{Code: "AccessDenied", Message: "not allowed"})))
	if got, want := Brief(err), "stack payments-dev-app: CloudFormation DescribeStacks: AccessDenied: not allowed"; got != want {
		t.Errorf("Brief = %q, want %q", got, want)
	}
	if got := Brief(errors.New("plain")); got != "plain" {
		t.Errorf("Brief(plain) = %q", got)
	}
}

// noCredentials sets up the environment of a new user: no credentials
// anywhere, empty config files, instance metadata off.
func noCredentials(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_REGION": "", "HOME": dir,
	} {
		t.Setenv(k, v)
	}
}

// closedPort is a loopback URL nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// The SDK's own errors, made for real without leaving the machine.
func TestClassifySDKErrors(t *testing.T) {
	ctx := context.Background()
	identity := func(t *testing.T, o Options) error {
		t.Helper()
		o.EndpointURL = closedPort(t)
		p, err := New(ctx, o)
		if err != nil {
			return err
		}
		_, err = p.CallerIdentity(ctx, "us-east-1")
		return err
	}
	t.Run("no credentials", func(t *testing.T) {
		noCredentials(t)
		err := identity(t, Options{})
		if se := Classify(err, Setting{}); se == nil || se.Problem != NoCredentials {
			t.Fatalf("Classify(%v) = %+v", err, se)
		}
	})
	t.Run("unknown profile", func(t *testing.T) {
		noCredentials(t)
		err := identity(t, Options{Profile: "nope"})
		var se *SetupError
		if !errors.As(err, &se) || se.Problem != UnknownProfile || !strings.Contains(se.Message, `"nope"`) {
			t.Fatalf("New: %v (%+v)", err, se)
		}
	})
	t.Run("expired SSO session", func(t *testing.T) {
		noCredentials(t)
		expiredSSO(t, "dev")
		err := identity(t, Options{Profile: "dev"})
		if se := Classify(err, Setting{Profile: "dev"}); se == nil || se.Problem != ExpiredSSO || se.Next != "run aws sso login --profile dev, then run this command again" {
			t.Fatalf("Classify(%v) = %+v", err, se)
		}
	})
}

// expiredSSO writes an SSO profile whose cached token has expired, under
// $HOME (a temp dir).
func expiredSSO(t *testing.T, profile string) {
	t.Helper()
	const start = "https://example.awsapps.com/start"
	cfg := fmt.Sprintf("[profile %s]\nsso_start_url = %s\nsso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Dev\nregion = us-east-1\n", profile, start)
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(start))
	dir := filepath.Join(os.Getenv("HOME"), ".aws", "sso", "cache")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	token := `{"accessToken":"expired","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"` + start + `"}`
	if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])+".json"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
}
