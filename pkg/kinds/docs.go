package kinds

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"github.com/gantryhq/gantry/pkg/kind"
)

// Markers around the part of docs/descriptor.md that Markdown writes.
const (
	DocBegin = "<!-- kinds:begin: generated from pkg/kind by go test ./pkg/kinds -update; edits between these lines are replaced -->"
	DocEnd   = "<!-- kinds:end -->"
)

// Markdown is the resource kinds' part of docs/descriptor.md: for each
// kind, what it is, its keys with their defaults, and its outputs.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString(DocBegin + "\n\n")
	b.WriteString("Every resource takes `type` (one of " + list(Names()) + ") and `access`: `read` or `write` (default `write`), what the service's task role may do with it.\n")
	for _, k := range All() {
		fmt.Fprintf(&b, "\n### %s\n\n%s\n\n", k.Name(), k.Summary())
		b.WriteString("| key | type | notes |\n|---|---|---|\n")
		fields(&b, "", reflect.TypeOf(k.New()).Elem())
		var outs []string
		for _, o := range outputs(k) {
			s := "`" + o.Name + "`"
			if o.Secret {
				s += " (secret)"
			}
			outs = append(outs, s)
		}
		fmt.Fprintf(&b, "\nOutputs: %s.\n", strings.Join(outs, ", "))
	}
	b.WriteString("\n" + DocEnd + "\n")
	return b.Bytes()
}

// outputs lists every output a kind may have: those of its settings with
// their defaults, plus any that only some settings add (a stream's ARN).
func outputs(k kind.Kind) []kind.Output {
	s := k.New()
	s.Defaults(func(string) bool { return false })
	out := s.Outputs()
	if o, ok := s.(interface{ AllOutputs() []kind.Output }); ok {
		out = o.AllOutputs()
	}
	return out
}

// fields writes one row per YAML key of t, nested structs flattened with
// dotted keys.
func fields(b *bytes.Buffer, prefix string, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[kind.Duration]() {
			fmt.Fprintf(b, "| `%s%s` | mapping | %s |\n", prefix, name, f.Tag.Get("doc"))
			fields(b, prefix+name+".", ft)
			continue
		}
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			fmt.Fprintf(b, "| `%s%s` | list | %s |\n", prefix, name, f.Tag.Get("doc"))
			fields(b, prefix+name+"[].", ft.Elem())
			continue
		}
		req := ""
		if f.Tag.Get("required") == "true" {
			req = " Required."
		}
		fmt.Fprintf(b, "| `%s%s` | %s | %s%s |\n", prefix, name, typeName(ft), f.Tag.Get("doc"), req)
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[kind.Duration]():
		return "duration"
	case t.Kind() == reflect.Map:
		return "mapping"
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Int:
		return "int"
	}
	return t.Kind().String()
}

// list joins names as "`a`, `b` or `c`".
func list(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
