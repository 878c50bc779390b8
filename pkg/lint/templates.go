package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// templated is one string value of a Spec that may hold placeholders.
type templated struct {
	path, value string
	// env is "env" or "secrets" for environment variables, else "".
	env string
}

// templatedValues lists the values of s that may hold placeholders, in a
// stable order.
func templatedValues(s *descriptor.Spec) []templated {
	out := []templated{{path: "image", value: s.Image}}
	for i, c := range s.Compute.Command {
		out = append(out, templated{path: fmt.Sprintf("compute.command[%d]", i), value: c})
	}
	if s.Routing != nil {
		out = append(out, templated{path: "routing.path", value: s.Routing.Path}, templated{path: "routing.host", value: s.Routing.Host})
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		out = append(out, templated{path: "env." + k, value: s.Env[k], env: "env"})
	}
	for _, k := range slices.Sorted(maps.Keys(s.Secrets)) {
		out = append(out, templated{path: "secrets." + k, value: s.Secrets[k], env: "secrets"})
	}
	return out
}

// refs returns the placeholders of a well-formed value; a malformed one is
// the loader's problem (GN109) and yields none.
func refs(value string) []descriptor.Ref {
	segs, err := descriptor.ParseTemplate(value)
	if err != nil {
		return nil
	}
	var out []descriptor.Ref
	for _, s := range segs {
		if s.Ref != nil {
			out = append(out, *s.Ref)
		}
	}
	return out
}

// within narrows sp, the span of a one-line scalar holding value in src, to
// n bytes at byte offset off of the value. It keeps sp when the scalar's
// text is not the value verbatim (escapes, folding), where offsets cannot
// be mapped.
func within(src []byte, sp descriptor.Span, value string, off, n int) descriptor.Span {
	if sp.Line != sp.EndLine || off < 0 || off+n > len(value) {
		return sp
	}
	line, ok := sourceLine(src, sp.Line)
	if !ok {
		return sp
	}
	// Columns count characters.
	runes := []rune(line)
	if sp.Column < 1 || sp.Column > len(runes) {
		return sp
	}
	text := string(runes[sp.Column-1:])
	if q := text[0]; q == '"' || q == '\'' {
		text = text[1:]
		sp.Column++
	}
	if !strings.HasPrefix(text, value) {
		return sp // escapes or folding: the text is not the value
	}
	sp.Column += utf8.RuneCountInString(value[:off])
	sp.EndColumn = sp.Column + utf8.RuneCountInString(value[off:off+n])
	return sp
}
