package root

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

const cmdPkg = "github.com/gantryhq/gantry/pkg/cmd/"

// commandSources parses the non-test Go files of every package under
// pkg/cmd, by folder name.
func commandSources(t *testing.T) map[string][]*ast.File {
	t.Helper()
	dirs, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*ast.File{}
	fset := token.NewFileSet()
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		paths, err := filepath.Glob(filepath.Join("..", d.Name(), "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				t.Fatalf("parsing %s: %v", p, err)
			}
			out[d.Name()] = append(out[d.Name()], f)
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d packages under pkg/cmd: %v", len(out), out)
	}
	return out
}

// TestCommandsDoNotImportEachOther: a command package uses cmdutil and the
// packages below pkg/cmd, never another command; only root assembles them.
// What two commands share belongs in cmdutil, its packages (preflight), or
// lower.
func TestCommandsDoNotImportEachOther(t *testing.T) {
	for pkg, files := range commandSources(t) {
		if pkg == "root" {
			continue
		}
		for _, f := range files {
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				other, ok := strings.CutPrefix(path, cmdPkg)
				shared := other == "cmdutil" || strings.HasPrefix(other, "cmdutil/")
				if !ok || (shared && pkg != "cmdutil") {
					continue
				}
				t.Errorf("pkg/cmd/%s imports %s: move what they share into pkg/cmd/cmdutil", pkg, path)
			}
		}
	}
}

// TestNoIndentedJSON: commands print JSON through cmdutil.WriteJSON only
// (one compact line); `gantry schema` prints pkg/schema's file as it is.
func TestNoIndentedJSON(t *testing.T) {
	for pkg, files := range commandSources(t) {
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if ok && (sel.Sel.Name == "MarshalIndent" || sel.Sel.Name == "SetIndent" || sel.Sel.Name == "NewEncoder") {
					t.Errorf("pkg/cmd/%s uses %s: write JSON with cmdutil.WriteJSON", pkg, sel.Sel.Name)
				}
				return true
			})
		}
	}
}

// walk calls fn for every visible command of the tree, help excepted.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	if c.Hidden || c.Name() == "help" {
		return
	}
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// TestOutputFlags: every command that prints structured output takes
// --output/-o; lint and flags eval keep --format as its alias; nothing
// else uses -o for something else than --output but render (-o DIR, kept).
func TestOutputFlags(t *testing.T) {
	f, _, _ := cmdutil.TestFactory("dev")
	want := []string{"gantry bootstrap", "gantry deploy", "gantry flags eval", "gantry gates",
		"gantry lint", "gantry plan", "gantry rollback", "gantry status"}
	var have []string
	walk(New(f), func(c *cobra.Command) {
		fl := c.LocalFlags().Lookup("output")
		if fl == nil {
			if o := c.LocalFlags().ShorthandLookup("o"); o != nil && c.CommandPath() != "gantry render" {
				t.Errorf("%s: -o is --%s, not --output", c.CommandPath(), o.Name)
			}
			return
		}
		have = append(have, c.CommandPath())
		if fl.Shorthand != "o" || fl.DefValue != "text" || !strings.Contains(fl.Usage, "json") {
			t.Errorf("%s --output: shorthand %q, default %q, usage %q", c.CommandPath(), fl.Shorthand, fl.DefValue, fl.Usage)
		}
	})
	slices.Sort(have)
	if !slices.Equal(have, want) {
		t.Errorf("commands with --output:\n got %v\nwant %v", have, want)
	}
	for _, args := range [][]string{{"lint"}, {"flags", "eval"}} {
		c, _, err := New(f).Find(args)
		if err != nil || c.Flags().Lookup("format") == nil {
			t.Errorf("%v has no --format alias (%v)", args, err)
		}
	}
}

func TestOutputUsageErrorsNameTheFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"lint", "-o", "xml"}, `invalid value "xml" for --output`},
		{[]string{"lint", "--format", "xml"}, `invalid value "xml" for --format`},
		{[]string{"lint", "-o", "json", "--format", "json"}, "--format is an alias of --output"},
		{[]string{"flags", "eval", "--flag", "x", "--format", "yaml"}, `invalid value "yaml" for --format`},
		{[]string{"completion", "tcsh"}, `unknown shell "tcsh"`},
	} {
		code, out, errOut := run(t, tt.args...)
		if code != cmdutil.ExitUsage || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestCompletionIsWired(t *testing.T) {
	code, out, errOut := run(t, "completion", "zsh")
	if code != 0 || !strings.Contains(out, "#compdef gantry") {
		t.Fatalf("completion zsh: exit %d, stderr %q\n%.300s", code, errOut, out)
	}
	// The scripts call back into gantry; the tree must answer.
	code, out, _ = run(t, "__complete", "completion", "")
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if code != 0 || !strings.Contains(out, shell+"\n") {
			t.Errorf("__complete completion: exit %d, lacks %s:\n%s", code, shell, out)
		}
	}
}
