// Package deploy implements `gantry deploy`, the staged rollout.
package deploy

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil/preflight"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/gate"
	"github.com/gantryhq/gantry/pkg/progress"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// Options are deploy's flags and arguments.
type Options struct {
	File          string
	Version       string
	Stages        []string
	Approve       []string
	GateWait      time.Duration
	Bake          string
	AllowDataLoss string
	Output        string
	Flags         string
}

// NewCmd builds the deploy command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "deploy FILE --version V [flags]",
		Short: "Roll a version out through the stages, waves and regions",
		Long: `Roll VERSION (the image tag) out through the descriptor's stages in file
order (or the --stage ones), each stage's waves in order and each wave's
regions in parallel (at most maxParallel at a time). A region: gate check,
data stack, app stack (CloudFormation change sets), then the wave's bake,
watching its alarms and the halt flag.

Re-running the same command resumes: a region whose stacks already carry the
version and template hash, and whose bake finished, is "unchanged" and costs
one describe call; one whose bake was cut short (Ctrl-C, SIGTERM, kill, the
halt flag) is baked again, whole, before anything after it starts. Every
alarm of rollout.alarms must exist in every region before anything changes
(exit 2 naming the missing one).

Ctrl-C (or SIGTERM) cancels the stack updates in flight and waits for
CloudFormation to roll them back, saying which; a second Ctrl-C stops
waiting and leaves the lock for gantry unlock.
One rollout per (service, stage) at a time holds a lock in the stage's state
table (gantry unlock breaks a stale one).

When the descriptor names rollout.gate or rollout.halt, the flags are read
through --flags file:PATH|launchdarkly (or GANTRY_FLAGS); without a provider
the command refuses to start (exit 2). A closed gate holds its region; any
flag error holds too (fail closed).

A stage with approval: true starts only with --approve STAGE, or a yes at the
prompt on a terminal, which shows the version, account, regions and the
stage's plan in a line. A change that would replace or delete a database,
cache or bucket is refused unless --allow-data-loss (all of them) or
--allow-data-loss=RESOURCE[,RESOURCE] (only those: descriptor names or
logical IDs); each one allowed is a warning, a journal entry and a note.

Progress goes to stderr. --output json prints one object on one line at the
end: {"service", "version", "result": "succeeded|failed|held", "regions":
[{"stage", "region", "wave", "status": "deployed|unchanged|failed|held|
rolled-back|pending", "stacks": [...], "error"}], "rolloutId", "notes":
[...]}. With text output the summary line goes to stdout. With
$GITHUB_STEP_SUMMARY
set, a Markdown table of the result is appended to that file.

Exit status: 0 succeeded, 1 failed (every region is listed), 2 bad usage,
invalid descriptor, or a set-up problem found before any stage starts (no
credentials, an unknown profile, an unreachable endpoint, a deploy role that
cannot be assumed, a stage without its state table: run the bootstrap it
names), 3 held (closed gate, halt flag, missing approval): run it again to
resume.`,
		Example: `  $ gantry deploy payments.sd.yaml --version 1.4.2 --stage dev
  $ gantry deploy payments.sd.yaml --version "$GIT_SHA" --approve prod --output json --flags file:flags.json
  $ gantry deploy payments.sd.yaml --version 1.4.2 --gate-wait 30m   # wait for closed gates to open
  $ gantry deploy payments.sd.yaml --version 1.4.3 --bake 0s   # emergency fix: no bake, loudly`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(cmd, f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Version, "version", "", "version to deploy: the image tag (required)")
	fl.StringSliceVar(&opts.Stages, "stage", nil, "deploy only this stage (repeat for several; default all, in file order)")
	fl.StringSliceVar(&opts.Approve, "approve", nil, "approve this stage (repeat for several)")
	fl.DurationVar(&opts.GateWait, "gate-wait", 0, "wait this long for a closed gate to open, polling")
	fl.StringVar(&opts.Bake, "bake", "", "replace every bake time for this run, e.g. 0s (emergencies, tests)")
	cmdutil.AddDataLossFlag(fl, &opts.AllowDataLoss)
	cmdutil.AddOutputFlag(cmd, &opts.Output, "text", "json")
	cmdutil.AddFlagsFlag(fl, &opts.Flags)
	return cmd
}

func run(cmd *cobra.Command, f *cmdutil.Factory, opts *Options) error {
	ctx := cmd.Context()
	bake, err := checkFlags(opts)
	if err != nil {
		return err
	}
	d, p, err := cmdutil.LoadPlan(ctx, f, opts.File, opts.Stages, nil)
	if err != nil {
		return err
	}
	if err := cmdutil.CheckSelection(d, opts.Approve, nil); err != nil {
		return err
	}
	eng := &deploy.Engine{Logger: f.Log(), ErrorText: awsx.Brief}
	if d.Rollout.Gate != "" || d.Rollout.Halt != "" || (d.Rollout.Canary != nil && d.Rollout.Canary.WeightFlag != "") {
		// The descriptor names flags: no provider is bad usage (exit 2,
		// nothing touched), and from here every failure holds (fail closed).
		opened, err := cmdutil.OpenFlags(ctx, f, opts.Flags)
		if err != nil {
			return err
		}
		defer opened.Close()
		g := gate.New(opened.Client, d, gate.Options{Logger: f.Log(), Describe: opened.Spec.String()})
		defer g.Close()
		eng.Gate = g
	}
	// A set-up problem is said once, before any stage is locked (after the
	// flags: a deploy refused for bad usage makes no AWS call at all).
	backend, _, err := preflight.Backend(ctx, f, p, preflight.Check{File: opts.File, Stages: p.Stages})
	if err != nil {
		return err
	}
	obs, stop := progress.ForStderr(f.IOStreams, opts.Output == "json")
	defer stop()
	eng.Backend, eng.Approver, eng.Observer = backend, approver(f, opts.Approve, obs), obs
	res, err := eng.Run(ctx, deploy.Request{
		Descriptor:    d,
		Plan:          p,
		Version:       opts.Version,
		BakeOverride:  bake,
		GateWait:      opts.GateWait,
		AllowDataLoss: deploy.ParseDataLossConsent(opts.AllowDataLoss),
		RolloutID:     rollout.NewID(f.TimeNow()),
	})
	stop()
	if err != nil {
		return cmdutil.InputError(err)
	}
	if err := report(f, opts, res); err != nil {
		return err
	}
	if code := res.ExitCode(); code != 0 {
		return cmdutil.SilentExit(code)
	}
	return nil
}

// checkFlags refuses bad flag values before anything is read (exit 2) and
// returns the --bake override, nil when not given.
func checkFlags(opts *Options) (*time.Duration, error) {
	if opts.Version == "" {
		return nil, cmdutil.UsageErrorf("--version is required: the image tag to deploy")
	}
	if err := cmdutil.OneOf("output", opts.Output, "text", "json"); err != nil {
		return nil, err
	}
	if opts.Bake == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(opts.Bake)
	if err != nil || d < 0 {
		return nil, cmdutil.UsageErrorf("--bake %q is not a duration such as 0s or 5m", opts.Bake)
	}
	return &d, nil
}

// report prints the result (text summary or the JSON object) and appends
// the Markdown table to $GITHUB_STEP_SUMMARY when it is set.
func report(f *cmdutil.Factory, opts *Options, res *rollout.Result) error {
	ios := f.IOStreams
	if opts.Output == "json" {
		if err := cmdutil.WriteJSON(ios.Out, res); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(ios.Out, res.Summary())
	}
	if path := f.Env("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendFile(path, progress.Markdown(res)); err != nil {
			fmt.Fprintf(ios.ErrOut, "warning: writing the step summary: %v\n", err)
		}
	}
	return nil
}

func appendFile(path, text string) error {
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fh.WriteString(text); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
