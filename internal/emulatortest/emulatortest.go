// Package emulatortest starts gantry's local AWS emulator (moto's server with
// gantry's extensions, e2e/emulator/run) for a test package and hands tests
// an aws.Config that talks to it through the real aws-sdk-go-v2 clients.
//
// One emulator per test binary is the intended use: start it in TestMain
// with StartMain, or per test with Start. Tests that share one emulator
// should use their own resource names (or accounts, or regions) rather than
// Reset, so that they can run in parallel.
//
// The emulator never is skipped: a test that needs it fails, with the
// command to run by hand, when it cannot start.
package emulatortest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Account is the account moto acts in for any credentials that are not
// assumed-role ones.
const Account = "123456789012"

// AccessKeyID and SecretAccessKey are the static test credentials Config uses.
const (
	AccessKeyID     = "test"
	SecretAccessKey = "test"
)

// StartTimeout bounds how long the emulator may take to print its ready line.
// The first run also prepares the Python venv, which takes longer than a
// normal start but still fits.
const StartTimeout = 60 * time.Second

const readyPrefix = "emulator listening on "

// Emulator is a running emulator process.
type Emulator struct {
	// Endpoint is the emulator's base URL, http://127.0.0.1:PORT.
	Endpoint string

	cmd     *exec.Cmd
	stderr  *tailBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
	stop    sync.Once
}

// Start starts an emulator for tb and stops it when tb's cleanup runs. It
// fails tb (never skips) if the emulator cannot start.
func Start(tb testing.TB) *Emulator {
	tb.Helper()
	e, err := start()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.Stop)
	return e
}

// StartMain starts an emulator for a whole test binary, for use in TestMain:
//
//	func TestMain(m *testing.M) {
//		emu, stop, err := emulatortest.StartMain()
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		shared = emu
//		code := m.Run()
//		stop()
//		os.Exit(code)
//	}
//
// The returned function stops the emulator; it is safe to call twice.
func StartMain() (*Emulator, func(), error) {
	e, err := start()
	if err != nil {
		return nil, nil, err
	}
	return e, e.Stop, nil
}

// Command returns the command that starts the emulator: e2e/emulator/run
// when it exists, else moto_server from the repository's venv. The port is
// filled in by the caller.
func command(repo string) (name string, args []string, ready func(line string) (string, bool), err error) {
	run := filepath.Join(repo, "e2e", "emulator", "run")
	if _, statErr := os.Stat(run); statErr == nil {
		return run, []string{"--port", "0", "--quiet"}, parseReady, nil
	}
	// Fallback for checkouts without the script: plain moto on a free port.
	moto := filepath.Join(repo, ".venv", "bin", "moto_server")
	if _, statErr := os.Stat(moto); statErr != nil {
		return "", nil, nil, fmt.Errorf("neither %s nor %s exists", run, moto)
	}
	port, err := freePort()
	if err != nil {
		return "", nil, nil, err
	}
	want := fmt.Sprintf("http://127.0.0.1:%d", port)
	return moto, []string{"-H", "127.0.0.1", "-p", fmt.Sprint(port)}, func(line string) (string, bool) {
		// moto_server logs "Running on http://127.0.0.1:PORT" on stderr.
		if strings.Contains(line, "Running on "+want) {
			return want, true
		}
		return "", false
	}, nil
}

func parseReady(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), readyPrefix)
	if !ok || !strings.HasPrefix(rest, "http://") {
		return "", false
	}
	return rest, true
}

func start() (*Emulator, error) {
	repo, err := RepoRoot()
	if err != nil {
		return nil, fmt.Errorf("starting the AWS emulator: %w", err)
	}
	name, args, ready, err := command(repo)
	if err != nil {
		return nil, fmt.Errorf("starting the AWS emulator: %w; from %s run: e2e/emulator/run", err, repo)
	}
	byHand := fmt.Sprintf("cd %s && %s", repo, strings.Join(append([]string{rel(repo, name)}, args...), " "))

	cmd := exec.Command(name, args...)
	cmd.Dir = repo
	cmd.Env = os.Environ()
	cmd.SysProcAttr = procAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the AWS emulator: %w", err)
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the AWS emulator: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the AWS emulator (%s): %w", byHand, err)
	}
	e := &Emulator{cmd: cmd, stderr: newTailBuffer(16 << 10), done: make(chan struct{})}

	found := make(chan string, 2)
	// Both streams are drained for the process's whole life: a full pipe
	// would block the server.
	scan := func(r io.Reader, keep bool) {
		s := bufio.NewScanner(r)
		s.Buffer(make([]byte, 64<<10), 1<<20)
		for s.Scan() {
			line := s.Text()
			if keep {
				e.stderr.WriteLine(line)
			}
			if url, ok := ready(line); ok {
				select {
				case found <- url:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}
	var streams sync.WaitGroup
	streams.Add(2)
	go func() { defer streams.Done(); scan(stdout, false) }()
	go func() { defer streams.Done(); scan(stderrPipe, true) }()
	go func() {
		streams.Wait()
		e.waitErr = cmd.Wait()
		close(e.done)
	}()

	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case url := <-found:
		e.Endpoint = url
		return e, nil
	case <-e.done:
		return nil, fmt.Errorf("the AWS emulator exited before it was ready (%v); run it by hand to see why: %s\n%s",
			e.waitErr, byHand, e.stderr.String())
	case <-timer.C:
		e.Stop()
		return nil, fmt.Errorf("the AWS emulator did not print %q within %s; run it by hand to see why: %s\n%s",
			readyPrefix+"URL", StartTimeout, byHand, e.stderr.String())
	}
}

// Stop ends the emulator's whole process group (the run script, the venv
// setup and the server): SIGTERM first, SIGKILL if it lingers.
func (e *Emulator) Stop() {
	e.stop.Do(func() {
		pid := e.cmd.Process.Pid
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-e.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-e.done
		}
	})
}

// Reset clears all of the emulator's state (POST /moto-api/reset). Tests
// that share the emulator and run in parallel must not call it.
func (e *Emulator) Reset(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.Endpoint+"/moto-api/reset", nil)
	if err != nil {
		tb.Fatalf("resetting the emulator: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("resetting the emulator: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		tb.Fatalf("resetting the emulator: %s", resp.Status)
	}
}

// Config returns an aws.Config for region that sends every client to the
// emulator with static test credentials (account Account) and the SDK's
// standard retryer. It reads no environment variable or shared config file.
func (e *Emulator) Config(tb testing.TB, region string) aws.Config {
	tb.Helper()
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(e.Endpoint),
		Retryer:      func() aws.Retryer { return retry.NewStandard() },
	}
}

// Stderr returns the last lines the emulator wrote on stderr, for failure
// messages.
func (e *Emulator) Stderr() string { return e.stderr.String() }

// RepoRoot finds the repository root: the nearest folder at or above the
// working directory (a test's package folder) holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the repository root: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

func rel(base, path string) string {
	if r, err := filepath.Rel(base, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// tailBuffer keeps the last max bytes of lines written to it.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
	size  int
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) WriteLine(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	b.size += len(line) + 1
	for b.size > b.max && len(b.lines) > 1 {
		b.size -= len(b.lines[0]) + 1
		b.lines = b.lines[1:]
	}
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
