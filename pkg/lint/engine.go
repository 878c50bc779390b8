package lint

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/gantryhq/gantry/internal/crash"
	"github.com/gantryhq/gantry/pkg/descriptor"
)

// Run loads and checks files in parallel, at most GOMAXPROCS at a time. A
// file that cannot be read (permissions, a named pipe, a folder) is a
// finding beside the others' findings; every defect inside a file is a
// finding. The error is for the caller's cancellation and for a crash
// (a *crash.Panic), never for the input. The result does not depend on the
// order in which files finish.
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
				fs, src, err := lintFile(ctx, files[i])
				outs[i] = outcome{findings: fs, src: src, err: err}
				if err != nil {
					cancel() // a crash: no point checking the rest
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

	// A crash comes before the cancellation it caused.
	for _, o := range outs {
		if o.err != nil {
			return Result{}, o.err
		}
	}
	// Only the caller cancels ctx now: our own cancel follows a crash.
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

// lintFile reads, loads and checks one file. A panic is returned as a
// *crash.Panic: it would otherwise end the process from this goroutine.
func lintFile(ctx context.Context, path string) (fs []Finding, src []byte, err error) {
	defer crash.Catch(&err)
	src, err = descriptor.ReadFileContext(ctx, path)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", path, ctx.Err())
		}
		return []Finding{unreadable(path, err)}, nil, nil
	}
	d, probs := descriptor.ParseContext(ctx, path, src)
	if ctx.Err() != nil {
		return nil, nil, fmt.Errorf("loading %s: %w", path, ctx.Err())
	}
	return capFindings(merge(path, probs, Check(d))), src, nil
}

// unreadable is the finding for a file that could not be read.
func unreadable(path string, err error) Finding {
	return Finding{File: path, Span: descriptor.Span{Line: 1, Column: 1, EndLine: 1, EndColumn: 1},
		Severity: Error, Rule: descriptor.CodeSyntax, Message: fmt.Sprintf("cannot read the file: %v", err)}
}

// WithSkipped adds a finding for each file a folder search skipped (a named
// pipe, say), beside the findings of the files that were read.
func (r Result) WithSkipped(skipped []descriptor.Skipped) Result {
	if len(skipped) == 0 {
		return r
	}
	out := r
	out.Findings = slices.Clone(r.Findings)
	for _, s := range skipped {
		out.Findings = append(out.Findings, Finding{File: s.Path, Span: descriptor.Span{Line: 1, Column: 1, EndLine: 1, EndColumn: 1},
			Severity: Error, Rule: descriptor.CodeSyntax, Message: "skipped: " + s.Reason})
	}
	out.Files += len(skipped)
	out.Findings = normalize(out.Findings)
	return out
}

// Output bounds: a hostile or broken file must not print megabytes.
const (
	// MaxFindingsPerFile is how many findings of one file are reported;
	// a last one says how many more there were.
	MaxFindingsPerFile = 100
	// maxMessage is the longest message kept, in bytes.
	maxMessage = 500
)

// capFindings keeps the first MaxFindingsPerFile findings of one file
// (sorted), shortens long messages, and says how many were left out. The
// last finding is an error when any left out was.
func capFindings(fs []Finding) []Finding {
	for i := range fs {
		if len(fs[i].Message) > maxMessage {
			fs[i].Message = strings.ToValidUTF8(fs[i].Message[:maxMessage], "") + "…"
		}
	}
	if len(fs) <= MaxFindingsPerFile {
		return fs
	}
	kept, hidden := fs[:MaxFindingsPerFile-1], fs[MaxFindingsPerFile-1:]
	last := hidden[0]
	sev := Warning
	for _, f := range hidden {
		if f.Severity == Error {
			sev = Error
		}
	}
	return append(kept, Finding{File: last.File, Span: last.Span, Severity: sev, Rule: last.Rule,
		Message: fmt.Sprintf("%d more findings in this file are not shown; fix these first", len(hidden))})
}

// Loaded lints a descriptor its caller has already read and parsed from
// src, so that what is linted is exactly what the caller acts on.
func Loaded(file string, src []byte, d *descriptor.Descriptor, probs []descriptor.Problem) Result {
	return Result{
		Findings: capFindings(merge(file, probs, Check(d))),
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
