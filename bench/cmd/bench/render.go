package main

import (
	"context"
	"os"
	"path/filepath"
)

// RenderResult is whole-process gantry render of every stage and region of
// payments.
type RenderResult struct {
	RunsMS   []float64 `json:"runs_ms"`
	MedianMS float64   `json:"render_payments_ms"`
	Files    int       `json:"files_written"`
	Command  string    `json:"command"`
}

func (b *bench) benchRender(ctx context.Context) (*RenderResult, error) {
	dir := filepath.Join(b.tmp, "render")
	args := []string{"render", payments, "--out", dir, "--version", version}
	if err := quiet(ctx, b.gantry, args...); err != nil {
		return nil, err
	}
	r := &RenderResult{Command: "gantry render " + payments + " --out DIR --version " + version}
	if err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			r.Files++
		}
		return err
	}); err != nil {
		return nil, err
	}
	for range b.cfg.runs {
		// Each run writes into an empty folder, as a first render does.
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		ms, err := timedOK(ctx, b.gantry, args...)
		if err != nil {
			return nil, err
		}
		r.RunsMS = append(r.RunsMS, ms)
	}
	r.MedianMS = median(r.RunsMS)
	return r, nil
}
