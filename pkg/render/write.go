package render

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// Options selects what WriteAll renders.
type Options struct {
	// Stages and Regions filter what is rendered; empty means all.
	Stages, Regions []string
	// Version is the image tag; "" means "latest".
	Version string
	// Format is "json" (the default when "") or "yaml".
	Format string
}

// Targets lists the (stage, region) pairs o selects, stages in file order
// and regions in wave order. An unknown stage, or a region in none of the
// selected stages, is an error.
func Targets(d *descriptor.Descriptor, o Options) ([]Target, error) {
	if d == nil {
		return nil, fmt.Errorf("rendering: no descriptor")
	}
	var stages []*descriptor.Stage
	if len(o.Stages) == 0 {
		for i := range d.Stages {
			stages = append(stages, &d.Stages[i])
		}
	} else {
		for _, name := range o.Stages {
			st, err := findStage(d, name)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(stages, st) {
				stages = append(stages, st)
			}
		}
		// Render in file order whatever order the flags came in.
		slices.SortFunc(stages, func(a, b *descriptor.Stage) int { return stageIndex(d, a) - stageIndex(d, b) })
	}
	found := map[string]bool{}
	var out []Target
	for _, st := range stages {
		for _, r := range stageRegions(st) {
			if len(o.Regions) > 0 && !slices.Contains(o.Regions, r) {
				continue
			}
			found[r] = true
			out = append(out, Target{Stage: st.Name, Region: r, Account: st.Account, Version: o.Version})
		}
	}
	for _, r := range o.Regions {
		if found[r] {
			continue
		}
		var names, regions []string
		for _, st := range stages {
			names = append(names, st.Name)
			for _, sr := range stageRegions(st) {
				if !slices.Contains(regions, sr) {
					regions = append(regions, sr)
				}
			}
		}
		if len(names) == 1 {
			return nil, fmt.Errorf("region %q is not in stage %q (its regions: %s)", r, names[0], strings.Join(regions, ", "))
		}
		return nil, fmt.Errorf("region %q is in none of the stages %s (their regions: %s)", r, strings.Join(names, ", "), strings.Join(regions, ", "))
	}
	return out, nil
}

func stageIndex(d *descriptor.Descriptor, st *descriptor.Stage) int {
	for i := range d.Stages {
		if &d.Stages[i] == st {
			return i
		}
	}
	return len(d.Stages)
}

// WriteAll renders every selected (stage, region) and writes
// DIR/<stage>/<region>/<stack>.template.<json|yaml> with
// <stack>.parameters.json beside it. It returns the paths written, sorted.
// Everything is rendered before anything is written, so an error leaves
// DIR untouched.
func WriteAll(d *descriptor.Descriptor, dir string, o Options) ([]string, error) {
	return WriteAllContext(context.Background(), d, dir, o)
}

// WriteAllContext is WriteAll that stops between targets when ctx is done
// (Ctrl-C on a descriptor of many stages and regions), writing nothing.
func WriteAllContext(ctx context.Context, d *descriptor.Descriptor, dir string, o Options) ([]string, error) {
	format := o.Format
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "yaml" {
		return nil, fmt.Errorf("unknown template format %q: use json or yaml", o.Format)
	}
	targets, err := Targets(d, o)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rendering: %w", err)
		}
		stacks, err := Render(d, t)
		if err != nil {
			return nil, err
		}
		base := filepath.Join(dir, t.Stage, t.Region)
		for _, s := range stacks {
			tpl, err := s.Encode(format)
			if err != nil {
				return nil, err
			}
			params, err := s.EncodeParameters()
			if err != nil {
				return nil, fmt.Errorf("encoding the parameters of %s: %w", s.Name, err)
			}
			files[filepath.Join(base, s.Name+".template."+format)] = tpl
			files[filepath.Join(base, s.Name+".parameters.json")] = params
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("writing templates: %w", err)
		}
		if err := writeAtomic(p, files[p], writeAll); err != nil {
			return nil, fmt.Errorf("writing templates: %w", err)
		}
	}
	return paths, nil
}

func writeAll(w io.Writer, b []byte) error {
	_, err := w.Write(b)
	return err
}

// writeAtomic writes data to a temporary file beside path and renames it
// over path, so that a full disk or a crash leaves the old file or none,
// never a short or empty template that a later deploy would read. write
// writes the bytes (tests make it fail).
func writeAtomic(path string, data []byte, write func(io.Writer, []byte) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp, data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
