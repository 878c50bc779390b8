// Package cmdtest is the shared plumbing of the pkg/cmd/... tests that run
// gantry commands in-process against the local AWS emulator: a TestMain
// helper that starts the emulator with test credentials, a Factory with
// buffer streams pointed at it, running one command, and bootstrapping a
// descriptor.
package cmdtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/internal/emulatortest"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cmd/bootstrap"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

// Version is the gantry version the test Factory reports.
const Version = "v0.1.0"

// Emu is the emulator Main started for the test binary.
var Emu *emulatortest.Emulator

// Main is a test package's TestMain: the commands use the SDK's default
// credential chain, as gantry does, so it sets static test credentials and
// no shared config files, starts the emulator, runs the tests and exits.
func Main(m *testing.M) {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           emulatortest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       emulatortest.SecretAccessKey,
		"AWS_CONFIG_FILE":             "/nonexistent/gantry-test-config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/gantry-test-credentials",
	} {
		os.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "GITHUB_STEP_SUMMARY"} {
		os.Unsetenv(k)
	}
	e, stop, err := emulatortest.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	Emu = e
	code := m.Run()
	stop()
	os.Exit(code)
}

// Timeout bounds what Context hands a test.
const Timeout = 3 * time.Minute

// Context is a context that ends with the test or after Timeout.
func Context(t *testing.T) context.Context {
	t.Helper()
	return ContextFor(t, Timeout)
}

// ContextFor is a context that ends with the test or after d.
func ContextFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Factory is a test Factory pointed at the emulator, with buffers for
// stdout and stderr.
func Factory() (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	f, out, errOut := cmdutil.TestFactory(Version)
	f.AWS.EndpointURL = Emu.Endpoint
	return f, out, errOut
}

// Result is one command run in-process. Stderr is what the command wrote;
// Err is what it returned (not added to Stderr).
type Result struct {
	Code   int
	Stdout string
	Stderr string
	Err    error
}

// Run runs newCmd(f) with args in-process within ctx; f nil is Factory().
func Run(ctx context.Context, f *cmdutil.Factory, out, errOut *bytes.Buffer, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) Result {
	if f == nil {
		f, out, errOut = Factory()
	}
	code, err := cmdutil.Execute(ctx, newCmd(f), args)
	return Result{Code: code, Stdout: out.String(), Stderr: errOut.String(), Err: err}
}

// Exec runs newCmd with args in-process against the emulator, within
// Context(t).
func Exec(t *testing.T, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) Result {
	t.Helper()
	return Run(Context(t), nil, nil, nil, newCmd, args...)
}

func bootstrapErr(ctx context.Context, args []string) string {
	r := Run(ctx, nil, nil, nil, bootstrap.NewCmd, args...)
	if r.Code != 0 {
		return fmt.Sprintf("bootstrap: exit %d (%v)\n%s\n%s", r.Code, r.Err, r.Stdout, r.Stderr)
	}
	return ""
}

// Once bootstraps a descriptor once for the test package.
type Once struct {
	once sync.Once
	err  string
}

// Bootstrap runs gantry bootstrap with args the first time it is called;
// every call fails the test if that run failed.
func (o *Once) Bootstrap(t *testing.T, ctx context.Context, args ...string) {
	t.Helper()
	o.once.Do(func() { o.err = bootstrapErr(ctx, args) })
	if o.err != "" {
		t.Fatal(o.err)
	}
}

// InAccount returns a config acting in account and region, the way gantry
// reaches a stage's account (assuming gantry-deploy).
func InAccount(t *testing.T, ctx context.Context, account, region string) aws.Config {
	t.Helper()
	p, err := awsx.New(ctx, awsx.Options{
		EndpointURL: Emu.Endpoint,
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(emulatortest.AccessKeyID, emulatortest.SecretAccessKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := p.Config(ctx, account, region)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
