package cmdutil

import (
	"bytes"
	"context"

	"github.com/gantryhq/gantry/pkg/iostreams"
	"github.com/spf13/cobra"
)

// TestFactory returns a Factory over buffer streams, for command tests.
func TestFactory(version string) (f *Factory, out, errOut *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	return &Factory{IOStreams: ios, Version: version}, out, errOut
}

// Execute runs cmd with args as a test would, and returns the exit code the
// error asks for. Root-level behaviour (flag errors as usage) is tested in
// pkg/cmd/root; this is for one command on its own.
func Execute(ctx context.Context, cmd *cobra.Command, args []string) (int, error) {
	cmd.SetArgs(args)
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	err := cmd.ExecuteContext(ctx)
	return ExitCode(err), err
}
