package cmdutil

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/internal/jsonout"
)

// WriteJSON writes v as gantry's one JSON style: one compact line ending in
// a newline. Every command's --output json goes through it.
func WriteJSON(w io.Writer, v any) error {
	return jsonout.Write(w, v)
}

// AddOutputFlag defines --output/-o on cmd, bound to p, with the formats the
// command supports; the first is the default.
func AddOutputFlag(cmd *cobra.Command, p *string, formats ...string) {
	cmd.Flags().StringVarP(p, "output", "o", formats[0], "output format: "+joinQuoted(formats))
}

// AddFormatAlias defines --format as an alias of --output, bound to the same
// p, for the commands that had --format before --output was everywhere (lint,
// flags eval): scripts written for them keep working.
func AddFormatAlias(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "format", *p, "alias of --output")
}

// CheckOutput checks the --output value (or its --format alias) of cmd
// against formats, naming in the message the flag the user typed.
func CheckOutput(cmd *cobra.Command, value string, formats ...string) error {
	fl := cmd.Flags()
	name := "output"
	if fl.Lookup("format") != nil && fl.Changed("format") {
		if fl.Changed("output") {
			return UsageErrorf("--format is an alias of --output: give only one of them")
		}
		name = "format"
	}
	return OneOf(name, value, formats...)
}
