package lint

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// Run loads and checks files in parallel, at most GOMAXPROCS at a time. An
// unreadable file is an error; every defect inside a file is a finding. The
// result does not depend on the order in which files finish.
func Run(ctx context.Context, files []string) (Result, error) {
	files = slices.Clone(files)
	slices.Sort(files)
	files = slices.Compact(files)

	type outcome struct {
		findings []Finding
		src      []byte
		err      error
	}
	outs := make([]outcome, len(files))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for i := range jobs {
				if ctx.Err() != nil {
					continue
				}
				fs, src, err := lintFile(files[i])
				outs[i] = outcome{findings: fs, src: src, err: err}
				if err != nil {
					cancel() // no point checking the rest
				}
			}
		})
	}
feed:
	for i := range files {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()

	// An I/O error of ours comes before the cancellation it caused.
	for _, o := range outs {
		if o.err != nil {
			return Result{}, o.err
		}
	}
	// Only the caller cancels ctx now: our own cancel follows an error.
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("linting %d files: %w", len(files), err)
	}

	res := Result{Findings: []Finding{}, Files: len(files), Sources: make(map[string][]byte, len(files))}
	for i, o := range outs {
		res.Findings = append(res.Findings, o.findings...)
		res.Sources[files[i]] = o.src
	}
	res.Findings = normalize(res.Findings)
	return res, nil
}

// lintFile reads, loads and checks one file.
func lintFile(path string) ([]Finding, []byte, error) {
	src, err := descriptor.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	d, probs := descriptor.Parse(path, src)
	return merge(path, probs, Check(d)), src, nil
}

// Loaded lints a descriptor its caller has already read and parsed from
// src, so that what is linted is exactly what the caller acts on.
func Loaded(file string, src []byte, d *descriptor.Descriptor, probs []descriptor.Problem) Result {
	return Result{
		Findings: merge(file, probs, Check(d)),
		Files:    1,
		Sources:  map[string][]byte{file: src},
	}
}

// merge joins loader problems and lint findings. A lint finding at the very
// place of a loader problem is dropped: the value there did not load (a
// wrong type, say), so what the rule saw is not what the user wrote.
func merge(file string, probs []descriptor.Problem, lint []Finding) []Finding {
	out := fromProblems(file, probs)
	type start struct{ line, col int }
	bad := make(map[start]bool, len(probs))
	for _, p := range probs {
		bad[start{p.Line, p.Column}] = true
	}
	for _, f := range lint {
		if !bad[start{f.Line, f.Column}] {
			out = append(out, f)
		}
	}
	return normalize(out)
}
