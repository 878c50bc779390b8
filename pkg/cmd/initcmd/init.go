// Package initcmd implements `gantry init` (named initcmd because init is
// reserved in Go).
package initcmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/schema"
	"github.com/gantryhq/gantry/templates"
	"github.com/spf13/cobra"
)

// Options are init's flags.
type Options struct {
	Template string
	Service  string
	Dir      string
	Force    bool
}

// NewCmd builds the init command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "init [flags]",
		Short: "Write a starter descriptor",
		Long: `Write a starter descriptor, <service>.sd.yaml, in the current folder (or
--dir). The web template is a service behind the load balancer with a
Postgres database; the worker template has no port, an SQS queue it scales on
and an S3 bucket; the jobs template is the web one with a database migration
run before each deploy (a release task), a nightly scheduled job, an
OpenTelemetry sidecar and a patch. All lint clean as written: edit the
image, accounts and regions, then run gantry lint.

The service name defaults to the folder's name when that is a valid service
name, else my-service; the templates are written for my-service and init
replaces every occurrence with the name. An existing file is never
overwritten without --force. The path written goes to stdout.

Exit status: 0 written; 2 bad usage or a file that would be overwritten.`,
		Example: `  $ gantry init
  $ gantry init --template worker --service thumbs
  $ gantry init --service payments --force

  # a web service with a migration, a scheduled job and a sidecar
  $ gantry init --template jobs --service invoices`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(f, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Template, "template", "t", "web", "starter to write: "+strings.Join(templates.Names(), " or "))
	cmd.Flags().StringVarP(&opts.Service, "service", "s", "", "service name (default: the folder's name, else my-service)")
	cmd.Flags().StringVar(&opts.Dir, "dir", ".", "folder to write the descriptor in")
	cmd.Flags().BoolVarP(&opts.Force, "force", "f", false, "overwrite an existing descriptor")
	return cmd
}

var serviceRe = regexp.MustCompile(schema.ServicePattern)

func run(f *cmdutil.Factory, opts *Options) error {
	if err := cmdutil.OneOf("template", opts.Template, templates.Names()...); err != nil {
		return err
	}
	service := opts.Service
	if service == "" {
		service = defaultService(opts.Dir)
	}
	if !serviceRe.MatchString(service) {
		return cmdutil.UsageErrorf("invalid --service %q: use 3-30 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen", service)
	}
	src, err := templates.Render(opts.Template, service)
	if err != nil {
		return cmdutil.UsageErrorf("%w", err)
	}
	path := filepath.Join(opts.Dir, service+".sd.yaml")
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !opts.Force {
		flags |= os.O_EXCL // refuse atomically, even against a racing writer
	}
	file, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return cmdutil.InputError(fmt.Errorf("%s already exists; use --force to overwrite it", path))
	}
	if err != nil {
		return cmdutil.InputError(fmt.Errorf("writing the descriptor: %w", err))
	}
	if _, err := file.Write(src); err != nil {
		file.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// The path is the data (scripts may use it); the advice is for people.
	if _, err := fmt.Fprintln(f.IOStreams.Out, path); err != nil {
		return fmt.Errorf("printing the path written: %w", err)
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "Wrote a %s starter for %s. Next:\n  edit %s (image, accounts, regions)\n  gantry lint %s\n  gantry render %s --out out\n",
		opts.Template, service, path, path, path)
	return nil
}

// defaultService derives a name from the target folder, as npm init and
// cargo init do, falling back to the templates' own name.
func defaultService(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return templates.DefaultService
	}
	name := strings.ToLower(filepath.Base(abs))
	name = strings.NewReplacer("_", "-", ".", "-", " ", "-").Replace(name)
	if serviceRe.MatchString(name) {
		return name
	}
	return templates.DefaultService
}
