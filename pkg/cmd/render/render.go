// Package render implements `gantry render`.
package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/lint"
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
(Postgres, Redis, S3; none when the service has no resources) and
<service>-<stage>-app (ECS service, roles, routing, scaling, alarms),
written as DIR/<stage>/<region>/<stack>.template.json with a parameters
file beside each. The same input always gives the same bytes.

--stage and --region narrow what is rendered; both repeat or take commas.
A descriptor with any error (as gantry lint reports them) is refused with
exit status 2. Written files are listed on stdout.`,
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
	ios := f.IOStreams
	d, probs, err := descriptor.Load(opts.File)
	if err != nil {
		return cmdutil.InputError(err)
	}
	if len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintf(ios.ErrOut, "%s:%d:%d: error %s: %s\n", opts.File, p.Line, p.Column, p.Code, p.Message)
		}
		return cmdutil.InputError(fmt.Errorf("%s has %s; fix %s and run again", opts.File, plural(len(probs), "problem"), them(len(probs))))
	}
	// Rules beyond loading (Fargate sizes, undeclared resources, ...) would
	// otherwise surface only at deploy time, so render refuses them too.
	res, err := lint.Run(cmd.Context(), []string{opts.File})
	if err != nil {
		return cmdutil.InputError(fmt.Errorf("linting %s: %w", opts.File, err))
	}
	if n := res.Errors(); n > 0 {
		if err := lint.Write(ios.ErrOut, lint.FormatText, errorsOnly(res), lint.WriteOptions{Color: ios.ColorEnabledStderr(), ToolVersion: f.Version}); err != nil {
			return fmt.Errorf("writing findings: %w", err)
		}
		return cmdutil.InputError(fmt.Errorf("%s has %s; fix %s and run again (gantry lint %s)", opts.File, plural(n, "lint error"), them(n), opts.File))
	}
	if err := checkSelection(d, opts.Stages, opts.Regions); err != nil {
		return err
	}
	written, err := render.WriteAll(d, opts.Out, render.Options{
		Stages:  opts.Stages,
		Regions: opts.Regions,
		Version: opts.Version,
		Format:  opts.Format,
	})
	if err != nil {
		return fmt.Errorf("rendering %s: %w", opts.File, err)
	}
	for _, p := range written {
		fmt.Fprintln(ios.Out, p)
	}
	if ios.IsStderrTTY() {
		fmt.Fprintf(ios.ErrOut, "Wrote %s under %s\n", plural(len(written), "file"), opts.Out)
	}
	return nil
}

// errorsOnly keeps the error findings: render's refusal is about them, and
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

// checkSelection refuses --stage and --region values the descriptor does
// not have, so a typo is not a silent empty render.
func checkSelection(d *descriptor.Descriptor, stages, regions []string) error {
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
			return cmdutil.UsageErrorf("%s", msg)
		}
	}
	for _, r := range regions {
		if !regionsOf[r] {
			known := make([]string, 0, len(regionsOf))
			for k := range regionsOf {
				known = append(known, k)
			}
			slices.Sort(known)
			return cmdutil.UsageErrorf("no selected stage deploys to region %q; regions are %s", r, strings.Join(known, ", "))
		}
	}
	return nil
}

func plural(n int, noun string) string {
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
