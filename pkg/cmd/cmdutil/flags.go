package cmdutil

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/gantryhq/gantry/pkg/gate"
	"github.com/gantryhq/gantry/pkg/gate/flagd"
)

// FlagsUsage is the help text of --flags, the feature-flag provider shared
// by deploy, gates and flags eval.
const FlagsUsage = "flag provider: file:PATH (a flagd flag file) or launchdarkly (key in LAUNCHDARKLY_SDK_KEY); default $GANTRY_FLAGS"

// AddFlagsFlag defines --flags on fs.
func AddFlagsFlag(fs *pflag.FlagSet, spec *string) {
	fs.StringVar(spec, "flags", "", FlagsUsage)
}

// OpenFlags opens the provider that spec (or GANTRY_FLAGS) names, turning
// its errors into exit codes: 2 for no or a bad --flags value and for a flag
// file that cannot be used (its problems go to stderr, one per line with
// file:line:column), 1 for a provider that cannot be reached. Load
// warnings of a flag file go to stderr.
func OpenFlags(ctx context.Context, f *Factory, spec string) (*gate.Opened, error) {
	o, err := gate.OpenProvider(ctx, spec, gate.OpenOptions{Logger: f.Log(), Getenv: f.Env})
	var (
		se *gate.SpecError
		le *flagd.LoadError
	)
	switch {
	case err == nil:
	case errors.Is(err, gate.ErrNoProvider):
		return nil, UsageErrorf("%w", err)
	case errors.As(err, &se):
		return nil, UsageErrorf("%w", err)
	case errors.As(err, &le):
		if le.Err != nil {
			return nil, InputError(le)
		}
		for _, p := range le.Problems {
			fmt.Fprintf(f.IOStreams.ErrOut, "%s: error: %s\n", p.Pos, p.Message)
		}
		return nil, InputError(fmt.Errorf("flag file %s has %s; fix %s and run again", le.File, Plural(len(le.Problems), "problem"), them(len(le.Problems))))
	default:
		return nil, Failure(err)
	}
	if fp, ok := o.Provider.(*flagd.Provider); ok {
		if set := fp.FlagSet(); set != nil {
			for _, w := range set.Warnings {
				fmt.Fprintf(f.IOStreams.ErrOut, "%s: warning: %s\n", w.Pos, w.Message)
			}
		}
	}
	return o, nil
}
