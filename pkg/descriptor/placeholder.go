package descriptor

import (
	"fmt"
	"slices"
	"strings"
)

// Placeholder names other than resource outputs.
var plainPlaceholders = []string{"service", "stage", "region", "account", "version"}

// Segment is a piece of a string that may hold placeholders: either literal
// text or a reference.
type Segment struct {
	Literal string
	Ref     *Ref
}

// Ref is one ${...} placeholder.
type Ref struct {
	// Name is service, stage, region, account, version or resources.
	Name string
	// Resource and Output are set for ${resources.NAME.OUTPUT}.
	Resource, Output string
	// Offset is the byte offset of "${" in the string; Len covers up to "}".
	Offset, Len int
}

// String gives the placeholder as written.
func (r Ref) String() string {
	if r.Name == "resources" {
		return "${resources." + r.Resource + "." + r.Output + "}"
	}
	return "${" + r.Name + "}"
}

// ParseTemplate splits s into literals and placeholders. "$${" is an escaped
// "${". Every malformed placeholder is an error; the error's offset is where
// it starts.
func ParseTemplate(s string) ([]Segment, *TemplateError) {
	var segs []Segment
	var lit strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			lit.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			lit.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, &TemplateError{Offset: i, Msg: "unterminated placeholder: add the closing \"}\" (write $${ for a literal ${)"}
		}
		body := s[i+2 : i+end]
		ref, err := parseRef(body)
		if err != nil {
			return nil, &TemplateError{Offset: i, Msg: err.Error()}
		}
		ref.Offset, ref.Len = i, end+1
		if lit.Len() > 0 {
			segs = append(segs, Segment{Literal: lit.String()})
			lit.Reset()
		}
		segs = append(segs, Segment{Ref: ref})
		i += end + 1
	}
	if lit.Len() > 0 {
		segs = append(segs, Segment{Literal: lit.String()})
	}
	return segs, nil
}

// TemplateError is a malformed placeholder at a byte offset of a string.
type TemplateError struct {
	Offset int
	Msg    string
}

func (e *TemplateError) Error() string { return e.Msg }

func parseRef(body string) (*Ref, error) {
	if slices.Contains(plainPlaceholders, body) {
		return &Ref{Name: body}, nil
	}
	parts := strings.Split(body, ".")
	if parts[0] == "resources" {
		if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("placeholder ${%s} must have the form ${resources.NAME.OUTPUT}", body)
		}
		return &Ref{Name: "resources", Resource: parts[1], Output: parts[2]}, nil
	}
	msg := fmt.Sprintf("unknown placeholder ${%s}; use one of ${service}, ${stage}, ${region}, ${account}, ${version} or ${resources.NAME.OUTPUT}", body)
	if s := Suggest(body, plainPlaceholders); s != "" {
		msg = fmt.Sprintf("unknown placeholder ${%s}; did you mean ${%s}?", body, s)
	}
	return nil, fmt.Errorf("%s", msg)
}
