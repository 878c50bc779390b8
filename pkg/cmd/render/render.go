// Package render implements `gantry render`.
package render

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/spf13/cobra"
)

// Options are render's flags and arguments.
type Options struct {
	File    string
	Stages  []string
	Regions []string
	Version string
	Out     string
	Format  string
}

// NewCmd builds the render command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "render FILE [flags]",
		Short: "Write the CloudFormation templates of a descriptor",
		Long: `Render the CloudFormation templates gantry would deploy, without touching
AWS. For every stage and region there are two stacks, <service>-<stage>-data
(its data stores: tables, queues, buckets, databases; none when it has no resources) and
<service>-<stage>-app (ECS service, roles, routing, scaling, alarms),
written as DIR/<stage>/<region>/<stack>.template.json (DIR is --out,
default out) with a parameters file beside each; --format yaml writes YAML
templates instead (this --format is the templates' format, not an output
format). The same input always gives the same bytes. How placeholders
become CloudFormation references is in docs/rendering.md.

--stage and --region narrow what is rendered; both repeat or take commas,
and a name the descriptor does not have is refused. Written files are
listed on stdout, one a line.

Exit status: 0 written; 1 when a file or the list cannot be written (a
full disk: no partial template is left, each is written to a temporary
file and renamed); 2 bad usage (an invalid --version, --out naming a
file), or a descriptor that does not load or
has any error as gantry lint reports them (its problems go to stderr as
file:line:col: error CODE: message).`,
		Example: `  $ gantry render payments.sd.yaml
  $ gantry render payments.sd.yaml --stage prod --region eu-west-1 --version v1.4.2
  $ gantry render payments.sd.yaml --out build/cfn --format yaml`,
		Args: cmdutil.ExactArgs(1, "one descriptor FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(cmd, f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&opts.Stages, "stage", nil, "render only this stage (repeatable; default all)")
	fl.StringSliceVar(&opts.Regions, "region", nil, "render only this region (repeatable; default all of each stage)")
	fl.StringVar(&opts.Version, "version", "", "version (image tag) to render, as ${version} and in tags (default \"latest\")")
	fl.StringVarP(&opts.Out, "out", "o", "out", "folder to write templates under")
	fl.StringVar(&opts.Format, "format", "json", "template format: json or yaml")
	return cmd
}

func run(cmd *cobra.Command, f *cmdutil.Factory, opts *Options) error {
	if err := cmdutil.OneOf("format", opts.Format, "json", "yaml"); err != nil {
		return err
	}
	if opts.Out == "" {
		return cmdutil.UsageErrorf("--out must name a folder")
	}
	if err := checkOut(opts.Out); err != nil {
		return err
	}
	if err := render.CheckVersion(opts.Version); err != nil {
		return cmdutil.UsageErrorf("invalid --version: %w", err)
	}
	ios := f.IOStreams
	d, err := cmdutil.LoadDescriptor(cmd.Context(), f, opts.File)
	if err != nil {
		return err
	}
	if err := cmdutil.CheckSelection(d, opts.Stages, opts.Regions); err != nil {
		return err
	}
	written, err := render.WriteAllContext(cmd.Context(), d, opts.Out, render.Options{
		Stages:  opts.Stages,
		Regions: opts.Regions,
		Version: opts.Version,
		Format:  opts.Format,
	})
	if err != nil {
		return fmt.Errorf("rendering %s: %w", opts.File, err)
	}
	for _, p := range written {
		// Scripts read this list: a failed write (a full disk) is a failure.
		if _, err := fmt.Fprintln(ios.Out, p); err != nil {
			return fmt.Errorf("listing the written files: %w", err)
		}
	}
	if ios.IsStderrTTY() {
		fmt.Fprintf(ios.ErrOut, "Wrote %s under %s\n", cmdutil.Plural(len(written), "file"), opts.Out)
	}
	return nil
}

// checkOut refuses an --out that is, or lies under, a file: the nearest
// part of the path that exists must be a folder.
func checkOut(out string) error {
	for p := filepath.Clean(out); ; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err == nil {
			if !info.IsDir() {
				return cmdutil.UsageErrorf("--out %s: %s is a file; name a folder", out, p)
			}
			return nil
		}
		if parent := filepath.Dir(p); parent == p {
			return nil
		}
	}
}
