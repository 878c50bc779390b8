// Package lint implements `gantry lint`.
package lint

import (
	"fmt"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/lint"
	"github.com/spf13/cobra"
)

// Options are lint's flags and arguments.
type Options struct {
	Paths  []string
	Output string
}

// NewCmd builds the lint command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "lint [PATH...] [flags]",
		Short: "Check descriptors offline",
		Long: `Check service descriptors without AWS credentials or a network. Each PATH is
a descriptor file or a folder searched for *.sd.yaml and *.sd.yml (the
current folder when none is given). Files are checked in parallel and every
problem of every file is reported, at most 100 findings a file (the last
says how many more there were). A file that cannot be read, and a named
pipe or device named *.sd.yaml in a folder, is an error finding beside the
others'. Text from the descriptor is escaped for each format (terminal
controls, bidirectional overrides), and a line holding a secret is never
shown.

Output formats (--output/-o; --format is an alias kept for existing
scripts): text (file:line:col: severity rule: message, with the source line;
colour only on a terminal and never with NO_COLOR), json (one object on one
line, {"findings": [{"file", "line", "column", "endLine", "endColumn",
"severity", "rule", "message"}], "summary": {"files", "errors",
"warnings"}}), sarif (an indented SARIF 2.1.0 file, for GitHub code
scanning) and github (workflow commands that annotate a pull request).

Exit status: 0 when no finding is an error (warnings allowed), 1 when any is
(or when the output cannot be written), 2 on bad usage or when no
descriptor is found, 70 on an internal error.`,
		Example: `  $ gantry lint
  $ gantry lint payments.sd.yaml
  $ gantry lint services/ -o json | jq '.summary'
  $ gantry lint --output sarif > gantry.sarif
  $ gantry lint --output github        # in a GitHub Actions step`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			return run(cmd, f, opts)
		},
	}
	cmdutil.AddOutputFlag(cmd, &opts.Output, formats()...)
	cmdutil.AddFormatAlias(cmd, &opts.Output)
	return cmd
}

// formats are lint's output formats, text first (the default).
func formats() []string {
	var out []string
	for _, f := range lint.Formats() {
		out = append(out, string(f))
	}
	return out
}

func run(cmd *cobra.Command, f *cmdutil.Factory, opts *Options) error {
	if err := cmdutil.CheckOutput(cmd, opts.Output, formats()...); err != nil {
		return err
	}
	files, skipped, err := descriptor.Find(opts.Paths)
	if err != nil {
		return cmdutil.InputError(err)
	}
	if len(files) == 0 && len(skipped) == 0 {
		where := "the current folder"
		if len(opts.Paths) > 0 {
			where = fmt.Sprintf("%q", opts.Paths)
		}
		return cmdutil.InputError(fmt.Errorf("no descriptors (*.sd.yaml, *.sd.yml) found under %s", where))
	}
	res, err := lint.Run(cmd.Context(), files)
	if err != nil {
		return cmdutil.InputError(fmt.Errorf("linting: %w", err))
	}
	res = res.WithSkipped(skipped)
	ios := f.IOStreams
	wopts := lint.WriteOptions{Color: ios.ColorEnabled(), ToolVersion: f.Version}
	if err := lint.Write(ios.Out, lint.Format(opts.Output), res, wopts); err != nil {
		return fmt.Errorf("writing findings: %w", err)
	}
	if res.Errors() > 0 {
		return cmdutil.SilentExit(cmdutil.ExitError)
	}
	return nil
}
