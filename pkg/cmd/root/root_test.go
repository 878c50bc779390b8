package root

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/spf13/cobra"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	f, out, errOut := cmdutil.TestFactory("v9.9.9")
	code := Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

func TestUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"deploi"}, `unknown command "deploi"`},
		{"unknown flag", []string{"lint", "--bogus"}, "unknown flag: --bogus"},
		{"unknown root flag", []string{"--bogus"}, "unknown flag: --bogus"},
		{"bad lint format", []string{"lint", "--format", "xml"}, `invalid value "xml" for --format`},
		{"render without file", []string{"render"}, "needs one descriptor FILE"},
		{"render with two files", []string{"render", "a.sd.yaml", "b.sd.yaml"}, "takes one descriptor FILE"},
		{"bad render format", []string{"render", "x.sd.yaml", "--format", "toml"}, `invalid value "toml" for --format`},
		{"version with argument", []string{"version", "now"}, "takes no arguments"},
		{"init bad template", []string{"init", "--template", "cron"}, `invalid value "cron" for --template`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q lacks %q", errOut, tt.want)
			}
			if !strings.Contains(errOut, "--help' for usage") {
				t.Errorf("stderr %q does not point at --help", errOut)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing on an error", out)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := run(t, args...)
		if code != 0 || out != "gantry version v9.9.9\n" || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestNoArgsPrintsHelp(t *testing.T) {
	code, out, _ := run(t)
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	for _, c := range []string{"init", "lint", "render", "schema", "version"} {
		if !strings.Contains(out, "  "+c+" ") {
			t.Errorf("help does not list %s:\n%s", c, out)
		}
	}
}

// TestEveryCommandHasHelpWithExample walks the tree so a new command
// without an example fails here.
func TestEveryCommandHasHelpWithExample(t *testing.T) {
	f, _, _ := cmdutil.TestFactory("dev")
	var seen []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c.Example == "" {
			t.Errorf("%s has no Example", c.CommandPath())
		}
		if c.Short == "" {
			t.Errorf("%s has no Short", c.CommandPath())
		}
		// docs/cli.md is made from the help: every command states its exit codes.
		if !strings.Contains(c.Long, "Exit status") && !strings.Contains(c.Long, "Exit codes") {
			t.Errorf("%s's Long text does not give its exit status", c.CommandPath())
		}
		seen = append(seen, c.CommandPath())
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(New(f))
	// The walk must reach the leaves that are easy to forget.
	for _, want := range []string{"gantry flags eval", "gantry version", "gantry schema", "gantry completion"} {
		if !slices.Contains(seen, want) {
			t.Errorf("the walk did not reach %s (seen %v)", want, seen)
		}
	}

	code, out, _ := run(t, "render", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--stage") {
		t.Errorf("render --help: exit %d\n%s", code, out)
	}
}

func TestRunErrorsAreFailures(t *testing.T) {
	// An error from a command's own work (not a usage mistake) exits 1 and
	// is printed without a pointer to --help.
	f, out, errOut := cmdutil.TestFactory("dev")
	root := New(f)
	boom := &cobra.Command{
		Use: "boom", Short: "fails", Example: "gantry boom",
		RunE: func(*cobra.Command, []string) error { return errors.New("disk full") },
	}
	markRunErrors(boom)
	root.AddCommand(boom)
	code := execute(context.Background(), f, root, []string{"boom"})
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if errOut.String() != "error: disk full\n" {
		t.Errorf("stderr = %q", errOut)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q", out)
	}
}

func TestSetupProblemPrintsTheNextStep(t *testing.T) {
	// A set-up problem exits 2 with its message and the next step, and
	// without a pointer to --help (the flags were fine).
	f, _, errOut := cmdutil.TestFactory("dev")
	root := New(f)
	creds := &cobra.Command{
		Use: "creds", Short: "fails", Example: "gantry creds",
		RunE: func(*cobra.Command, []string) error {
			return cmdutil.SetupProblem(errors.New("no AWS credentials found"), "run aws sso login")
		},
	}
	markRunErrors(creds)
	root.AddCommand(creds)
	if code := execute(context.Background(), f, root, []string{"creds"}); code != cmdutil.ExitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	if want := "error: no AWS credentials found\n  → run aws sso login\n"; errOut.String() != want {
		t.Errorf("stderr = %q, want %q", errOut, want)
	}
}

func TestLogFile(t *testing.T) {
	path := t.TempDir() + "/gantry.log"
	code, _, errOut := run(t, "flags", "eval", "--flags", "file:../../../examples/flags/all-open.flagd.json",
		"--flag", "nope", "--log-file", path, "--log-level", "debug")
	if code != cmdutil.ExitError {
		t.Fatalf("exit %d, want 1 (flag not found); stderr:\n%s", code, errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["command"] != "gantry flags eval" {
			t.Errorf("log line without the command: %q", l)
		}
	}
	if !strings.Contains(string(b), `"flag file loaded"`) {
		t.Errorf("the log does not say the flag file was loaded:\n%s", b)
	}
	if strings.Contains(errOut, `"level"`) {
		t.Errorf("log lines reached stderr:\n%s", errOut)
	}
}

func TestBadLogLevelIsUsage(t *testing.T) {
	code, _, errOut := run(t, "version", "--log-file", t.TempDir()+"/x.log", "--log-level", "loud")
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "--log-level") {
		t.Fatalf("exit %d, stderr %q; want 2 naming --log-level", code, errOut)
	}
}
