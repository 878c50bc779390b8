// Package clidoc writes the Markdown reference of a cobra command tree:
// every visible command with its usage, help text, examples and flags, in
// the order `--help` lists them. It is gantry's own small generator (no
// dependency on cobra/doc), so docs/cli.md is exactly what --help says.
package clidoc

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

// Write writes the reference of root's tree to w: the title, header (fixed
// Markdown written by hand), an index, then one section per command.
func Write(w io.Writer, root *cobra.Command, title, header string) error {
	var cmds []*cobra.Command
	collect(root, &cmds)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	b.WriteString("<!-- Generated from gantry's command tree by `make docs` (internal/clidoc, pkg/cmd/root/docs.go).\n" +
		"     Edit the commands' help text or the header in pkg/cmd/root/docs.go, not this file. -->\n\n")
	b.WriteString(strings.TrimSpace(header) + "\n\n")
	b.WriteString("## Commands\n\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "- [`%s`](#%s): %s\n", c.CommandPath(), anchor(c.CommandPath()), escape(c.Short))
	}
	for _, c := range cmds {
		b.WriteString("\n")
		section(&b, c)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("writing the CLI reference: %w", err)
	}
	return nil
}

// collect lists the visible commands depth first; cobra's own help command
// and hidden ones (__complete) are no part of the surface.
func collect(c *cobra.Command, out *[]*cobra.Command) {
	if c.Hidden || c.Name() == "help" {
		return
	}
	c.InitDefaultHelpFlag() // cobra adds -h lazily, at execution
	if !c.HasParent() {
		c.InitDefaultVersionFlag()
	}
	*out = append(*out, c)
	for _, sub := range c.Commands() {
		collect(sub, out)
	}
}

// section writes one command's reference.
func section(b *strings.Builder, c *cobra.Command) {
	fmt.Fprintf(b, "### %s\n\n", c.CommandPath())
	fmt.Fprintf(b, "%s.\n\n", strings.TrimSuffix(escape(c.Short), "."))
	fmt.Fprintf(b, "```text\n%s\n```\n\n", c.UseLine())
	if c.Long != "" {
		b.WriteString(text(c.Long) + "\n\n")
	}
	var subs []string // the root's are the index already
	for _, s := range c.Commands() {
		if !c.HasParent() {
			break
		}
		if !s.Hidden && s.Name() != "help" {
			subs = append(subs, fmt.Sprintf("[`%s`](#%s)", s.CommandPath(), anchor(s.CommandPath())))
		}
	}
	if len(subs) > 0 {
		fmt.Fprintf(b, "Subcommands: %s.\n\n", strings.Join(subs, ", "))
	}
	if c.Example != "" {
		fmt.Fprintf(b, "Examples:\n\n```console\n%s\n```\n\n", dedent(c.Example))
	}
	if fl := c.NonInheritedFlags(); fl.HasAvailableFlags() {
		fmt.Fprintf(b, "Flags:\n\n```text\n%s```\n\n", fl.FlagUsages())
	}
	if fl := c.InheritedFlags(); fl.HasAvailableFlags() {
		fmt.Fprintf(b, "Inherited flags:\n\n```text\n%s```\n\n", fl.FlagUsages())
	}
	trimTrailingBlank(b)
}

func trimTrailingBlank(b *strings.Builder) {
	s := strings.TrimRight(b.String(), "\n") + "\n"
	b.Reset()
	b.WriteString(s)
}

// anchor is GitHub's heading anchor of a command path.
func anchor(path string) string {
	return strings.ReplaceAll(strings.ToLower(path), " ", "-")
}

// text turns help text into Markdown: prose lines become paragraphs, with
// what Markdown would misread escaped; indented lines (JSON shapes, a
// descriptor's first line) become preformatted blocks, as --help shows them.
func text(s string) string {
	var blocks []string
	var cur []string
	code := false
	flush := func() {
		if len(cur) == 0 {
			return
		}
		if code {
			blocks = append(blocks, "```text\n"+dedent(strings.Join(cur, "\n"))+"\n```")
		} else {
			for i, l := range cur {
				cur[i] = escapeLine(l)
			}
			blocks = append(blocks, strings.Join(cur, "\n"))
		}
		cur = nil
	}
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		l = strings.TrimRight(l, " \t")
		indented := strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")
		if l == "" || indented != code {
			flush()
			code = indented
		}
		if l != "" {
			cur = append(cur, l)
		}
	}
	flush()
	return strings.Join(blocks, "\n\n")
}

var (
	inlineSpecial = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, `<`, `\<`, "`", "\\`")
	// A line opening like a list item, heading, quote or rule in Markdown.
	blockStart = regexp.MustCompile(`^([-+](\s|$)|#{1,6}(\s|$)|>|=+$|-+$|\d+[.)](\s|$))`)
)

func escape(s string) string { return inlineSpecial.Replace(s) }

func escapeLine(l string) string {
	l = escape(l)
	if blockStart.MatchString(l) {
		l = `\` + l
	}
	return l
}

// dedent removes the indentation all non-blank lines share.
func dedent(s string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	min := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if min < 0 || n < min {
			min = n
		}
	}
	for i, l := range lines {
		if len(l) >= min && min > 0 {
			lines[i] = l[min:]
		}
		lines[i] = strings.TrimRight(lines[i], " \t")
	}
	return strings.Join(lines, "\n")
}
