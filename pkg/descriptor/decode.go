package descriptor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/kinds"
)

// Limits on hostile input. A real descriptor is a few hundred nodes deep at
// most a dozen levels; these leave room and still stop alias bombs.
const (
	maxNodes = 100_000
	maxDepth = 64
	// maxProblems keeps the output readable when a file is garbage.
	maxProblems = 200
	// ctxEvery is how many nodes are decoded between looks at the
	// context: often enough to stop within milliseconds.
	ctxEvery = 1024
)

var (
	typeNode     = reflect.TypeFor[*yaml.Node]()
	typeDuration = reflect.TypeFor[Duration]()
	typeResource = reflect.TypeFor[Resource]()
)

type decoder struct {
	// ctx stops a long load when the caller gives up (Ctrl-C); nil never.
	ctx context.Context
	// checked is visits at the last look at ctx.
	checked int
	// src is the file, to point inside its scalars.
	src    []byte
	probs  []Problem
	pos    Positions
	visits int
	// spent is set once the node budget ran out; decoding then stops.
	spent bool
}

func (dc *decoder) add(sp Span, code, format string, args ...any) {
	dc.probs = append(dc.probs, Problem{Span: sp, Code: code, Message: fmt.Sprintf(format, args...)})
}

// visit counts a node against the budget and reports when it is spent.
func (dc *decoder) visit(n *yaml.Node) bool {
	return dc.charge(n, 1)
}

// charge counts k nodes against the budget at n. A merge key's expansion is
// charged before it is made, so `<<: [*a, *a, ...]` cannot copy a large
// mapping many times over inside the budget.
func (dc *decoder) charge(n *yaml.Node, k int) bool {
	if dc.spent {
		return false
	}
	dc.visits += k
	if dc.ctx != nil && dc.visits-dc.checked >= ctxEvery {
		dc.checked = dc.visits
		if err := dc.ctx.Err(); err != nil {
			dc.spent = true
			dc.add(span(n), CodeSyntax, "loading stopped: %v", err)
			return false
		}
	}
	if dc.visits > maxNodes {
		dc.spent = true
		dc.add(span(n), CodeSyntax, "the document has more than %d nodes, counting what aliases and merge keys (<<) expand to; write the descriptor out plainly, or split it", maxNodes)
		return false
	}
	return true
}

// Parse decodes src (named file in problems) into a Descriptor, applying
// defaults and stage overrides. Every defect found is returned as a
// problem, all of them in one pass. A panic would be a bug of gantry's: it
// is not turned into a problem, so that a crash is never read as a verdict
// on the file (the fuzz targets look for them; the commands report them as
// internal errors).
func Parse(file string, src []byte) (d *Descriptor, probs []Problem) {
	return ParseContext(context.Background(), file, src)
}

// ParseContext is Parse that stops early, with a problem saying so, when
// ctx is done: a caller interrupted by Ctrl-C checks ctx.Err() after it.
func ParseContext(ctx context.Context, file string, src []byte) (d *Descriptor, probs []Problem) {
	d = &Descriptor{File: file, Source: src, Pos: Positions{}}
	defer func() { clampToFile(src, probs) }()
	if len(src) > MaxFileSize {
		return d, []Problem{{Span: Span{1, 1, 1, 1}, Code: CodeSyntax,
			Message: fmt.Sprintf("file is larger than %d bytes; a descriptor should be a page of YAML", MaxFileSize)}}
	}
	if err := ctx.Err(); err != nil {
		return d, []Problem{{Span: Span{1, 1, 1, 1}, Code: CodeSyntax, Message: fmt.Sprintf("loading stopped: %v", err)}}
	}
	doc, p := parseYAML(src)
	if p != nil {
		return d, []Problem{*p}
	}
	dc := &decoder{ctx: ctx, src: src, pos: d.Pos}
	if doc.Kind != yaml.MappingNode {
		dc.add(span(doc), CodeType, "a descriptor is a YAML mapping of keys such as service, image and stages; found %s", kindName(doc))
		return d, dc.probs
	}
	dc.decode(doc, reflect.ValueOf(d).Elem(), "", 0)
	if !dc.spent {
		dc.check(d)
		applyDefaults(&d.Spec, d.Pos)
		dc.stages(d, doc)
	}
	probs = dedupe(dc.probs)
	if len(probs) > maxProblems {
		last, hidden := probs[maxProblems-1], len(probs)-maxProblems
		probs = append(probs[:maxProblems:maxProblems], Problem{Span: last.Span, Code: last.Code,
			Message: fmt.Sprintf("%d more problems not shown; fix these first", hidden)})
	}
	return d, probs
}

func parseYAML(src []byte) (*yaml.Node, *Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Problem{Span: Span{1, 1, 1, 1}, Code: CodeSyntax, Message: "file is empty; run `gantry init` for a starter descriptor"}
		}
		return nil, syntaxProblem(src, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Problem{Span: span(&extra), Code: CodeSyntax, Message: "a descriptor holds one YAML document; remove the `---` and what follows, or move it to its own file"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxProblem(src, err)
	}
	if len(root.Content) == 0 {
		return nil, &Problem{Span: Span{1, 1, 1, 1}, Code: CodeSyntax, Message: "file is empty; run `gantry init` for a starter descriptor"}
	}
	return root.Content[0], nil
}

// digitsRe is an integer that YAML read as a float because it overflows.
var digitsRe = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

var (
	lineRe   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	anchorRe = regexp.MustCompile(`^yaml: unknown anchor '([^']*)' referenced`)
)

func syntaxProblem(src []byte, err error) *Problem {
	msg := err.Error()
	line := 1
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		// yaml.v3 reports parser errors with a 0-based line.
		if strings.HasPrefix(msg, "did not find expected") {
			line++
		}
	} else if m := anchorRe.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(src, []byte("*"+m[1])); i >= 0 {
			line = bytes.Count(src[:i], []byte("\n")) + 1
		}
		msg = strings.TrimPrefix(msg, "yaml: ") + "; define it with &" + m[1] + " before using it"
	} else if p := badCharacter(src); p != nil {
		// yaml.v3 names no place for these; the reader finds it.
		return p
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	// yaml.v3 may name the line after the last one for an error at EOF.
	line = max(1, min(line, bytes.Count(src, []byte("\n"))+1))
	return &Problem{Span: Span{line, 1, line, 1}, Code: CodeSyntax, Message: "invalid YAML: " + msg}
}

// badCharacter finds the first byte of src that YAML does not allow: one
// that is not UTF-8, or a control character other than tab and line
// breaks. It returns nil when there is none.
func badCharacter(src []byte) *Problem {
	line, col := 1, 1
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		var what string
		switch {
		case r == utf8.RuneError && size <= 1:
			what = fmt.Sprintf("the byte 0x%02x is not UTF-8; save the file as UTF-8", src[i])
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f, r >= 0x80 && r < 0xa0 && r != 0x85, r == 0xfffe, r == 0xffff:
			what = fmt.Sprintf("control character U+%04X is not allowed in YAML; remove it", r)
		}
		if what != "" {
			return &Problem{Span: Span{line, col, line, col + 1}, Code: CodeSyntax, Message: "invalid YAML: " + what}
		}
		// Lines end as yaml.v3 ends them (see clampToFile).
		switch {
		case r == '\r' && i+1 < len(src) && src[i+1] == '\n':
			i++
			fallthrough
		case r == '\r' || r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029:
			line, col = line+1, 0
		}
		i, col = i+size, col+1
	}
	return nil
}

// clampToFile moves a problem that yaml.v3 placed past the end of src (the
// empty document of a lone "---", say) to the end of its last line, so that
// every problem points inside the file. Lines end as yaml.v3 ends them.
func clampToFile(src []byte, probs []Problem) {
	line, lastStart := 1, 0
	for i := 0; i < len(src); {
		n := 0
		switch {
		case src[i] == '\r' && i+1 < len(src) && src[i+1] == '\n':
			n = 2
		case src[i] == '\r' || src[i] == '\n':
			n = 1
		case bytes.HasPrefix(src[i:], []byte("\u0085")):
			n = 2
		case bytes.HasPrefix(src[i:], []byte("\u2028")) || bytes.HasPrefix(src[i:], []byte("\u2029")):
			n = 3
		}
		if n == 0 {
			i++
			continue
		}
		i += n
		line, lastStart = line+1, i
	}
	end := Span{line, utf8.RuneCount(src[lastStart:]) + 1, line, utf8.RuneCount(src[lastStart:]) + 1}
	for i := range probs {
		if probs[i].Line > line {
			probs[i].Span = end
		}
	}
}

// span gives the source span of a node. Scalars on one line get their exact
// width; collections get their first character.
func span(n *yaml.Node) Span {
	s := Span{Line: max(n.Line, 1), Column: max(n.Column, 1)}
	s.EndLine, s.EndColumn = s.Line, s.Column+1
	if n.Kind == yaml.ScalarNode && !strings.Contains(n.Value, "\n") {
		w := utf8.RuneCountInString(n.Value)
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			w += 2
		}
		s.EndColumn = s.Column + max(w, 1)
	}
	return s
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing (null)"
	case "!!int", "!!float":
		return fmt.Sprintf("the number %s", n.Value)
	case "!!bool":
		return fmt.Sprintf("the boolean %s", n.Value)
	}
	return fmt.Sprintf("the string %q", n.Value)
}

func resolve(n *yaml.Node) *yaml.Node {
	// An alias chain is bounded by the document; guard anyway.
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decode fills v from n, recording positions under path.
func (dc *decoder) decode(n *yaml.Node, v reflect.Value, path string, depth int) {
	n = resolve(n)
	if n == nil || !dc.visit(n) {
		return
	}
	if depth > maxDepth {
		dc.spent = true
		dc.add(span(n), CodeSyntax, "the document nests deeper than %d levels", maxDepth)
		return
	}
	dc.pos[path] = span(n)
	if !dc.plainTag(n, path) {
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && v.Type() != typeNode {
		return // an empty value leaves the default
	}
	switch {
	case v.Type() == typeNode:
		v.Set(reflect.ValueOf(n))
		dc.record(n, path, depth)
		return
	case v.Type() == typeDuration:
		dc.duration(n, v, path)
		return
	case v.Type() == typeResource:
		dc.resource(n, v.Addr().Interface().(*Resource), path, depth)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		wasNil, before := v.IsNil(), len(dc.probs)
		if wasNil {
			v.Set(reflect.New(v.Type().Elem()))
		}
		dc.decode(n, v.Elem(), path, depth)
		// A value that did not load is absent, not zero: a wrong-typed
		// port is one problem, not also "port 0 is out of range".
		if wasNil && len(dc.probs) > before && v.Elem().IsZero() {
			v.Set(reflect.Zero(v.Type()))
		}
	case reflect.Struct:
		dc.structure(n, v, path, depth, nil)
	case reflect.Map:
		dc.mapping(n, v, path, depth)
	case reflect.Slice:
		dc.list(n, v, path, depth)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			dc.add(span(n), CodeType, "%s must be a string, found %s", describe(path), kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		dc.wholeNumber(n, v, path)
	case reflect.Float64:
		dc.realNumber(n, v, path)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			dc.add(span(n), CodeType, "%s must be true or false, found %s", describe(path), kindName(n))
			return
		}
		var b bool
		_ = n.Decode(&b)
		v.SetBool(b)
	default:
		dc.add(span(n), CodeType, "%s has an unsupported type", describe(path))
	}
}

// plainTags are the YAML tags a descriptor may spell out; any other
// (CloudFormation's !Ref, !!binary, !!timestamp) would be read as plain
// text or dropped, so it is refused.
var plainTags = []string{"!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq", "!!merge"}

// plainTag reports a tag the descriptor format does not have.
func (dc *decoder) plainTag(n *yaml.Node, path string) bool {
	if n.Style&yaml.TaggedStyle == 0 || n.Tag == "!" || slices.Contains(plainTags, n.ShortTag()) {
		return true
	}
	dc.add(span(n), CodeType, "%s has the YAML tag %s, which gantry does not read; a descriptor is plain YAML (CloudFormation's short forms such as !Ref do not apply): remove the tag", describe(path), n.Tag)
	return false
}

// list fills the slice v from the sequence n, one element a list item.
func (dc *decoder) list(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.SequenceNode {
		dc.add(span(n), CodeType, "%s must be a list, found %s", describe(path), kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		dc.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1)
	}
	v.Set(s)
}

// wholeNumber fills the int v from n; a quoted number is refused with a hint
// to remove the quotes.
func (dc *decoder) wholeNumber(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && digitsRe.MatchString(n.Value) {
		dc.add(span(n), CodeType, "%s: %s is too large; a whole number here is at most %d", describe(path), n.Value, math.MaxInt)
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
			if _, err := strconv.Atoi(n.Value); err == nil {
				hint = "; remove the quotes"
			}
		}
		dc.add(span(n), CodeType, "%s must be a whole number, found %s%s", describe(path), kindName(n), hint)
		return
	}
	var i int
	if err := n.Decode(&i); err != nil {
		dc.add(span(n), CodeType, "%s: %s is too large; a whole number here is at most %d", describe(path), n.Value, math.MaxInt)
		return
	}
	v.SetInt(int64(i))
}

// realNumber fills the float64 v from a YAML int or float; NaN and the
// infinities are refused, as no setting means them.
func (dc *decoder) realNumber(n *yaml.Node, v reflect.Value, path string) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") {
		hint := ""
		if n.Kind == yaml.ScalarNode && tag == "!!str" {
			if _, err := strconv.ParseFloat(n.Value, 64); err == nil {
				hint = "; remove the quotes"
			}
		}
		dc.add(span(n), CodeType, "%s must be a number, found %s%s", describe(path), kindName(n), hint)
		return
	}
	var f float64
	if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		dc.add(span(n), CodeType, "%s: %s is not a finite number", describe(path), n.Value)
		return
	}
	v.SetFloat(f)
}

func describe(path string) string {
	if path == "" {
		return "the descriptor"
	}
	return "`" + path + "`"
}

func (dc *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		dc.add(span(n), CodeType, "%s must be a duration such as 10m, found %s", describe(path), kindName(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	switch {
	case err != nil && n.ShortTag() == "!!int":
		dc.add(span(n), CodeDuration, "%s: %s has no unit; write a Go duration such as %ss or %sm", describe(path), n.Value, n.Value, n.Value)
		return
	case err != nil:
		dc.add(span(n), CodeDuration, "%s: %q is not a duration; use Go syntax such as 90s, 10m or 1h30m", describe(path), n.Value)
		return
	case dur < 0:
		dc.add(span(n), CodeDuration, "%s: %s is negative; use 0s for no wait", describe(path), n.Value)
		return
	}
	v.Set(reflect.ValueOf(Duration{Duration: dur, Set: true}))
}

// fieldInfo is one YAML key of a struct.
type fieldInfo struct {
	name     string
	index    []int
	required bool
}

// fieldsOf lists a struct's YAML keys, flattening `,inline` fields.
func fieldsOf(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			for _, sub := range fieldsOf(f.Type) {
				sub.index = append([]int{i}, sub.index...)
				out = append(out, sub)
			}
			continue
		}
		out = append(out, fieldInfo{name: name, index: []int{i}, required: f.Tag.Get("required") == "true"})
	}
	return out
}

// FieldNames lists the YAML keys of a descriptor struct type (for tools and
// docs).
func FieldNames(v any) []string {
	var names []string
	for _, f := range fieldsOf(reflect.TypeOf(v)) {
		names = append(names, f.name)
	}
	return names
}

// entries returns a mapping's key/value pairs with `<<` merge keys expanded
// (explicit keys win) and duplicate keys reported.
func (dc *decoder) entries(n *yaml.Node, path string) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	seen := map[string]*yaml.Node{}
	var merged [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			dc.add(span(k), CodeType, "keys in %s must be plain strings, found %s", describe(path), kindName(k))
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			for _, src := range mergeSources(val) {
				if !dc.charge(k, len(src.Content)/2) {
					return out
				}
				for j := 0; j+1 < len(src.Content); j += 2 {
					merged = append(merged, [2]*yaml.Node{src.Content[j], src.Content[j+1]})
				}
			}
			continue
		}
		if first, dup := seen[k.Value]; dup {
			dc.add(span(k), CodeDuplicate, "key %q is given twice in %s (first at line %d); keep one", k.Value, describe(path), first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, [2]*yaml.Node{k, val})
	}
	for _, kv := range merged {
		if kv[0].Kind != yaml.ScalarNode {
			continue
		}
		if _, ok := seen[kv[0].Value]; !ok {
			seen[kv[0].Value] = kv[0]
			out = append(out, kv)
		}
	}
	return out
}

func mergeSources(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		return []*yaml.Node{n}
	}
	var out []*yaml.Node
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if c = resolve(c); c != nil && c.Kind == yaml.MappingNode {
				out = append(out, c)
			}
		}
	}
	return out
}

// structure decodes a mapping into a struct. skip lists keys handled by the
// caller (the `type` of a resource).
func (dc *decoder) structure(n *yaml.Node, v reflect.Value, path string, depth int, skip []string) {
	if n.Kind != yaml.MappingNode {
		dc.add(span(n), CodeType, "%s must be a mapping of keys, found %s", describe(path), kindName(n))
		return
	}
	fields := fieldsOf(v.Type())
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	present := map[string]bool{}
	for _, kv := range dc.entries(n, path) {
		k := kv[0].Value
		if slices.Contains(skip, k) {
			present[k] = true
			continue
		}
		i := slices.Index(names, k)
		p := join(path, k)
		if i < 0 {
			dc.unknownKey(kv[0], path, k, names)
			continue
		}
		present[k] = true
		dc.pos[p+"#key"] = span(kv[0])
		dc.decode(kv[1], v.FieldByIndex(fields[i].index), p, depth+1)
	}
	for _, f := range fields {
		if f.required && !present[f.name] {
			dc.add(span(n), CodeRequired, "%s is missing the required key %q", describeMapping(path), f.name)
		}
	}
}

func describeMapping(path string) string {
	if path == "" {
		return "the descriptor"
	}
	return "`" + path + "`"
}

func (dc *decoder) unknownKey(k *yaml.Node, path, key string, names []string) {
	where := describeMapping(path)
	if s := Suggest(key, names); s != "" {
		dc.add(span(k), CodeUnknownKey, "unknown key %q in %s; did you mean %q?", key, where, s)
		return
	}
	dc.add(span(k), CodeUnknownKey, "unknown key %q in %s; allowed keys: %s", key, where, strings.Join(names, ", "))
}

func (dc *decoder) mapping(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		dc.add(span(n), CodeType, "%s must be a mapping, found %s", describe(path), kindName(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	for _, kv := range dc.entries(n, path) {
		p := join(path, kv[0].Value)
		dc.pos[p+"#key"] = span(kv[0])
		elem := reflect.New(v.Type().Elem()).Elem()
		dc.decode(kv[1], elem, p, depth+1)
		m.SetMapIndex(reflect.ValueOf(kv[0].Value), elem)
	}
	v.Set(m)
}

// kindList is "postgres, redis or s3": the kinds a `type` may name.
func kindList() string {
	names := kinds.Names()
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// resourceKeys are the keys every resource has beside its kind's.
var resourceKeys = []string{"type", "access"}

func (dc *decoder) resource(n *yaml.Node, r *Resource, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		dc.add(span(n), CodeType, "%s must be a mapping with a `type` (%s), found %s", describe(path), kindList(), kindName(n))
		return
	}
	var typ, access *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "type":
			typ = resolve(n.Content[i+1])
		case "access":
			dc.pos[join(path, "access")+"#key"] = span(n.Content[i])
			access = resolve(n.Content[i+1])
		}
	}
	if typ == nil {
		dc.add(span(n), CodeRequired, "%s is missing the required key \"type\" (%s)", describeMapping(path), kindList())
		return
	}
	dc.pos[join(path, "type")] = span(typ)
	r.Type = typ.Value
	k, ok := kinds.Lookup(r.Type)
	if !ok {
		msg := fmt.Sprintf("%s: unknown resource type %q; use %s", describe(join(path, "type")), r.Type, kindList())
		if s := Suggest(r.Type, kinds.Names()); s != "" {
			msg = fmt.Sprintf("%s: unknown resource type %q; did you mean %q?", describe(join(path, "type")), r.Type, s)
		}
		dc.add(span(typ), CodeValue, "%s", msg)
		return
	}
	r.Kind, r.Settings = k, k.New()
	if access != nil {
		dc.access(access, r, join(path, "access"))
	}
	dc.structure(n, reflect.ValueOf(r.Settings).Elem(), path, depth, resourceKeys)
}

// accessLevels are what `access` may say.
var accessLevels = []string{kind.AccessRead, kind.AccessWrite}

func (dc *decoder) access(n *yaml.Node, r *Resource, path string) {
	dc.pos[path] = span(n)
	if n.Kind != yaml.ScalarNode || !slices.Contains(accessLevels, n.Value) {
		msg := fmt.Sprintf("%s: %q is not an access level; use read or write", describe(path), n.Value)
		if s := Suggest(n.Value, accessLevels); s != "" && n.Kind == yaml.ScalarNode {
			msg = fmt.Sprintf("%s: %q is not an access level; did you mean %q?", describe(path), n.Value, s)
		}
		dc.add(span(n), CodeValue, "%s", msg)
		return
	}
	r.Access = n.Value
}

// record stores the positions inside a node kept as raw YAML (overrides),
// so that findings about it point at the right line.
func (dc *decoder) record(n *yaml.Node, path string, depth int) {
	n = resolve(n)
	if n == nil || depth > maxDepth || !dc.visit(n) {
		return
	}
	dc.pos[path] = span(n)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			dc.pos[p+"#key"] = span(n.Content[i])
			dc.record(n.Content[i+1], p, depth+1)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			dc.record(c, fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	}
}
