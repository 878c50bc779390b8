package preflight_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/internal/cmdtest"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/root"
)

const (
	payments = "../../../../examples/payments/payments.sd.yaml"
	allOpen  = "../../../../examples/flags/all-open.flagd.json"
)

// TestMain starts the emulator (for the missing state tables) with static
// test credentials; the tests of a new user take them away again.
func TestMain(m *testing.M) { cmdtest.Main(m) }

type result struct {
	code   int
	output string // stdout then stderr
}

func (r result) lines() []string {
	return strings.Split(strings.TrimRight(r.output, "\n"), "\n")
}

// gantry runs the whole command line in-process, through the root as main
// does (the error and its next step are printed by the root).
func gantry(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f, out, errOut := cmdutil.TestFactory(cmdtest.Version)
	code := root.Run(ctx, f, args)
	return result{code: code, output: out.String() + errOut.String()}
}

// newUser is a person with no AWS set-up at all: no credentials in the
// environment, empty config files, no instance metadata (so nothing is
// looked up off this machine). It returns the config file's path.
func newUser(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "HOME": dir,
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "GANTRY_FLAGS"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	return filepath.Join(dir, "config")
}

// closedPort is a loopback URL nothing listens on: were the SDK to try the
// network, it would get no further than this machine.
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

// checkSetupProblem asserts exit 2, at most three lines in all, the wanted
// text, and none of the SDK's chain.
func checkSetupProblem(t *testing.T, r result, want ...string) {
	t.Helper()
	t.Logf("exit %d:\n%s", r.code, r.output)
	if r.code != cmdutil.ExitUsage {
		t.Errorf("exit %d, want 2\n%s", r.code, r.output)
	}
	if n := len(r.lines()); n > 3 {
		t.Errorf("%d lines, want at most 3:\n%s", n, r.output)
	}
	for _, w := range want {
		if !strings.Contains(r.output, w) {
			t.Errorf("output lacks %q:\n%s", w, r.output)
		}
	}
	for _, raw := range []string{"operation error", "failed to refresh cached credentials", "RequestID"} {
		if strings.Contains(r.output, raw) {
			t.Errorf("output shows the SDK's chain (%q):\n%s", raw, r.output)
		}
	}
}

func TestNewUserWithoutCredentials(t *testing.T) {
	newUser(t)
	endpoint := closedPort(t)
	for _, args := range [][]string{
		{"status", payments},
		{"plan", payments, "--stage", "dev"},
		{"deploy", payments, "--version", "1.0.0", "--flags", "file:" + allOpen},
		{"unlock", payments, "--stage", "dev", "--yes"},
		{"rollback", payments, "--stage", "dev", "--region", "us-east-1"},
		{"bootstrap", payments},
		{"bootstrap", "--region", "eu-west-1"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			r := gantry(t, append(args, "--endpoint-url", endpoint)...)
			checkSetupProblem(t, r, "error: no AWS credentials found\n", "  → ", "AWS_ACCESS_KEY_ID")
		})
	}
	// payments names a gate flag: without a flag provider the deploy is
	// refused as bad usage first, before any AWS call (also one line).
	t.Run("deploy without --flags", func(t *testing.T) {
		r := gantry(t, "deploy", payments, "--version", "1.0.0", "--endpoint-url", endpoint)
		if r.code != cmdutil.ExitUsage || len(r.lines()) > 3 || !strings.Contains(r.output, "no flag provider configured") {
			t.Errorf("exit %d, want 2 in at most 3 lines naming the flag provider:\n%s", r.code, r.output)
		}
	})
	t.Run("AWS_ENDPOINT_URL", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", endpoint)
		checkSetupProblem(t, gantry(t, "status", payments), "no AWS credentials found")
	})
}

// The SDK's chain is not lost: it is in the debug log.
func TestRawErrorGoesToTheDebugLog(t *testing.T) {
	newUser(t)
	log := filepath.Join(t.TempDir(), "gantry.log")
	r := gantry(t, "status", payments, "--endpoint-url", closedPort(t), "--log-file", log, "--log-level", "debug")
	checkSetupProblem(t, r, "no AWS credentials found")
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"msg":"command failed"`) || !strings.Contains(string(b), "failed to refresh cached credentials") {
		t.Errorf("the debug log lacks the SDK's error:\n%s", b)
	}
}

func TestUnknownProfile(t *testing.T) {
	newUser(t)
	want := []string{`error: AWS profile "nope" is not in the AWS config files`, "aws configure --profile nope"}
	t.Run("--profile", func(t *testing.T) {
		checkSetupProblem(t, gantry(t, "plan", payments, "--stage", "dev", "--profile", "nope", "--endpoint-url", closedPort(t)), want...)
	})
	t.Run("AWS_PROFILE", func(t *testing.T) {
		t.Setenv("AWS_PROFILE", "nope")
		checkSetupProblem(t, gantry(t, "status", payments, "--endpoint-url", closedPort(t)), want...)
	})
}

func TestExpiredSSOSession(t *testing.T) {
	config := newUser(t)
	const start = "https://example.awsapps.com/start"
	text := "[profile dev]\nsso_start_url = " + start + "\nsso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Dev\nregion = us-east-1\n"
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(os.Getenv("HOME"), ".aws", "sso", "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(start))
	token := `{"accessToken":"old","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"` + start + `"}`
	if err := os.WriteFile(filepath.Join(cache, hex.EncodeToString(sum[:])+".json"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	r := gantry(t, "deploy", payments, "--version", "1.0.0", "--flags", "file:"+allOpen, "--profile", "dev", "--endpoint-url", closedPort(t))
	checkSetupProblem(t, r, `error: the AWS SSO session for profile "dev" has expired`, "  → run aws sso login --profile dev")
}

// Credentials are fine (the emulator's test keys) but nothing listens at
// the endpoint.
func TestUnreachableEndpoint(t *testing.T) {
	endpoint := closedPort(t)
	for _, args := range [][]string{
		{"status", payments},
		{"deploy", payments, "--version", "1.0.0", "--stage", "dev", "--flags", "file:" + allOpen},
	} {
		t.Run(args[0], func(t *testing.T) {
			r := gantry(t, append(args, "--endpoint-url", endpoint)...)
			checkSetupProblem(t, r, "error: cannot reach the AWS endpoint "+endpoint+": connection refused", "--endpoint-url")
		})
	}
}

// On the emulator, nothing is bootstrapped: every command that needs a
// stage's state table says which bootstrap to run, once.
func TestMissingStateTable(t *testing.T) {
	endpoint := cmdtest.Emu.Endpoint
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", payments, "--stage", "dev"}, "--stage dev"},
		{[]string{"deploy", payments, "--version", "1.0.0", "--stage", "staging", "--flags", "file:" + allOpen}, "--stage staging"},
		{[]string{"unlock", payments, "--stage", "prod", "--yes"}, "--stage prod"},
		{[]string{"rollback", payments, "--stage", "dev", "--region", "us-east-1", "--to", "1.0.0"}, "--stage dev"},
		{[]string{"status", payments}, "--stage dev --stage staging --stage prod"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			r := gantry(t, append(tc.args, "--endpoint-url", endpoint)...)
			hint := fmt.Sprintf("  → run gantry bootstrap %s %s --endpoint-url %s (it creates the table)", payments, tc.want, endpoint)
			checkSetupProblem(t, r, `no state table "gantry-state"`, "never bootstrapped", hint)
		})
	}
}
