package clidoc

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestText(t *testing.T) {
	in := `Reads <service>.sd.yaml and *.sd.yml; GANTRY_FLAGS
- not a list, 1. not a list either:
  {"shape": [1,
    2]}
# not a heading

Exit status: 0.`
	want := "Reads \\<service>.sd.yaml and \\*.sd.yml; GANTRY\\_FLAGS\n" +
		"\\- not a list, 1. not a list either:\n\n" +
		"```text\n{\"shape\": [1,\n  2]}\n```\n\n" +
		"\\# not a heading\n\n" +
		"Exit status: 0."
	if got := text(in); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWrite(t *testing.T) {
	root := &cobra.Command{Use: "tool", Short: "A tool", Long: "Long text.", Example: "  $ tool sub"}
	root.PersistentFlags().String("global", "", "a global flag")
	sub := &cobra.Command{Use: "sub [flags]", Short: "A sub", Example: "  $ tool sub -x", Run: func(*cobra.Command, []string) {}}
	sub.Flags().BoolP("x", "x", false, "an x")
	root.AddCommand(sub, &cobra.Command{Use: "hidden", Hidden: true, Run: func(*cobra.Command, []string) {}})
	var b strings.Builder
	if err := Write(&b, root, "Tool", "Header."); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	for _, want := range []string{"# Tool\n", "Header.\n", "- [`tool sub`](#tool-sub): A sub\n",
		"### tool sub\n", "```text\ntool sub [flags]\n```", "```console\n$ tool sub -x\n```",
		"  -x, --x      an x", "Inherited flags:\n\n```text\n      --global string   a global flag\n```"} {
		if !strings.Contains(doc, want) {
			t.Errorf("doc lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "hidden") {
		t.Errorf("hidden command documented:\n%s", doc)
	}
}
