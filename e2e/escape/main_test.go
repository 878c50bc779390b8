// Package escape_test is the end-to-end suite of issue 12 ("beyond the
// service"): the built gantry binary against the local emulator, with no
// proxy in front (S3 uploads go straight to it). It proves that a service
// whose app stack is over CloudFormation's 51,200-byte inline limit is
// planned, deployed and rolled back through the artifacts bucket, and the
// scheduled jobs, release tasks, sidecars and patches of the Proof
// list. The emulator is reset before every test, so tests run one after
// another.
package escape_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/pkg/awsx"
)

func TestMain(m *testing.M) {
	e2etest.Main(m, e2etest.MainOptions{TempPrefix: "gantry-e2e-escape-", Name: "e2e/escape", LogTimes: true})
}

// cmdTimeout bounds one gantry command.
const cmdTimeout = 4 * time.Minute

// env is one test's world: the reset emulator and a temporary folder.
type env struct {
	t   *testing.T
	tmp string
	p   *awsx.Provider
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e2etest.Emu.Reset(t)
	p, err := awsx.New(context.Background(), awsx.Options{
		EndpointURL: e2etest.Emu.Endpoint, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, tmp: t.TempDir(), p: p}
}

func (e *env) runner() e2etest.Runner {
	return e2etest.Runner{Endpoint: e2etest.Emu.Endpoint, Timeout: cmdTimeout, Tail: 60, SignalCodes: true}
}

// gantry runs gantry and fails the test unless it exits with code.
func (e *env) gantry(code int, args ...string) e2etest.Run {
	e.t.Helper()
	r := e.runner().MustRun(e.t, code, args...)
	e.t.Logf("gantry %v: exit %d in %s", args, r.Code, r.Took.Round(time.Millisecond))
	return r
}

// start runs gantry in the background.
func (e *env) start(args ...string) *e2etest.Proc {
	e.t.Helper()
	return e.runner().Start(e.t, args...)
}

// write puts a descriptor into the test's folder and returns its path.
func (e *env) write(name, body string) string {
	e.t.Helper()
	path := filepath.Join(e.tmp, name+".sd.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// deploy runs gantry deploy FILE --version V --bake 0s --output json.
func (e *env) deploy(code int, file, version string, extra ...string) (*e2etest.Result, e2etest.Run) {
	e.t.Helper()
	args := append([]string{"deploy", file, "--version", version, "--bake", "0s", "--output", "json"}, extra...)
	r := e.gantry(code, args...)
	return e2etest.ParseResult(e.t, r), r
}

// cfg is an AWS config in account and region, reached as gantry reaches it.
func (e *env) cfg(account, region string) aws.Config {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := e.p.Config(ctx, account, region)
	if err != nil {
		e.t.Fatalf("reaching %s in %s: %v", account, region, err)
	}
	return cfg
}

func tctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}
