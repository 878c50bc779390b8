package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gantryhq/gantry/e2e/proxy"
)

// bench is one run: the gantry binary it built, its temporary folder and
// the emulator it started.
type bench struct {
	cfg      config
	tmp      string
	gantry   string
	emulator string       // the emulator's base URL
	runs     atomic.Int64 // gantry processes started, to name their -logs files
}

// gantryRun is one finished gantry process.
type gantryRun struct {
	took      time.Duration
	maxRSSKiB int64 // peak resident set size (getrusage ru_maxrss, KiB on Linux)
	stdout    string
	stderr    string
	code      int // exit status
}

// awsEnv is the whole AWS configuration every deploying process gets, as in
// a CI step: static test credentials and nothing from shared files.
func awsEnv() []string {
	env := []string{
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "GANTRY_") {
			env = append(env, kv)
		}
	}
	return env
}

// runGantry runs gantry as a CI step would, against endpoint, and returns
// its wall time and peak memory; any exit status but 0 is an error.
func (b *bench) runGantry(ctx context.Context, endpoint string, args ...string) (gantryRun, error) {
	r, err := b.execGantry(ctx, endpoint, args...)
	if err == nil && r.code != 0 {
		err = fmt.Errorf("gantry %s: exit status %d\n%s", strings.Join(args, " "), r.code, tail(r.stderr, 40))
	}
	return r, err
}

// execGantry runs gantry as a CI step would, against endpoint, and
// returns how it ended; only failing to run it (or ctx ending) is an
// error, a non-zero exit status is the caller's to judge.
func (b *bench) execGantry(ctx context.Context, endpoint string, args ...string) (gantryRun, error) {
	args = append(slices.Clone(args), "--endpoint-url", endpoint)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.gantry, args...)
	cmd.Env = append(awsEnv(), "GANTRY_FLAGS="+flagsFile)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	logs := b.logName(args)
	if logs != "" {
		cmd.Env = append(cmd.Env, "GANTRY_LOG_FILE="+logs+".jsonl", "GANTRY_LOG_LEVEL=debug")
	}
	start := time.Now()
	err := cmd.Run()
	r := gantryRun{took: time.Since(start), stdout: stdout.String(), stderr: stderr.String()}
	if logs != "" {
		note := fmt.Sprintf("gantry %s\nexit: %v, %s\n\n", joinArgs(args), err, r.took)
		_ = os.WriteFile(logs+".stderr", []byte(note+r.stderr), 0o644)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		r.code, err = ee.ExitCode(), nil
	}
	if err != nil {
		return r, fmt.Errorf("gantry %s: %w\n%s", strings.Join(args, " "), err, tail(r.stderr, 40))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKiB = ru.Maxrss
	}
	return r, nil
}

// logName is where -logs keeps a gantry run ("" without -logs): the run's
// number, command and descriptor.
func (b *bench) logName(args []string) string {
	if b.cfg.logs == "" {
		return ""
	}
	name := fmt.Sprintf("%02d-%s", b.runs.Add(1), args[0])
	if len(args) > 1 && strings.HasSuffix(args[1], ".sd.yaml") {
		name += "-" + strings.TrimSuffix(filepath.Base(args[1]), ".sd.yaml")
	}
	return filepath.Join(b.cfg.logs, name)
}

// newProxy starts an e2e proxy in front of the emulator. Each measurement
// takes a fresh one: a proxy's stack emulation remembers the stacks it saw.
func (b *bench) newProxy() (*proxy.Proxy, error) {
	p, err := proxy.New(b.emulator)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return p, nil
}

// freshProxy resets the emulator, starts a proxy and bootstraps file (state
// table and demo platform) through it: a measurement that starts from
// nothing. The proxy's counts start at zero after the bootstrap.
func (b *bench) freshProxy(ctx context.Context, file string) (*proxy.Proxy, error) {
	if err := b.resetEmulator(ctx); err != nil {
		return nil, err
	}
	return b.bootstrapped(ctx, file)
}

// bootstrapped starts a proxy and bootstraps file through it, without a
// reset; the counts start at zero after the bootstrap.
func (b *bench) bootstrapped(ctx context.Context, file string) (*proxy.Proxy, error) {
	p, err := b.newProxy()
	if err != nil {
		return nil, err
	}
	if _, err := b.runGantry(ctx, p.URL(), "bootstrap", file, "--demo-platform"); err != nil {
		p.Close()
		return nil, err
	}
	p.ResetCounts()
	return p, nil
}

// resetEmulator clears all of the emulator's state (POST /moto-api/reset).
func (b *bench) resetEmulator(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.emulator+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("resetting the emulator: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("resetting the emulator: %s", resp.Status)
	}
	return nil
}

// quiet runs a command to its end, its stdout dropped, its stderr shown.
func quiet(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	return cmd.Run()
}

// timed runs a whole process and returns its wall time in milliseconds and
// its exit status. Only a failure to start is an error: cfn-lint exits
// non-zero on findings.
func timed(ctx context.Context, name string, args ...string) (ms float64, exit int, err error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	start := time.Now()
	err = cmd.Run()
	ms = float64(time.Since(start).Microseconds()) / 1000
	if ee, ok := err.(*exec.ExitError); ok && ctx.Err() == nil {
		return ms, ee.ExitCode(), nil
	}
	if err != nil {
		return ms, -1, fmt.Errorf("%s: %w", name, err)
	}
	return ms, 0, nil
}

// timedOK is timed for a command that must exit 0.
func timedOK(ctx context.Context, name string, args ...string) (float64, error) {
	ms, code, err := timed(ctx, name, args...)
	if err == nil && code != 0 {
		err = fmt.Errorf("%s %s: exit status %d", name, strings.Join(args, " "), code)
	}
	return ms, err
}

// timedRuns runs a command once untimed (to warm the page cache and
// Python's bytecode) and then runs times, and returns the wall times (ms)
// and the exit status of the last run.
func timedRuns(ctx context.Context, runs int, name string, args ...string) ([]float64, int, error) {
	if _, _, err := timed(ctx, name, args...); err != nil {
		return nil, 0, err
	}
	var all []float64
	exit := 0
	for range runs {
		ms, code, err := timed(ctx, name, args...)
		if err != nil {
			return nil, 0, err
		}
		all, exit = append(all, ms), code
	}
	return all, exit, nil
}

func output(ctx context.Context, name string, args ...string) string {
	b, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	return string(b)
}

func machine() string {
	m := fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m += ", " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kib); err == nil {
			m += fmt.Sprintf(", %.0f GiB", float64(kib)/(1<<20))
		}
	}
	return m
}

// loadAverage is the 1-minute load average (-1 where /proc/loadavg is
// missing).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	if _, err := fmt.Sscanf(string(b), "%f", &l); err != nil {
		return -1
	}
	return l
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func joinArgs(args []string) string { return strings.Join(args, " ") }
