// Package rollback implements `gantry rollback`: redeploy the exact
// templates and parameters of an earlier version in one (stage, region).
package rollback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil/preflight"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/iostreams"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/progress"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// Options are rollback's flags and arguments.
type Options struct {
	File          string
	Stage         string
	Region        string
	To            string
	AllowDataLoss string
	Yes           bool
	Output        string
}

// NewCmd builds the rollback command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "rollback FILE --stage S --region R [--to V] [flags]",
		Short: "Redeploy an earlier version's exact templates in one region",
		Long: `Redeploy the exact templates and parameters, byte for byte, that an
earlier version was deployed with in one (stage, region), as recorded in the
stage's state table: --to VERSION, or by default the version deployed
before the one the app stack runs now, in the order versions were first
deployed there. Two rollbacks in a row go back two versions; a rollback
never goes forward to a version deployed after the one running now (with
1.0.0, 1.1.0 and 1.2.0 deployed: 1.1.0, then 1.0.0, then nothing older).

The data stack goes first (unchanged unless the versions differ there),
then the app stack. The stage's rollout lock is held meanwhile, as for a
deploy, and the rollback is written to the stage's journal. A rollback that
would replace or delete a database, cache or bucket is refused unless
--allow-data-loss.

On a terminal gantry asks before it starts, holding the stage's lock
(--yes skips the question); without one it does not ask: the command
already names what to do.

The descriptor is read for the service, the stage's account and regions
and its tags; the templates come from the state table, not from rendering
the descriptor again. A later "gantry deploy" of a newer version deploys it
again as usual.

--output json prints one object on one line, the shape of gantry deploy's
result with the one region.

Exit status: 0 rolled back (or already at that version), 1 failed, the
lock is held, or the question was declined, 2 bad usage, an invalid
descriptor, no such version recorded (the recorded ones are listed), or a
set-up problem (no credentials, an unreachable endpoint, no state table).`,
		Example: `  # back to whatever ran before the current version
  $ gantry rollback payments.sd.yaml --stage prod --region us-east-1

  # back to a named version, from CI
  $ gantry rollback payments.sd.yaml --stage prod --region eu-west-1 --to 1.4.1 --output json`,
		Args: cmdutil.ExactArgs(1, "one descriptor FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Stage, "stage", "", "stage to roll back (required)")
	fl.StringVar(&opts.Region, "region", "", "region of the stage to roll back (required)")
	fl.StringVar(&opts.To, "to", "", "version to go back to (default: the one deployed before the current one)")
	cmdutil.AddDataLossFlag(fl, &opts.AllowDataLoss)
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation on a terminal")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "text", "json")
	return cmd
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	switch {
	case opts.Stage == "":
		return cmdutil.UsageErrorf("--stage is required: the stage to roll back")
	case opts.Region == "":
		return cmdutil.UsageErrorf("--region is required: a rollback acts on one region of a stage")
	}
	if err := cmdutil.OneOf("output", opts.Output, "text", "json"); err != nil {
		return err
	}
	d, p, err := cmdutil.LoadPlan(ctx, f, opts.File, []string{opts.Stage}, []string{opts.Region})
	if err != nil {
		return err
	}
	st, _ := p.Stage(opts.Stage)
	backend, _, err := preflight.Backend(ctx, f, p, preflight.Check{File: opts.File, Stages: []plan.Stage{st}})
	if err != nil {
		return err
	}
	obs, stop := progress.ForStderr(f.IOStreams, opts.Output == "json")
	defer stop()
	var target deploy.RollbackTarget
	eng := &deploy.Engine{
		Backend:  backend,
		Observer: obs,
		Logger:   f.Log(),
	}
	res, err := eng.Rollback(ctx, deploy.RollbackRequest{
		Descriptor: d, Plan: p, Stage: opts.Stage, Region: opts.Region, To: opts.To, AllowDataLoss: deploy.ParseDataLossConsent(opts.AllowDataLoss),
		Confirm: func(_ context.Context, t deploy.RollbackTarget) (bool, error) {
			target = t
			return confirm(f, opts, obs, t)
		},
	})
	stop()
	if err != nil {
		return rollbackError(err)
	}
	if err := report(f, opts, target, res); err != nil {
		return err
	}
	if res.Result != rollout.Succeeded {
		return cmdutil.SilentExit(cmdutil.ExitError) // the progress view showed why
	}
	return nil
}

// writeJSON prints the result as a deploy's JSON, plus the versions the
// rollback went from and to.
func writeJSON(ios *iostreams.IOStreams, t deploy.RollbackTarget, res *rollout.Result) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encoding the result: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("encoding the result: %w", err)
	}
	out["to"] = res.Version
	if t.To != nil {
		out["from"] = t.Current.Version
	}
	return cmdutil.WriteJSON(ios.Out, out)
}

// rollbackError gives an engine error its exit code: 2 for a version that
// is not recorded, 1 for everything else (a held lock, a cancellation).
func rollbackError(err error) error {
	var nr *deploy.NotRecordedError
	if errors.As(err, &nr) {
		return cmdutil.InputError(err)
	}
	return cmdutil.Failure(err)
}

// confirm asks on a terminal unless --yes; without one it says that it
// does not ask.
func confirm(f *cmdutil.Factory, opts *Options, obs rollout.Observer, t deploy.RollbackTarget) (bool, error) {
	if opts.Yes {
		return true, nil
	}
	if !f.Prompt().CanPrompt() {
		fmt.Fprintf(f.IOStreams.ErrOut, "no terminal: rolling back without asking (the command names what to do)\n")
		return true, nil
	}
	if tty, ok := obs.(*progress.TTY); ok {
		tty.Pause()
		defer tty.Resume()
	}
	return f.Prompt().Confirm(fmt.Sprintf("Roll %s back from %s to %s?", t.Where, t.From(), t.To.Version))
}

// report prints the result: one line of text, or the result's JSON.
func report(f *cmdutil.Factory, opts *Options, t deploy.RollbackTarget, res *rollout.Result) error {
	ios := f.IOStreams
	if opts.Output == "json" {
		return writeJSON(ios, t, res)
	}
	rr := res.Regions[0]
	where := res.Service + "/" + rr.Stage + "/" + rr.Region
	var line string
	switch rr.Status {
	case rollout.StatusUnchanged:
		line = fmt.Sprintf("unchanged: %s already runs %s", where, res.Version)
	case rollout.StatusRolledBack:
		line = fmt.Sprintf("rolled back: %s from %s to %s", where, t.From(), res.Version)
	default:
		line = fmt.Sprintf("failed: %s not rolled back to %s (the error is above)", where, res.Version)
	}
	if s := progress.DescribeStacks(rr.Stacks); s != "" && rr.Status != rollout.StatusFailed {
		line += " (" + s + ")"
	}
	fmt.Fprintln(ios.Out, line)
	return nil
}
