// Package root assembles gantry's command tree and runs it, turning errors
// into exit codes.
package root

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gantryhq/gantry/internal/crash"
	bootstrapcmd "github.com/gantryhq/gantry/pkg/cmd/bootstrap"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	completioncmd "github.com/gantryhq/gantry/pkg/cmd/completion"
	deploycmd "github.com/gantryhq/gantry/pkg/cmd/deploy"
	flagscmd "github.com/gantryhq/gantry/pkg/cmd/flags"
	gatescmd "github.com/gantryhq/gantry/pkg/cmd/gates"
	initcmd "github.com/gantryhq/gantry/pkg/cmd/initcmd"
	lintcmd "github.com/gantryhq/gantry/pkg/cmd/lint"
	plancmd "github.com/gantryhq/gantry/pkg/cmd/plan"
	rendercmd "github.com/gantryhq/gantry/pkg/cmd/render"
	rollbackcmd "github.com/gantryhq/gantry/pkg/cmd/rollback"
	runcmd "github.com/gantryhq/gantry/pkg/cmd/run"
	schemacmd "github.com/gantryhq/gantry/pkg/cmd/schema"
	statuscmd "github.com/gantryhq/gantry/pkg/cmd/status"
	unlockcmd "github.com/gantryhq/gantry/pkg/cmd/unlock"
	versioncmd "github.com/gantryhq/gantry/pkg/cmd/version"
	"github.com/gantryhq/gantry/pkg/safetext"
	"github.com/spf13/cobra"
)

// New builds the root command and every subcommand from f.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gantry <command> [flags]",
		Short: "Deploy services to AWS from one descriptor",
		Long: `gantry lints a service descriptor (<service>.sd.yaml), renders AWS
CloudFormation for the service's containers and data stores, and rolls it
out stage by stage, wave by wave, region by region.

Exit codes: 0 success; 1 lint errors or a failed rollout; 2 bad usage,
invalid input or a set-up problem (no AWS credentials, an unknown profile,
an unreachable endpoint, a missing state table), said in one line with what
to do; 3 a rollout held (run it again to resume); 70 an internal error (a
bug in gantry, never a verdict on the input: report it with what it says).`,
		Example: `  $ gantry init --template web --service payments
  $ gantry lint
  $ gantry render payments.sd.yaml --stage dev --out out`,
		Version:       versioncmd.Format(f.Version),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	cmd.SetVersionTemplate("{{.Version}}\n")
	// Our own completion command has the examples and exit codes of the rest.
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.SetIn(f.IOStreams.In)
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cmdutil.UsageErrorf("%w", err)
	})

	cmdutil.AddAWSFlags(cmd.PersistentFlags(), &f.AWS)
	cmdutil.AddLogFlags(cmd.PersistentFlags(), &f.Logs)
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if f.Logger != nil {
			return nil // a test's own logger wins
		}
		l, err := f.Logs.Open(f.IOStreams.ErrOut)
		if err != nil {
			return err
		}
		if l != nil {
			f.Logger = l.With("command", c.CommandPath(), "pid", os.Getpid())
		}
		return nil
	}
	cmd.AddCommand(
		deploycmd.NewCmd(f),
		bootstrapcmd.NewCmd(f),
		completioncmd.NewCmd(f),
		flagscmd.NewCmd(f),
		gatescmd.NewCmd(f),
		initcmd.NewCmd(f),
		lintcmd.NewCmd(f),
		plancmd.NewCmd(f),
		rendercmd.NewCmd(f),
		rollbackcmd.NewCmd(f),
		runcmd.NewCmd(f),
		schemacmd.NewCmd(f),
		statuscmd.NewCmd(f),
		unlockcmd.NewCmd(f),
		versioncmd.NewCmd(f),
	)
	for _, c := range cmd.Commands() {
		markRunErrors(c)
	}
	return cmd
}

// markRunErrors makes an untyped error returned by a command's own RunE an
// exit-1 failure. Any other untyped error reaching Run therefore comes from
// cobra's parsing (unknown command, flag or argument) and means bad usage.
func markRunErrors(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			var ee *cmdutil.ExitCodeError
			if err != nil && !errors.As(err, &ee) {
				return cmdutil.Failure(err)
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		markRunErrors(sub)
	}
}

// Run executes gantry with args (without the program name) and returns the
// process exit code. Errors are printed to f.IOStreams.ErrOut.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	return execute(ctx, f, New(f), args)
}

// InterruptGrace is how long the command args names may take to end after
// Ctrl-C or SIGTERM before the process exits anyway: a second for the
// commands that only read (lint, render, flags eval, gates, ...), 0 (wait)
// for those that talk to AWS and clean up when cancelled (deploy releases
// its lock and records what it did; plan deletes its change sets).
func InterruptGrace(args []string) time.Duration {
	f, _, _ := cmdutil.TestFactory("")
	c, _, err := New(f).Find(args)
	if err != nil || c == nil {
		return time.Second
	}
	for ; c != nil; c = c.Parent() {
		switch c.Name() {
		case "deploy", "rollback", "bootstrap", "plan", "unlock", "status":
			return 0
		}
	}
	return time.Second
}

// ExitInternal is the exit code of a crash: a bug in gantry, never a
// verdict on the input (sysexits' EX_SOFTWARE).
const ExitInternal = 70

// bugReport says what to attach to a bug report after a crash.
const bugReport = "this is a bug in gantry, not a problem with your input: please report it at " +
	"https://github.com/gantryhq/gantry/issues with this output, the command line, " +
	"the output of `gantry version` and the input files (remove any secrets first)"

func execute(ctx context.Context, f *cmdutil.Factory, root *cobra.Command, args []string) int {
	root.SetArgs(args)
	c, err := executeC(ctx, root)
	var p *crash.Panic
	if errors.As(err, &p) {
		return reportCrash(ctx, f, p)
	}
	ee := exitError(err)
	if ee != nil && ee.Err != nil {
		// The whole chain behind a shortened message is for the debug log,
		// written before the log file closes.
		f.Log().DebugContext(ctx, "command failed", "exitCode", ee.Code, "err", ee.Err.Error(), "detail", cmdutil.Detail(ee.Err))
	}
	if cerr := f.Logs.Close(); cerr != nil && ee == nil {
		ee = exitError(cmdutil.Failure(fmt.Errorf("closing the log file: %w", cerr)))
	}
	if ee == nil {
		return cmdutil.ExitOK
	}
	if ee.Silent() {
		return ee.Code
	}
	// The first lines are for a person: the message and the next step.
	errOut := f.IOStreams.ErrOut
	// An error may quote its input (a file name, a flag value).
	fmt.Fprintf(errOut, "error: %s\n", safetext.TerminalLines(ee.Err.Error()))
	if next := ee.NextStep(); next != "" {
		fmt.Fprintf(errOut, "  → %s\n", safetext.TerminalLines(next))
	}
	if cmdutil.IsUsageError(ee) {
		if c == nil {
			c = root
		}
		fmt.Fprintf(errOut, "Run '%s --help' for usage.\n", c.CommandPath())
	}
	return ee.Code
}

// executeC runs the command tree, turning a panic into a *crash.Panic.
func executeC(ctx context.Context, root *cobra.Command) (c *cobra.Command, err error) {
	defer crash.Catch(&err)
	return root.ExecuteContextC(ctx)
}

// reportCrash tells the person what happened and what to send, logs it,
// and gives ExitInternal.
func reportCrash(ctx context.Context, f *cmdutil.Factory, p *crash.Panic) int {
	f.Log().ErrorContext(ctx, "internal error", "panic", fmt.Sprint(p.Value), "stack", string(p.Stack))
	_ = f.Logs.Close()
	errOut := f.IOStreams.ErrOut
	fmt.Fprintf(errOut, "error: %s\n  → %s\n\n%s", safetext.Terminal(p.Error()), bugReport, safetext.Terminal(string(p.Stack)))
	return ExitInternal
}

// exitError is err as the exit it asks for: nil for none; an untyped error
// reaching here comes from cobra's parsing, so it is bad usage.
func exitError(err error) *cmdutil.ExitCodeError {
	if err == nil {
		return nil
	}
	var ee *cmdutil.ExitCodeError
	if !errors.As(err, &ee) {
		ee = &cmdutil.ExitCodeError{Code: cmdutil.ExitUsage, Err: &cmdutil.UsageError{Err: err}}
	}
	return ee
}
