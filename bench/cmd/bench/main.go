// Command bench measures gantry against the tools users would pick instead,
// side by side in one run on this machine (issue 5), and writes
// bench/results.json, the generated table in docs/benchmarks.md and the same
// table on stdout. Run it from the repository root through bench/run; see
// bench/README.md.
//
// One file per measurement: lint.go (gantry lint vs cfn-lint, and 1,000
// descriptors), render.go, rerun.go (the payments rerun), rollout.go (fresh
// rollouts with timed stack operations, the 13-region one and its unchanged
// rerun), canary.go (a canary's abort against the restore by redeploy),
// awscli.go (the same 13 regions with aws cloudformation deploy),
// describe.go (describe calls per stack operation); harness.go runs gantry
// and the emulator, results.go and report.go write what was measured.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gantryhq/gantry/internal/emulatortest"
)

const (
	payments  = "examples/payments/payments.sd.yaml"
	fleet     = "bench/testdata/fleet.sd.yaml"
	probe     = "bench/testdata/probe.sd.yaml"
	flagsFile = "file:examples/flags/all-open.flagd.json"
	cfnLint   = ".venv/bin/cfn-lint"
	version   = "1.0.0"
)

// The parts of a run, in the order they run; -skip takes their names.
const (
	partCfnLint         = "cfnlint"
	partLint1000        = "lint1000"
	partRender          = "render"
	partRerun           = "rerun"
	partPaymentsRollout = "payments-rollout"
	partRollout         = "rollout"
	partAWSCLI          = "awscli"
	partDescribe        = "describe"
	partCanary          = "canary"
	partFleet           = "fleet"
)

func allParts() []string {
	return []string{partCfnLint, partLint1000, partRender, partRerun, partPaymentsRollout, partRollout, partCanary, partAWSCLI, partDescribe, partFleet}
}

// stackParts are the parts with timed stack operations (-skip-rollout).
func stackParts() []string {
	return []string{partPaymentsRollout, partRollout, partCanary, partAWSCLI, partDescribe, partFleet}
}

type config struct {
	runs      int
	lintFiles int
	stackOp   time.Duration
	out       string
	docs      string
	aws       string
	logs      string
	skip      map[string]bool
	// fleetSizes and fleetOps are the fleet part's rounds (rollouts at
	// once) and stack operation times.
	fleetSizes []int
	fleetOps   []time.Duration
	// report rewrites the docs table from -out without measuring: for a
	// results file two runs' parts were merged into.
	report bool
}

func (c config) on(part string) bool { return !c.skip[part] }

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	c := config{skip: map[string]bool{}}
	fs.IntVar(&c.runs, "runs", 5, "runs of each short whole-process measurement (lint, cfn-lint, lint of 1,000, render); the median is kept")
	fs.IntVar(&c.lintFiles, "lint-files", 1000, "descriptors generated for the lint-in-one-process measurement")
	fs.DurationVar(&c.stackOp, "stack-op", 10*time.Second, "stack operation time of the 13-region rollout and the AWS CLI run (the issue's numbers are at 10s)")
	fs.StringVar(&c.out, "out", "bench/results.json", "where to write the results")
	fs.StringVar(&c.docs, "docs", "docs/benchmarks.md", `Markdown file whose generated section is replaced ("" leaves docs alone)`)
	fs.StringVar(&c.logs, "logs", "", "keep every gantry run's stderr (timestamped progress) and JSON log (debug level) in this folder, to see where a rollout's time goes")
	fs.BoolVar(&c.report, "report", false, "measure nothing: rewrite the generated section of -docs from the results in -out")
	fs.StringVar(&c.aws, "aws", ".venv-bench/bin/aws", "the pinned AWS CLI (bench/run installs it)")
	skip := fs.String("skip", "", "comma-separated parts to leave out: "+strings.Join(allParts(), ", "))
	skipRollout := fs.Bool("skip-rollout", false, "leave out every part with timed stack operations: "+strings.Join(stackParts(), ", "))
	sizes := fs.String("fleet-sizes", "1,5,20", "the fleet part's rounds: how many rollouts at once in each")
	ops := fs.String("fleet-ops", "10s,60s", "the fleet part's stack operation times, one series each")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.fleetSizes, c.fleetOps, err = parseFleet(*sizes, *ops); err != nil {
		return c, err
	}
	if c.runs < 1 || c.lintFiles < 1 || c.stackOp <= 0 {
		return c, errors.New("-runs, -lint-files and -stack-op must be positive")
	}
	for p := range strings.SplitSeq(*skip, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !slices.Contains(allParts(), p) {
			return c, fmt.Errorf("-skip %s: no such part (parts: %s)", p, strings.Join(allParts(), ", "))
		}
		c.skip[p] = true
	}
	if *skipRollout {
		for _, p := range stackParts() {
			c.skip[p] = true
		}
	}
	return c, nil
}

// parseFleet reads -fleet-sizes and -fleet-ops.
func parseFleet(sizes, ops string) ([]int, []time.Duration, error) {
	var ns []int
	for f := range strings.SplitSeq(sizes, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err != nil || n < 1 {
			return nil, nil, fmt.Errorf("-fleet-sizes %q: want positive whole numbers, comma-separated", sizes)
		}
		ns = append(ns, n)
	}
	var ds []time.Duration
	for f := range strings.SplitSeq(ops, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, nil, fmt.Errorf("-fleet-ops %q: want positive durations, comma-separated", ops)
		}
		ds = append(ds, d)
	}
	return ns, ds, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
	if _, err := os.Stat(payments); err != nil {
		fmt.Fprintf(os.Stderr, "bench: run from the repository root (bench/run does): %v\n", err)
		os.Exit(2)
	}
	// Ctrl-C cancels ctx: the running commands are killed and the deferred
	// cleanups stop the emulator and remove the temporary folder.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	if cfg.report {
		return report(cfg)
	}
	start := time.Now()
	tmp, err := os.MkdirTemp("", "gantry-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b := &bench{cfg: cfg, tmp: tmp, gantry: filepath.Join(tmp, "gantry")}
	if cfg.logs != "" {
		if err := os.MkdirAll(cfg.logs, 0o755); err != nil {
			return err
		}
	}

	// Stamped as `make build` does, so the results name the commit measured.
	stamp := firstLine(output(ctx, "git", "describe", "--tags", "--always", "--dirty"))
	if stamp == "unknown" { // not a git checkout
		stamp = "dev"
	}
	step("building gantry %s", stamp)
	if err := quiet(ctx, "go", "build", "-ldflags", "-X main.version="+stamp, "-o", b.gantry, "./cmd/gantry"); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	res := &Results{
		Date:      time.Now().UTC().Format(time.RFC3339),
		Machine:   machine(),
		LoadStart: loadAverage(),
		GoVersion: runtime.Version(),
		Gantry:    firstLine(output(ctx, b.gantry, "version")),
		Runs:      cfg.runs,
		Skipped:   skipped(cfg),
	}
	if cfg.on(partCfnLint) {
		res.CfnLint = firstLine(output(ctx, cfnLint, "--version"))
		step("lint: gantry lint vs cfn-lint on payments, %d runs each", cfg.runs)
		if res.Lint, err = b.benchLint(ctx); err != nil {
			return fmt.Errorf("lint: %w", err)
		}
	}
	if cfg.on(partLint1000) {
		step("lint: %d generated descriptors in one gantry lint, %d runs", cfg.lintFiles, cfg.runs)
		if res.Lint1000, err = b.benchLintMany(ctx); err != nil {
			return fmt.Errorf("lint of %d descriptors: %w", cfg.lintFiles, err)
		}
	}
	if cfg.on(partRender) {
		step("render: every stage and region of payments, %d runs", cfg.runs)
		if res.Render, err = b.benchRender(ctx); err != nil {
			return fmt.Errorf("render: %w", err)
		}
	}
	if err := b.emulatorParts(ctx, res); err != nil {
		return err
	}

	res.summarize()
	res.BenchSeconds = time.Since(start).Seconds()
	res.LoadEnd = loadAverage()
	if err := writeJSON(cfg.out, res); err != nil {
		return err
	}
	table := markdown(res)
	if cfg.docs != "" {
		if err := updateDocs(cfg.docs, table); err != nil {
			return err
		}
	}
	fmt.Print("\n" + table)
	fmt.Printf("\nwrote %s", cfg.out)
	if cfg.docs != "" {
		fmt.Printf(" and the generated section of %s", cfg.docs)
	}
	fmt.Printf(" (%.0f s)\n", res.BenchSeconds)
	return nil
}

// emulatorParts runs the parts that need the emulator, one after another,
// but the AWS CLI run (which sleeps 30 s between polls) and the describe
// count (which only counts) side by side, on one fresh emulator state, to
// keep the whole run near ten minutes.
func (b *bench) emulatorParts(ctx context.Context, res *Results) error {
	cfg := b.cfg
	if !slices.ContainsFunc(append([]string{partRerun}, stackParts()...), cfg.on) {
		return nil
	}
	step("starting the emulator")
	emu, stopEmu, err := emulatortest.StartMain()
	if err != nil {
		return err
	}
	defer stopEmu()
	b.emulator = emu.Endpoint

	if cfg.on(partRerun) {
		step("rerun: payments deploy, then the same again unchanged")
		if res.Rerun, err = b.benchRerun(ctx); err != nil {
			return fmt.Errorf("payments rerun: %w", err)
		}
	}
	if cfg.on(partPaymentsRollout) {
		step("payments rollout: fresh, %s per stack operation", paymentsStackOp)
		if res.PaymentsRollout, err = b.benchPaymentsRollout(ctx); err != nil {
			return fmt.Errorf("payments rollout: %w", err)
		}
	}
	if cfg.on(partRollout) {
		step("rollout: %s fresh (13 regions, waves of 1, 4, 8), %s per stack operation, then rerun unchanged", fleet, cfg.stackOp)
		if res.Fleet, err = b.benchFleetRollout(ctx); err != nil {
			return fmt.Errorf("13-region rollout: %w", err)
		}
	}
	if cfg.on(partCanary) {
		step("canary: %s's canary aborted by an alarm vs %s restored by redeploy, %s per stack operation, %d runs each", checkoutCanary, checkoutWhole, cfg.stackOp, canaryRuns)
		if res.Canary, err = b.benchCanary(ctx); err != nil {
			return fmt.Errorf("canary: %w", err)
		}
	}
	if !cfg.on(partAWSCLI) && !cfg.on(partDescribe) && !cfg.on(partFleet) {
		return nil
	}
	if err := b.resetEmulator(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	var awsErr, descErr, fleetErr error
	if cfg.on(partFleet) {
		// Its own account, so no reset; mostly waiting, as the AWS CLI is.
		step("fleet: %v rollouts at once under CloudFormation's quotas, %v stack operations", cfg.fleetSizes, cfg.fleetOps)
		wg.Go(func() { res.QuotaFleet, fleetErr = b.benchQuotaFleet(ctx) })
	}
	if cfg.on(partAWSCLI) {
		step("awscli: the same 13 regions with aws cloudformation deploy, one after another, %s per stack operation", cfg.stackOp)
		wg.Go(func() { res.AWSCLI13, awsErr = b.benchAWSCLI(ctx) })
	}
	if cfg.on(partDescribe) {
		step("describe: calls per stack operation, %s stack operations side by side", describeOps())
		wg.Go(func() { res.Describe, descErr = b.benchDescribe(ctx) })
	}
	wg.Wait()
	if awsErr != nil {
		return fmt.Errorf("awscli: %w", awsErr)
	}
	if res.AWSCLI13 != nil {
		res.AWSCLI = res.AWSCLI13.Version
	}
	if descErr != nil {
		return fmt.Errorf("describe calls: %w", descErr)
	}
	if fleetErr != nil {
		return fmt.Errorf("fleet: %w", fleetErr)
	}
	return nil
}

func skipped(cfg config) []string {
	var s []string
	for _, p := range allParts() {
		if !cfg.on(p) {
			s = append(s, p)
		}
	}
	return s
}

func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// report rewrites the docs table from a results file.
func report(cfg config) error {
	data, err := os.ReadFile(cfg.out)
	if err != nil {
		return fmt.Errorf("reading the results: %w", err)
	}
	// The summary and goals are derived: drop them and derive them again.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("reading %s: %w", cfg.out, err)
	}
	delete(raw, "summary")
	delete(raw, "goals")
	data, _ = json.Marshal(raw)
	var res Results
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("reading %s: %w", cfg.out, err)
	}
	res.summarize()
	return updateDocs(cfg.docs, markdown(&res))
}
