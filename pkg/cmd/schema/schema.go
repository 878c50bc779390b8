// Package schema implements `gantry schema`.
package schema

import (
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/schema"
	"github.com/spf13/cobra"
)

// NewCmd builds the schema command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the descriptor's JSON Schema",
		Long: `Print the JSON Schema (draft 2020-12, $id
https://gantry.dev/schema/v1.json) of the service descriptor, generated from
gantry's own types. Editors that speak the YAML language server read it
from the first line of a descriptor:

  # yaml-language-server: $schema=https://gantry.dev/schema/v1.json

The schema is a file, so it is printed indented, byte for byte the committed
docs/schema.json (make schema regenerates it); it is the one JSON output not
on one compact line.

Exit status: 0.`,
		Example: `  $ gantry schema > sd.schema.json
  $ gantry schema | jq '.properties | keys'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := schema.Generate()
			if err != nil {
				return err
			}
			_, err = f.IOStreams.Out.Write(b)
			return err
		},
	}
}
