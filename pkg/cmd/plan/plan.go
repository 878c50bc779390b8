// Package plan implements `gantry plan`, a change-set preview of one stage:
// what a deploy would create, update or replace in every region, without
// changing anything.
package plan

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil/preflight"
	"github.com/gantryhq/gantry/pkg/deploy"
)

// MaxParallel bounds how many regions are planned at once.
const MaxParallel = 8

// Options are plan's flags and arguments.
type Options struct {
	File     string
	Stage    string
	Version  string
	Output   string
	ExitCode bool
}

// NewCmd builds the plan command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "plan FILE --stage S [flags]",
		Short: "Preview what a deploy would change in every region of a stage",
		Long: `Preview a deploy of one stage: for every region, render the stacks for
VERSION, make a CloudFormation change set per stack (data stack first), list
its changes, and delete it. Nothing is executed, and no change set or new
stack is left behind (the empty stack a change set for a new stack makes is
deleted too). Regions are planned in parallel.

VERSION defaults to the version the region's app stack runs now (its
gantry:version tag), else "latest", so that a plan without --version shows
what changed in the descriptor. The app stack's listener rule keeps its
priority; a new one's is allocated at deploy.

Per stack the action is create, update or no changes ("unchanged" in JSON),
with each resource change's action (Add, Modify, Remove), logical id, type,
and Replacement (True, False, Conditional) with the properties that cause
it. A change that replaces or deletes a database, cache, bucket or secret is
marked as data loss: gantry deploy refuses it without --allow-data-loss.
When a stage's data stack does not exist yet, the change sets of the
stacks that import its exports (the app stack, the release stack) cannot be
made: they are shown as created, their resources read from the template.
For a service with release tasks the plan says, per region, whether each
will run with the version or already succeeded for it.

--output json prints one object on one line:
  {"service","stage","version","regions":[{"region","account","version",
   "stacks":[{"name","kind","action","changes":[{"action","logicalId","type",
   "replacement","causes":[...],"dataLoss"}],"notes":[...]}],"canary":{"runs",
   "why","stableVersion","steps","stepBake","weightFlag","alarms"},"error"}],
   "summary":{"changes","dataLoss","errors"}}
("canary" only in a stage with rollout.canary: whether a deploy would run
it in the region — not at a first deploy, nor when the image is unchanged.)
--output markdown prints a table per region, ready for a pull-request comment.

Exit status: 0 when the plan was made; with --exit-code, 4 when it was made
and any region has changes (so 0 means "nothing to deploy"), a code no
error uses; 1 when a region could not be planned (each distinct error once, with its regions); 2 bad usage, invalid
descriptor, or a set-up problem found before planning (no credentials, an
unknown profile, an unreachable endpoint, no state table: run the
bootstrap it names).`,
		Example: `  $ gantry plan payments.sd.yaml --stage staging
  $ gantry plan payments.sd.yaml --stage prod --version 1.4.2 --output markdown >> "$GITHUB_STEP_SUMMARY"
  $ gantry plan payments.sd.yaml --stage dev --version "$GIT_SHA" --output json | jq '.summary'
  $ gantry plan payments.sd.yaml --stage prod --exit-code; [ $? -eq 4 ] && echo "prod has changes"`,
		Args: cmdutil.ExactArgs(1, "one descriptor FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(cmd, f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Stage, "stage", "", "stage to plan (required)")
	fl.StringVar(&opts.Version, "version", "", "version (image tag) to plan (default: what each region runs now, else \"latest\")")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "text", "json", "markdown")
	fl.BoolVar(&opts.ExitCode, "exit-code", false, "exit 4 when any region has changes (0 when there is nothing to deploy)")
	return cmd
}

func run(cmd *cobra.Command, f *cmdutil.Factory, opts *Options) error {
	ctx := cmd.Context()
	ios := f.IOStreams
	if opts.Stage == "" {
		return cmdutil.UsageErrorf("--stage is required: the stage to plan")
	}
	if err := cmdutil.CheckOutput(cmd, opts.Output, "text", "json", "markdown"); err != nil {
		return err
	}
	d, p, err := cmdutil.LoadPlan(ctx, f, opts.File, []string{opts.Stage}, nil)
	if err != nil {
		return err
	}
	st := p.Stages[0]
	eng := &deploy.Engine{Logger: f.Log(), ErrorText: awsx.Brief}
	req := deploy.PreviewRequest{Descriptor: d, Plan: p, Stage: st.Name, Version: opts.Version}
	// A version or descriptor that cannot render is bad input: refused
	// before any AWS call.
	if err := eng.CheckRenders(d, st, opts.Version); err != nil {
		return cmdutil.InputError(err)
	}
	// A set-up problem is said once, not once per region.
	backend, _, err := preflight.Backend(ctx, f, p, preflight.Check{File: opts.File, Stages: p.Stages})
	if err != nil {
		return err
	}
	eng.Backend = backend
	fmt.Fprintf(ios.ErrOut, "Planning %s stage %s in %s (change sets are made, read and deleted; nothing is deployed)\n",
		d.Service, st.Name, cmdutil.Plural(len(st.Steps()), "region"))
	res, err := eng.Preview(ctx, req)
	if err != nil {
		return cmdutil.InputError(err)
	}

	if err := write(f, opts.Output, res); err != nil {
		return cmdutil.Failure(err)
	}
	if res.Summary.Errors > 0 {
		// One line per distinct error, naming the regions it hit.
		var errs []cmdutil.Located
		for _, r := range res.Regions {
			if r.Error != "" {
				errs = append(errs, cmdutil.Located{Where: r.Region, Message: r.Error})
			}
		}
		return cmdutil.Failure(fmt.Errorf("could not plan %s of %d: %s",
			cmdutil.Plural(res.Summary.Errors, "region"), len(res.Regions), cmdutil.GroupErrors(errs)))
	}
	if opts.ExitCode && res.HasChanges() {
		return cmdutil.SilentExit(cmdutil.ExitChanges)
	}
	return nil
}

func write(f *cmdutil.Factory, output string, res *deploy.Preview) error {
	ios := f.IOStreams
	switch output {
	case "json":
		return cmdutil.WriteJSON(ios.Out, res)
	case "markdown":
		_, err := fmt.Fprint(ios.Out, Markdown(res))
		return err
	case "text":
		_, err := fmt.Fprint(ios.Out, Text(res, ios.ColorEnabled()))
		return err
	}
	return errors.New("unknown output " + output)
}
