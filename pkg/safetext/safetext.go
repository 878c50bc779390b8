// Package safetext makes text that came from a descriptor (or any other
// untrusted input) safe for the place it is written to: a terminal, a
// GitHub workflow command, a SARIF file or Markdown. Every writer of such
// text goes through the one function for its output, so a hostile file can
// neither drive the reader's terminal, start another workflow command, nor
// reorder what a reviewer sees with bidirectional overrides.
package safetext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Terminal is s with every character that could act on a terminal or hide
// text written as a visible escape: C0 controls but tab (ESC, BEL, CR, LF,
// ...), DEL, C1 controls, bidirectional controls (U+202E and the rest),
// line and paragraph separators, and bytes that are not UTF-8.
func Terminal(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// TerminalLines is Terminal for a message of several lines: line feeds
// stay, everything else Terminal escapes is escaped.
func TerminalLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Terminal(l)
	}
	return strings.Join(lines, "\n")
}

// clean reports whether s needs no escaping, the common case.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c >= 0x7f {
			return !strings.ContainsFunc(s, func(r rune) bool {
				return r == utf8.RuneError || r < 0x20 && r != '\t' || r == 0x7f || unsafeRune(r)
			}) && utf8.ValidString(s)
		}
	}
	return true
}

// unsafeRune is a non-ASCII character that changes how text around it
// shows: C1 controls, bidirectional marks, embeddings, overrides and
// isolates, line and paragraph separators, and the BOM.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0xfeff:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// SARIF is s for a SARIF message: the JSON encoder quotes it, and viewers
// show the decoded text, so the characters Terminal escapes are escaped
// here too.
func SARIF(s string) string { return Terminal(s) }

// JSON is s for gantry's JSON output: the same guarantee, so a consumer
// that prints a field does not print a control.
func JSON(s string) string { return Terminal(s) }

// GitHubData is s as the message of a GitHub workflow command
// (::error ...::MESSAGE): line breaks are percent-encoded as the runner
// expects (it shows them in the annotation) and no other control survives,
// so the line cannot end early and start another command.
func GitHubData(s string) string {
	return Terminal(ghData.Replace(s))
}

// GitHubProperty is s as a property value of a workflow command
// (file=..., title=...), where ':' and ',' separate too.
func GitHubProperty(s string) string {
	return Terminal(ghProperty.Replace(s))
}

var (
	ghData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	// Emphasis (* and _) is left alone: it changes no meaning, and escaping
	// it would clutter status names such as UPDATE_ROLLBACK_COMPLETE.
	mdText = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "`", "'", "[", `\[`, "]", `\]`)
	mdCode = strings.NewReplacer("`", "'", "|", `\|`)
)

// Markdown is s as GitHub-flavoured Markdown text on one line, in a table
// cell or a paragraph: no HTML, link, code span or pipe starts in it.
func Markdown(s string) string {
	return mdText.Replace(Terminal(oneLine(s)))
}

// MarkdownCode is s inside a `code span` on one line.
func MarkdownCode(s string) string {
	return mdCode.Replace(Terminal(oneLine(s)))
}

// oneLine joins lines with a space: a newline would end a table row.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
