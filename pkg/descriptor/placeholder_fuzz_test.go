package descriptor

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// FuzzPlaceholder: ParseTemplate never panics; a parse gives back the input
// exactly when its segments are written out again, and every error points
// at a "${" inside the input after which nothing before it is malformed.
// The same string as an env value of a descriptor (in whatever YAML style
// yaml.v3 writes it) gives a placeholder problem exactly when it is
// malformed, at the line and column of a "${" of the file.
// The seeds (and testdata/fuzz/FuzzPlaceholder) run in every go test.
func FuzzPlaceholder(f *testing.F) {
	for _, s := range []string{
		"", "plain", "${service}", "${stage}-${region}", "a${account}b${version}c",
		"${resources.db.host}:${resources.db.port}", "$${service}", "$$${service}", "$${", "$", "$$", "${",
		"${}", "${servise}", "${resources}", "${resources.db}", "${resources.db.host.x}", "${resources..host}",
		"${resources.db.}", "x${service", "${${service}}", "é${region}ü", "\xff${stage}\x00", "}${region}}",
		// Placeholder problems in every YAML style: quoted with escapes,
		// multi-byte text before them, several lines (a literal block).
		"'${", "\"${bad}", "\t${x", "éé${bad}", "line one\nx ${bad}\n", "a\n\nb ${service} ${nope}", "${a} ${b}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		segs, err := ParseTemplate(s)
		checkInDescriptor(t, s, err != nil)
		if err != nil {
			checkTemplateError(t, s, err)
			return
		}
		if got := writeTemplate(segs); got != s {
			t.Fatalf("segments %+v write out as %q, not the input %q", segs, got, s)
		}
		prevEnd := 0
		for i, seg := range segs {
			if (seg.Ref == nil) == (seg.Literal == "") {
				t.Fatalf("segment %d is neither a literal nor a placeholder, or both: %+v", i, seg)
			}
			if i > 0 && seg.Ref == nil && segs[i-1].Ref == nil {
				t.Fatalf("segments %d and %d are adjacent literals", i-1, i)
			}
			r := seg.Ref
			if r == nil {
				continue
			}
			if r.Offset < prevEnd || r.Len < 3 || r.Offset+r.Len > len(s) {
				t.Fatalf("placeholder %d at [%d,+%d) is out of order or outside the %d-byte input", i, r.Offset, r.Len, len(s))
			}
			if written := s[r.Offset : r.Offset+r.Len]; written != r.String() {
				t.Fatalf("placeholder at %d is written %q but parsed as %q", r.Offset, written, r.String())
			}
			if r.Name == "resources" {
				if r.Resource == "" || r.Output == "" || strings.Contains(r.Resource+r.Output, ".") {
					t.Fatalf("bad resource reference %+v", r)
				}
			} else if !slices.Contains(plainPlaceholders, r.Name) || r.Resource != "" || r.Output != "" {
				t.Fatalf("bad placeholder %+v", r)
			}
			prevEnd = r.Offset + r.Len
		}
	})
}

// checkTemplateError: the error is at a "${" of s, with a message, and is
// the first one: the text before it parses.
func checkTemplateError(t *testing.T, s string, err *TemplateError) {
	t.Helper()
	if err.Offset < 0 || err.Offset >= len(s) || !strings.HasPrefix(s[err.Offset:], "${") {
		t.Fatalf("error offset %d of %q is not at a \"${\"", err.Offset, s)
	}
	if err.Msg == "" || err.Error() != err.Msg {
		t.Fatalf("error without a message at %d of %q", err.Offset, s)
	}
	if _, perr := ParseTemplate(s[:err.Offset]); perr != nil {
		t.Fatalf("error at %d of %q, but the text before it already fails at %d: %s", err.Offset, s, perr.Offset, perr.Msg)
	}
}

// checkInDescriptor puts s under env: in a valid descriptor and checks the
// placeholder problems the loader reports for it.
func checkInDescriptor(t *testing.T, s string, malformed bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		return // YAML writes such bytes as !!binary, which is not text
	}
	value, err := yaml.Marshal(map[string]string{"A": s})
	if err != nil {
		t.Fatal(err)
	}
	src := minimal + "env:\n" + indent(string(value), "  ")
	_, probs := Parse("f.sd.yaml", []byte(src))
	lines := strings.Split(src, "\n")
	found := false
	for _, p := range probs {
		if p.Code != CodePlaceholder {
			continue
		}
		found = true
		var line []rune
		if p.Line >= 1 && p.Line <= len(lines) {
			line = []rune(lines[p.Line-1])
		}
		if p.Column < 1 || p.Column > len(line) || !strings.HasPrefix(string(line[p.Column-1:]), "${") {
			t.Fatalf("placeholder problem at %d:%d is not at a \"${\" of the file:\n%s\n%+v", p.Line, p.Column, src, p)
		}
	}
	if found != malformed {
		t.Fatalf("malformed %v, but a placeholder problem reported: %v\n%s\n%+v", malformed, found, src, probs)
	}
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

// writeTemplate writes segments back as a template: literal "${" escaped.
func writeTemplate(segs []Segment) string {
	var b strings.Builder
	for _, seg := range segs {
		if seg.Ref != nil {
			b.WriteString(seg.Ref.String())
			continue
		}
		b.WriteString(strings.ReplaceAll(seg.Literal, "${", "$${"))
	}
	return b.String()
}
