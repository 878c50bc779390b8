package cmdutil

import (
	"github.com/spf13/cobra"
)

// ExactArgs requires exactly n positional arguments; what names them in the
// message when they are missing (for example "a descriptor FILE").
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return UsageErrorf("%s needs %s", cmd.CommandPath(), what)
		case len(args) > n:
			return UsageErrorf("%s takes %s, got %d arguments: %q", cmd.CommandPath(), what, len(args), args)
		}
		return nil
	}
}

// NoArgs refuses any positional argument.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return UsageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

// OneOf checks a flag value against the allowed ones.
func OneOf(flag, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return UsageErrorf("invalid value %q for --%s: use one of %s", value, flag, joinQuoted(allowed))
}

func joinQuoted(s []string) string {
	out := ""
	for i, v := range s {
		switch {
		case i == 0:
		case i == len(s)-1:
			out += " or "
		default:
			out += ", "
		}
		out += v
	}
	return out
}
