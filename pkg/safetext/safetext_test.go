package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile holds what a descriptor can carry: an OSC title, a colour, BEL,
// a C1 CSI, a right-to-left override, an isolate, a line separator, a
// newline with a workflow command after it, and a byte that is not UTF-8.
const hostile = "a\x1b]0;pwned\x07b\x1b[31mc\u009b2Jd\u202ee\u2066f\u2028g\n::error::forged\rh\xffi\tj"

func forbidden(r rune) bool {
	return r != '\t' && (r < 0x20 || r == 0x7f || unsafeRune(r))
}

func TestEveryOutputEscapesControls(t *testing.T) {
	for name, f := range map[string]func(string) string{
		"Terminal": Terminal, "SARIF": SARIF, "JSON": JSON, "GitHubData": GitHubData,
		"GitHubProperty": GitHubProperty, "Markdown": Markdown, "MarkdownCode": MarkdownCode,
	} {
		got := f(hostile)
		if !utf8.ValidString(got) {
			t.Errorf("%s: invalid UTF-8 in %q", name, got)
		}
		if i := strings.IndexFunc(got, forbidden); i >= 0 {
			t.Errorf("%s: %q keeps a control at %d", name, got, i)
		}
		if strings.Contains(got, "\n") || strings.Contains(got, "\r") {
			t.Errorf("%s: %q has a line break", name, got)
		}
	}
}

func TestTerminalShowsWhatItEscapes(t *testing.T) {
	got := Terminal("x\x1b[31my\u202ez\xff\tw")
	if want := `x\x1b[31my\u202ez\xff` + "\tw"; got != want {
		t.Errorf("Terminal = %q, want %q", got, want)
	}
	for _, s := range []string{"plain", "ünïcödé ✅", "tab\there", ""} {
		if Terminal(s) != s {
			t.Errorf("Terminal changed %q to %q", s, Terminal(s))
		}
	}
}

func TestGitHubLineCannotStartACommand(t *testing.T) {
	got := GitHubData("oops\n::error file=x::forged\r\n::add-mask::y%0A")
	if strings.ContainsAny(got, "\r\n") || !strings.HasSuffix(got, "%250A") {
		t.Errorf("GitHubData = %q", got)
	}
	if got := GitHubProperty("a:b,c"); got != "a%3Ab%2Cc" {
		t.Errorf("GitHubProperty = %q", got)
	}
}

func TestMarkdownStartsNoMarkup(t *testing.T) {
	got := Markdown("x | <img src=y> [link](z) *b* _i_ `c`\nrow")
	for _, bad := range []string{" | ", "<img", "[link]", "`", "\n"} {
		if strings.Contains(got, bad) {
			t.Errorf("Markdown = %q keeps %q", got, bad)
		}
	}
}

func TestTerminalLinesKeepsLineFeeds(t *testing.T) {
	if got := TerminalLines("a\x1b[2J\nb\u202e"); got != "a\\x1b[2J\nb\\u202e" {
		t.Errorf("TerminalLines = %q", got)
	}
}
