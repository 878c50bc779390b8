package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

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

// LintManyResult is one gantry lint process over many generated
// descriptors.
type LintManyResult struct {
	Files    int       `json:"files"`
	Bytes    int64     `json:"bytes"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	RunsMS   []float64 `json:"runs_ms"`
	MedianMS float64   `json:"median_ms"`
	Seconds  float64   `json:"lint_1000_seconds"`
	Command  string    `json:"command"`
}

func (b *bench) benchLint(ctx context.Context) (*LintResult, error) {
	dir := filepath.Join(b.tmp, "render-lint")
	if err := quiet(ctx, b.gantry, "render", payments, "--out", dir, "--version", version); err != nil {
		return nil, fmt.Errorf("gantry render: %w", err)
	}
	var templates []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".template.json") {
			templates = append(templates, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(templates)
	if len(templates) == 0 {
		return nil, fmt.Errorf("gantry render wrote no templates under %s", dir)
	}
	if err := quiet(ctx, b.gantry, "lint", payments); err != nil {
		return nil, fmt.Errorf("gantry lint %s: %w", payments, err)
	}
	r := &LintResult{Templates: len(templates), Goal: ">= 50"}
	if r.GantryRunsMS, _, err = timedRuns(ctx, b.cfg.runs, b.gantry, "lint", payments); err != nil {
		return nil, err
	}
	cfnArgs := append([]string{"--ignore-checks", "W3691", "--"}, templates...)
	if r.CfnLintRunsMS, r.CfnLintExit, err = timedRuns(ctx, b.cfg.runs, cfnLint, cfnArgs...); err != nil {
		return nil, err
	}
	r.GantryMedianMS = median(r.GantryRunsMS)
	r.CfnLintMedianMS = median(r.CfnLintRunsMS)
	r.Speedup = r.CfnLintMedianMS / r.GantryMedianMS
	return r, nil
}

// benchLintMany lints -lint-files generated descriptors (generate.go) in
// one gantry lint process, the folder given once.
func (b *bench) benchLintMany(ctx context.Context) (*LintManyResult, error) {
	dir := filepath.Join(b.tmp, "descriptors")
	files, err := generateDescriptors(dir, b.cfg.lintFiles, 1)
	if err != nil {
		return nil, fmt.Errorf("generating descriptors: %w", err)
	}
	r := &LintManyResult{Files: len(files), Command: "gantry lint <folder of generated descriptors>"}
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			r.Bytes += st.Size()
		}
	}
	// One run for the findings (and to warm the page cache), then the timed ones.
	out, err := exec.CommandContext(ctx, b.gantry, "lint", dir, "--output", "json").Output()
	if err != nil {
		return nil, fmt.Errorf("gantry lint %s (the generated descriptors must be clean): %w", dir, err)
	}
	var summary struct {
		Summary struct{ Files, Errors, Warnings int }
	}
	if err := json.Unmarshal(out, &summary); err != nil {
		return nil, fmt.Errorf("gantry lint --output json: %w", err)
	}
	if summary.Summary.Files != len(files) {
		return nil, fmt.Errorf("gantry lint checked %d files, %d were written", summary.Summary.Files, len(files))
	}
	r.Errors, r.Warnings = summary.Summary.Errors, summary.Summary.Warnings
	for range b.cfg.runs {
		ms, err := timedOK(ctx, b.gantry, "lint", dir)
		if err != nil {
			return nil, err
		}
		r.RunsMS = append(r.RunsMS, ms)
	}
	r.MedianMS = median(r.RunsMS)
	r.Seconds = r.MedianMS / 1000
	return r, nil
}
