// Command bench measures gantry against the tools users would pick instead,
// side by side in one run on this machine (issue 5, first part), and writes
// bench/results.json plus a table of ratios on stdout. Run it from the
// repository root through bench/run; see bench/README.md.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/gantryhq/gantry/e2e/proxy"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/plan"
)

const (
	payments  = "examples/payments/payments.sd.yaml"
	flagsFile = "file:examples/flags/all-open.flagd.json"
	cfnLint   = ".venv/bin/cfn-lint"
	stackOp   = 5 * time.Second
)

// Results is bench/results.json.
type Results struct {
	Date      string `json:"date"`
	Machine   string `json:"machine"`
	GoVersion string `json:"go_version"`
	Gantry    string `json:"gantry_version"`
	CfnLint   string `json:"cfn_lint_version"`
	Runs      int    `json:"runs"`

	Lint    *LintResult    `json:"lint,omitempty"`
	Rerun   *RerunResult   `json:"rerun,omitempty"`
	Rollout *RolloutResult `json:"rollout,omitempty"`
}

// LintResult compares whole-process gantry lint with cfn-lint on the same
// service's rendered templates.
type LintResult struct {
	GantryMedianMS  float64   `json:"gantry_lint_median_ms"`
	CfnLintMedianMS float64   `json:"cfn_lint_median_ms"`
	GantryRunsMS    []float64 `json:"gantry_lint_runs_ms"`
	CfnLintRunsMS   []float64 `json:"cfn_lint_runs_ms"`
	Templates       int       `json:"templates"`
	CfnLintExit     int       `json:"cfn_lint_exit_code"`
	Speedup         float64   `json:"lint_vs_cfnlint_speedup"`
	Goal            string    `json:"goal"`
}

// RerunResult is the unchanged rerun of the payments rollout.
type RerunResult struct {
	DeploySeconds  float64        `json:"deploy_seconds"`
	DeployCalls    int            `json:"deploy_calls"`
	RerunSeconds   float64        `json:"noop_rerun_seconds"`
	RerunCalls     int            `json:"noop_rerun_calls"`
	MutatingCalls  int            `json:"noop_mutating_calls"`
	MutatingByOp   map[string]int `json:"noop_mutating_by_operation"`
	RerunCallsByOp map[string]int `json:"noop_rerun_calls_by_operation"`
	Goal           string         `json:"goal"`
}

// RolloutResult is a fresh payments rollout with a fixed stack operation
// time, against the critical path the plan allows.
type RolloutResult struct {
	StackOperationSeconds float64  `json:"stack_operation_seconds"`
	Regions               int      `json:"regions"`
	WallSeconds           float64  `json:"wall_seconds"`
	CriticalPathSeconds   float64  `json:"critical_path_seconds"`
	CriticalPath          []string `json:"critical_path"`
	Calls                 int      `json:"calls"`
	OverheadRatio         float64  `json:"rollout_overhead_ratio"`
	Goal                  string   `json:"goal"`
}

func main() {
	runs := flag.Int("runs", 5, "runs of each lint command (median taken)")
	skipRollout := flag.Bool("skip-rollout", false, "skip the 5 s-per-stack rollout measurement (about a minute)")
	out := flag.String("out", "bench/results.json", "where to write the results")
	flag.Parse()
	if *runs < 1 {
		fatalf("-runs must be at least 1")
	}
	if _, err := os.Stat(payments); err != nil {
		fatalf("run from the repository root (bench/run does): %v", err)
	}
	code := run(*runs, *skipRollout, *out)
	os.Exit(code)
}

func run(runs int, skipRollout bool, out string) int {
	tmp, err := os.MkdirTemp("", "gantry-bench-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(tmp)
	tmpDir = tmp

	var emu *emulator
	defer func() {
		if emu != nil {
			emu.stop()
		}
	}()
	// Ctrl-C: stop the emulator's process group before leaving.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		if emu != nil {
			emu.stop()
		}
		os.RemoveAll(tmp)
		os.Exit(130)
	}()

	gantry := filepath.Join(tmp, "gantry")
	step("building gantry")
	must(command("go", "build", "-o", gantry, "./cmd/gantry").Run())

	res := &Results{
		Date:      time.Now().UTC().Format(time.RFC3339),
		Machine:   machine(),
		GoVersion: runtime.Version(),
		Gantry:    firstLine(output(gantry, "version")),
		CfnLint:   firstLine(output(cfnLint, "--version")),
		Runs:      runs,
	}

	step("lint: gantry lint vs cfn-lint, %d runs each", runs)
	res.Lint = benchLint(gantry, tmp, runs)

	step("starting the emulator")
	emu, err = startEmulator()
	if err != nil {
		fatalf("emulator: %v", err)
	}
	current = emu
	step("rerun: payments deploy, then the same again unchanged")
	res.Rerun = benchRerun(gantry, emu.url)

	if !skipRollout {
		step("rollout: fresh payments rollout, %s per stack operation", stackOp)
		res.Rollout = benchRollout(gantry, emu.url)
	}

	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep the goals' ">=" and "<=" readable
	enc.SetIndent("", "  ")
	must(enc.Encode(res))
	must(os.WriteFile(out, []byte(buf.String()), 0o644))
	printTable(res)
	fmt.Printf("\nwrote %s\n", out)
	return 0
}

func benchLint(gantry, tmp string, runs int) *LintResult {
	dir := filepath.Join(tmp, "render")
	must(command(gantry, "render", payments, "--out", dir, "--version", "1.0.0").Run())
	var templates []string
	must(filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".template.json") {
			templates = append(templates, p)
		}
		return err
	}))
	sort.Strings(templates)
	if len(templates) == 0 {
		fatalf("gantry render wrote no templates under %s", dir)
	}
	cfnArgs := append([]string{"--ignore-checks", "W3691", "--"}, templates...)

	r := &LintResult{Templates: len(templates), Goal: ">= 50"}
	// One untimed run of each warms the page cache and Python's bytecode.
	if err := command(gantry, "lint", payments).Run(); err != nil {
		fatalf("gantry lint %s: %v", payments, err)
	}
	r.CfnLintExit = exitCode(command(cfnLint, cfnArgs...).Run())
	for range runs {
		r.GantryRunsMS = append(r.GantryRunsMS, timed(gantry, "lint", payments))
		r.CfnLintRunsMS = append(r.CfnLintRunsMS, timed(cfnLint, cfnArgs...))
	}
	r.GantryMedianMS = median(r.GantryRunsMS)
	r.CfnLintMedianMS = median(r.CfnLintRunsMS)
	r.Speedup = r.CfnLintMedianMS / r.GantryMedianMS
	return r
}

func benchRerun(gantry, emuURL string) *RerunResult {
	p := newProxy(emuURL)
	defer p.Close()
	deployArgs := []string{"deploy", payments, "--version", "1.0.0", "--approve", "prod", "--bake", "0s", "--output", "json"}

	mustGantry(gantry, p.URL(), "bootstrap", payments, "--demo-platform")
	p.ResetCounts()
	d := mustGantry(gantry, p.URL(), deployArgs...)
	r := &RerunResult{DeploySeconds: d.Seconds(), DeployCalls: sum(p.Counts()), Goal: "0 mutating calls"}

	p.ResetCounts()
	d = mustGantry(gantry, p.URL(), deployArgs...)
	counts := p.Counts()
	r.RerunSeconds = d.Seconds()
	r.RerunCalls = sum(counts)
	r.RerunCallsByOp = counts
	r.MutatingByOp = proxy.Mutating(counts)
	r.MutatingCalls = sum(r.MutatingByOp)
	return r
}

func benchRollout(gantry, emuURL string) *RolloutResult {
	resp, err := http.Post(emuURL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		fatalf("reset the emulator: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		fatalf("reset the emulator: %s", resp.Status)
	}
	// A fresh proxy: the old one's stack emulation knows the old stacks.
	p := newProxy(emuURL)
	defer p.Close()
	mustGantry(gantry, p.URL(), "bootstrap", payments, "--demo-platform")

	d0, pl := loadPlan(payments)
	critical, lines := criticalPath(pl, stacksPerRegion(d0), stackOp)
	p.SetStackDuration(stackOp)
	p.ResetCounts()
	d := mustGantry(gantry, p.URL(), "deploy", payments, "--version", "1.0.0", "--approve", "prod", "--bake", "0s", "--output", "json")
	return &RolloutResult{
		StackOperationSeconds: stackOp.Seconds(),
		Regions:               len(pl.Steps()),
		WallSeconds:           d.Seconds(),
		CriticalPathSeconds:   critical.Seconds(),
		CriticalPath:          lines,
		Calls:                 sum(p.Counts()),
		OverheadRatio:         d.Seconds() / critical.Seconds(),
		Goal:                  "<= 1.05",
	}
}

func loadPlan(file string) (*descriptor.Descriptor, *plan.Plan) {
	d, probs, err := descriptor.Load(file)
	if err != nil {
		fatalf("%s: %v", file, err)
	}
	if len(probs) > 0 {
		fatalf("%s: %v", file, probs)
	}
	p, err := plan.Build(d, nil)
	if err != nil {
		fatalf("%s: %v", file, err)
	}
	return d, p
}

// criticalPath is the least time a rollout can take when every stack
// operation takes op and nothing else takes time: stages and waves one after
// another, a wave's regions in rounds of maxParallel, each region deploying
// its stacks (data, then app) one after the other.
func criticalPath(p *plan.Plan, stacks int, op time.Duration) (time.Duration, []string) {
	var total time.Duration
	var lines []string
	for _, st := range p.Stages {
		for _, w := range st.Waves {
			rounds := (len(w.Steps) + w.Parallel() - 1) / w.Parallel()
			d := time.Duration(rounds*stacks) * op
			total += d
			lines = append(lines, fmt.Sprintf("%s wave %d: %d region(s), %d at a time: %d round(s) x %d stacks x %s = %s",
				st.Name, w.Index, len(w.Steps), w.Parallel(), rounds, stacks, op, d))
		}
	}
	return total, lines
}

// stacksPerRegion is 2 (data and app) for a service with resources, else 1.
func stacksPerRegion(d *descriptor.Descriptor) int {
	if len(d.Resources) == 0 {
		return 1
	}
	return 2
}

// emulator is the e2e emulator, started in its own process group.
type emulator struct {
	cmd *exec.Cmd
	url string
}

func startEmulator() (*emulator, error) {
	cmd := exec.Command("e2e/emulator/run", "--port", "0", "--quiet")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &emulator{cmd: cmd}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if u, ok := strings.CutPrefix(line, "emulator listening on "); ok && strings.HasPrefix(u, "http") {
				ready <- u
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case e.url = <-ready:
		return e, nil
	case <-time.After(3 * time.Minute):
		e.stop()
		return nil, fmt.Errorf("no %q line within 3 minutes", "emulator listening on")
	}
}

// stop ends the emulator's process group: SIGTERM, then SIGKILL after 10 s.
func (e *emulator) stop() {
	if e.cmd.Process == nil {
		return
	}
	pgid := e.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
	e.cmd.Process = nil
}

func newProxy(target string) *proxy.Proxy {
	p, err := proxy.New(target)
	if err != nil {
		fatalf("proxy: %v", err)
	}
	must(p.Start())
	return p
}

// mustGantry runs gantry as a CI step would, against endpoint, and returns
// its wall time; any exit status but 0 ends the benchmark.
func mustGantry(gantry, endpoint string, args ...string) time.Duration {
	args = append(args, "--endpoint-url", endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gantry, args...)
	cmd.Env = append(cleanEnv(),
		"GANTRY_FLAGS="+flagsFile,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var stderr strings.Builder
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		fatalf("gantry %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String(), 40))
	}
	return took
}

// cleanEnv is the environment without AWS or gantry settings of its own.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "GANTRY_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	return cmd
}

// timed runs a whole process and returns its wall time in milliseconds.
// Exit statuses are not checked here (cfn-lint exits non-zero on findings);
// a failure to start is fatal.
func timed(name string, args ...string) float64 {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		fatalf("%s: %v", name, err)
	}
	return float64(took.Microseconds()) / 1000
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	fatalf("%v", err)
	return -1
}

func output(name string, args ...string) string {
	b, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	return string(b)
}

func machine() string {
	m := fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m += ", " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return m
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
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

func printTable(r *Results) {
	fmt.Printf("\ngantry benchmarks, %s, %s\n\n", r.Date, r.Machine)
	fmt.Printf("| measure | baseline | gantry | result | goal | met |\n")
	fmt.Printf("|---|---|---|---|---|---|\n")
	if l := r.Lint; l != nil {
		fmt.Printf("| lint payments (median of %d, whole process) | cfn-lint %.0f ms (%d templates) | %.1f ms | %.1fx faster | >= 50x | %s |\n",
			r.Runs, l.CfnLintMedianMS, l.Templates, l.GantryMedianMS, l.Speedup, yes(l.Speedup >= 50))
	}
	if u := r.Rerun; u != nil {
		fmt.Printf("| unchanged rerun, mutating calls | deploy: %d calls, %.1f s | rerun: %d calls, %.1f s | %d mutating | 0 | %s |\n",
			u.DeployCalls, u.DeploySeconds, u.RerunCalls, u.RerunSeconds, u.MutatingCalls, yes(u.MutatingCalls == 0))
	}
	if o := r.Rollout; o != nil {
		fmt.Printf("| rollout overhead (%d regions, %.0f s/stack) | critical path %.1f s | %.1f s | ratio %.3f | <= 1.05 | %s |\n",
			o.Regions, o.StackOperationSeconds, o.CriticalPathSeconds, o.WallSeconds, o.OverheadRatio, yes(o.OverheadRatio <= 1.05))
	}
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func must(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

// fatalf reports and exits; deferred calls do not run, so it stops the
// emulator and removes the temporary folder itself.
func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	if current != nil {
		current.stop()
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	os.Exit(1)
}

var (
	current *emulator // the running emulator, for fatalf
	tmpDir  string    // the benchmark's temporary folder, for fatalf
)
