// Package version implements `gantry version`.
package version

import (
	"fmt"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/spf13/cobra"
)

// NewCmd builds the version command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the gantry version",
		Long: `Print "gantry version V", where V is stamped into this binary at build
time with -ldflags "-X main.version=V" (make build uses git describe;
release builds use the tag). A plain go build prints "dev", and gantry
--version prints the same line.

Exit status: 0; 2 when given an argument.`,
		Example: "  $ gantry version\n  gantry version 1.2.0",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(f.IOStreams.Out, Format(f.Version))
			return err
		},
	}
}

// Format gives the one-line version string shared by `gantry version` and
// `gantry --version`.
func Format(v string) string {
	if v == "" {
		v = "dev"
	}
	return "gantry version " + v
}
