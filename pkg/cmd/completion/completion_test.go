package completion

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

// tree is a small root with completion added, as pkg/cmd/root wires it.
func tree(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{Use: "gantry"}
	root.AddCommand(&cobra.Command{Use: "lint", Short: "Check descriptors offline", Run: func(*cobra.Command, []string) {}})
	root.AddCommand(NewCmd(f))
	return root
}

func TestEachShellProducesAScript(t *testing.T) {
	marks := map[string]string{
		"bash":       "complete -o default -F __start_gantry gantry",
		"zsh":        "#compdef gantry",
		"fish":       "complete -c gantry",
		"powershell": "Register-ArgumentCompleter",
	}
	for _, shell := range Shells {
		t.Run(shell, func(t *testing.T) {
			f, out, _ := cmdutil.TestFactory("dev")
			code, err := cmdutil.Execute(context.Background(), tree(f), []string{"completion", shell})
			if code != 0 {
				t.Fatalf("exit %d: %v", code, err)
			}
			if !strings.Contains(out.String(), marks[shell]) {
				t.Errorf("the %s script lacks %q:\n%.400s", shell, marks[shell], out.String())
			}
		})
	}
}

func TestBadShellIsUsage(t *testing.T) {
	for _, args := range [][]string{{"completion", "tcsh"}, {"completion"}, {"completion", "bash", "zsh"}} {
		f, out, _ := cmdutil.TestFactory("dev")
		code, err := cmdutil.Execute(context.Background(), tree(f), args)
		if code != cmdutil.ExitUsage || out.Len() != 0 {
			t.Errorf("%v: exit %d (%v), stdout %d bytes; want 2 and nothing", args, code, err, out.Len())
		}
	}
}
