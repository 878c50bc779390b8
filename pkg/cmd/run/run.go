// Package run implements `gantry run`: run one job of a service once, now,
// in one (stage, region), streaming its log.
package run

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil/preflight"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/safetext"
)

// Options are run's flags and arguments.
type Options struct {
	File    string
	Job     string
	Stage   string
	Region  string
	Version string
}

// NewCmd builds the run command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "run FILE JOB --stage S --region R [--version V] [flags]",
		Short: "Run a job once, now, and stream its log",
		Long: `Run one of the descriptor's jobs (a scheduled job or a release task) once,
now, in one (stage, region): one Fargate task of the task definition the
last deploy made for it, with the service's env and secrets, in the
service's subnets and security groups. Its log lines are printed on stdout
as they come; gantry exits with the task's exit code.

--version runs another version of the service's image: a new revision of
the job's task definition with that image tag is registered and run (the
schedule keeps its own). The job's timeout applies: a task still running
then is stopped.

A run is not part of a rollout: it takes no lock, and a release task run
this way is not recorded as run for any version (the next deploy still runs
it).

Exit status: the task's exit code (0 when it succeeded); 1 when the task
could not be started, did not start, or gantry could not follow it; 2 bad
usage, an invalid descriptor, an unknown job, or a set-up problem (no
credentials, an unreachable endpoint, no state table).`,
		Example: `  # the nightly report, now, in dev
  $ gantry run payments.sd.yaml nightly-report --stage dev --region us-east-1

  # a migration with a version not yet deployed
  $ gantry run payments.sd.yaml migrate --stage staging --region eu-west-1 --version 1.5.0-rc1`,
		Args: cmdutil.ExactArgs(2, "a descriptor FILE and a JOB"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File, opts.Job = args[0], args[1]
			return run(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Stage, "stage", "", "stage to run the job in (required)")
	fl.StringVar(&opts.Region, "region", "", "region of the stage to run the job in (required)")
	fl.StringVar(&opts.Version, "version", "", "image tag to run (default: the deployed one)")
	return cmd
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	switch {
	case opts.Stage == "":
		return cmdutil.UsageErrorf("--stage is required: the stage to run the job in")
	case opts.Region == "":
		return cmdutil.UsageErrorf("--region is required: a job runs in one region of a stage")
	}
	if err := render.CheckVersion(opts.Version); err != nil {
		return cmdutil.UsageErrorf("invalid value for --version: %w", err)
	}
	d, p, err := cmdutil.LoadPlan(ctx, f, opts.File, []string{opts.Stage}, []string{opts.Region})
	if err != nil {
		return err
	}
	job, err := findJob(d, opts)
	if err != nil {
		return err
	}
	st, _ := p.Stage(opts.Stage)
	backend, _, err := preflight.Backend(ctx, f, p, preflight.Check{File: opts.File, Stages: []plan.Stage{st}})
	if err != nil {
		return err
	}
	step, ok := stepOf(p, opts)
	if !ok {
		return cmdutil.UsageErrorf("region %s is not in stage %s", opts.Region, opts.Stage)
	}
	reg, err := backend.Region(ctx, step)
	if err != nil {
		return cmdutil.Failure(fmt.Errorf("reaching account %s in %s: %w", step.Account, step.Region, err))
	}
	runner, ok := reg.(deploy.JobRunner)
	if !ok {
		return cmdutil.Failure(errors.New("this backend cannot run jobs"))
	}
	ios := f.IOStreams
	version := opts.Version
	if version == "" {
		version = "the deployed version"
	}
	fmt.Fprintf(ios.ErrOut, "running job %s of %s in %s/%s (%s)\n", opts.Job, d.Service, opts.Stage, opts.Region, version)
	out, err := runner.RunJob(ctx, deploy.JobRun{Job: opts.Job, Release: job.BeforeDeploy, Version: opts.Version, Timeout: job.JobTimeout()},
		func(line string) { fmt.Fprintln(ios.Out, safetext.Terminal(line)) })
	if err != nil {
		return cmdutil.Failure(fmt.Errorf("running job %s: %w", opts.Job, err))
	}
	return outcome(f, opts.Job, out)
}

// outcome says how the task ended and gives gantry's exit code: the
// task's.
func outcome(f *cmdutil.Factory, job string, out deploy.TaskOutcome) error {
	w := f.IOStreams.ErrOut
	switch {
	case out.ExitCode < 0:
		return cmdutil.Failure(fmt.Errorf("job %s did not run: %s (task %s)", job, safetext.Terminal(out.Reason), out.TaskARN))
	case out.TimedOut:
		fmt.Fprintf(w, "job %s ran past its timeout and was stopped: exit %d (task %s)\n", job, out.ExitCode, out.TaskARN)
	default:
		fmt.Fprintf(w, "job %s exited %d (task %s)\n", job, out.ExitCode, out.TaskARN)
	}
	if out.ExitCode == 0 {
		return nil
	}
	return cmdutil.SilentExit(out.ExitCode)
}

func findJob(d *descriptor.Descriptor, opts *Options) (*descriptor.Job, error) {
	spec := d.SpecFor(opts.Stage)
	if spec == nil {
		return nil, cmdutil.UsageErrorf("unknown stage %q", opts.Stage)
	}
	if j := spec.Jobs[opts.Job]; j != nil {
		return j, nil
	}
	names := slices.Sorted(maps.Keys(spec.Jobs))
	if len(names) == 0 {
		return nil, cmdutil.UsageErrorf("stage %s of %s has no jobs: declare one under jobs: in %s", opts.Stage, d.Service, opts.File)
	}
	msg := fmt.Sprintf("unknown job %q; the jobs of stage %s are %s", opts.Job, opts.Stage, strings.Join(names, ", "))
	if s := descriptor.Suggest(opts.Job, names); s != "" {
		msg = fmt.Sprintf("unknown job %q; did you mean %q?", opts.Job, s)
	}
	return nil, cmdutil.UsageErrorf("%s", msg)
}

func stepOf(p *plan.Plan, opts *Options) (plan.Step, bool) {
	for _, s := range p.Steps() {
		if s.Stage == opts.Stage && s.Region == opts.Region {
			return s, true
		}
	}
	return plan.Step{}, false
}
