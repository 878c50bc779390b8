package cmdutil

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/lint"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/safetext"
)

// LoadDescriptor reads file once, loads it, and refuses it (exit 2) when it has load
// problems or lint errors, printing them to stderr. Every command that acts
// on a descriptor starts here, so none acts on one that lint rejects.
func LoadDescriptor(ctx context.Context, f *Factory, file string) (*descriptor.Descriptor, error) {
	ios := f.IOStreams
	src, err := descriptor.ReadFileContext(ctx, file)
	if err != nil {
		return nil, InputError(err)
	}
	d, probs := descriptor.ParseContext(ctx, file, src)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("loading %s: %w", file, err)
	}
	if len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintf(ios.ErrOut, "%s:%d:%d: error %s: %s\n", safetext.Terminal(file), p.Line, p.Column, p.Code, safetext.Terminal(p.Message))
		}
		return nil, InputError(fmt.Errorf("%s has %s; fix %s and run again", file, Plural(len(probs), "problem"), them(len(probs))))
	}
	// Rules beyond loading (Fargate sizes, undeclared resources, ...) would
	// otherwise surface only at deploy time.
	res := lint.Loaded(file, src, d, nil)
	if n := res.Errors(); n > 0 {
		if err := lint.Write(ios.ErrOut, lint.FormatText, errorsOnly(res), lint.WriteOptions{Color: ios.ColorEnabledStderr(), ToolVersion: f.Version}); err != nil {
			return nil, fmt.Errorf("writing findings: %w", err)
		}
		return nil, InputError(fmt.Errorf("%s has %s; fix %s and run again (gantry lint %s)", file, Plural(n, "lint error"), them(n), file))
	}
	return d, nil
}

// errorsOnly keeps the error findings: the refusal is about them, and
// warnings belong to gantry lint.
func errorsOnly(r lint.Result) lint.Result {
	out := r
	out.Findings = nil
	for _, fd := range r.Findings {
		if fd.Severity == lint.Error {
			out.Findings = append(out.Findings, fd)
		}
	}
	return out
}

// CheckSelection refuses --stage and --region values the descriptor does
// not have, so a typo is not a silent no-op.
func CheckSelection(d *descriptor.Descriptor, stages, regions []string) error {
	var names []string
	regionsOf := map[string]bool{}
	for _, st := range d.Stages {
		names = append(names, st.Name)
		if len(stages) > 0 && !slices.Contains(stages, st.Name) {
			continue
		}
		for _, w := range st.Waves {
			for _, r := range w.Regions {
				regionsOf[r] = true
			}
		}
	}
	for _, s := range stages {
		if !slices.Contains(names, s) {
			msg := fmt.Sprintf("no stage %q in %s; stages are %s", s, d.File, strings.Join(names, ", "))
			if sug := descriptor.Suggest(s, names); sug != "" {
				msg = fmt.Sprintf("no stage %q in %s; did you mean %q?", s, d.File, sug)
			}
			return UsageErrorf("%s", msg)
		}
	}
	for _, r := range regions {
		if !regionsOf[r] {
			known := make([]string, 0, len(regionsOf))
			for k := range regionsOf {
				known = append(known, k)
			}
			slices.Sort(known)
			return UsageErrorf("no selected stage deploys to region %q; regions are %s", r, strings.Join(known, ", "))
		}
	}
	return nil
}

// Plural gives "1 file" or "3 files".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// LoadPlan loads file (LoadDescriptor), refuses --stage and --region values
// it does not have (CheckSelection), and builds the plan of stages (all
// when none): the start of every command that acts on a stage.
func LoadPlan(ctx context.Context, f *Factory, file string, stages, regions []string) (*descriptor.Descriptor, *plan.Plan, error) {
	d, err := LoadDescriptor(ctx, f, file)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckSelection(d, stages, regions); err != nil {
		return nil, nil, err
	}
	p, err := plan.Build(d, stages)
	if err != nil {
		return nil, nil, InputError(err)
	}
	return d, p, nil
}
