// Package completion implements `gantry completion SHELL`: the shell
// completion script of gantry's command tree, made by cobra.
package completion

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

// Shells are the shells a script can be made for.
var Shells = []string{"bash", "zsh", "fish", "powershell"}

// NewCmd builds the completion command. It completes the tree of the root
// it is added to, so it must be added to the root command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script of gantry for a shell to stdout. Load it in
the current shell, or install it where the shell reads completions at start.

bash needs the bash-completion package. For zsh, completion must be enabled
(autoload -U compinit; compinit) before the script is loaded.

Exit status: 0; 2 bad usage (no shell, or one gantry has no script for).`,
		Example: `  # bash, this shell; then for every new one (Linux)
  $ source <(gantry completion bash)
  $ gantry completion bash > /etc/bash_completion.d/gantry

  # zsh
  $ gantry completion zsh > "${fpath[1]}/_gantry"

  # fish
  $ gantry completion fish > ~/.config/fish/completions/gantry.fish

  # PowerShell
  PS> gantry completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: Shells,
		Args:      cmdutil.ExactArgs(1, "one shell: bash, zsh, fish or powershell"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return write(cmd.Root(), f, args[0])
		},
	}
}

func write(root *cobra.Command, f *cmdutil.Factory, shell string) error {
	if !slices.Contains(Shells, shell) {
		return cmdutil.UsageErrorf("unknown shell %q: use bash, zsh, fish or powershell", shell)
	}
	out := f.IOStreams.Out
	var err error
	switch shell {
	case "bash":
		err = root.GenBashCompletionV2(out, true)
	case "zsh":
		err = root.GenZshCompletion(out)
	case "fish":
		err = root.GenFishCompletion(out, true)
	case "powershell":
		err = root.GenPowerShellCompletionWithDesc(out)
	}
	if err != nil {
		return fmt.Errorf("writing the %s completion script: %w", shell, err)
	}
	return nil
}
