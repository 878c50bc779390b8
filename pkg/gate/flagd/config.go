// Package flagd evaluates flagd flag-definition files in-process: state,
// variants, defaultVariant and JsonLogic targeting with flagd's custom
// operators (fractional, sem_ver, starts_with, ends_with), $evaluators and
// $ref, the $flagd context properties, and flagd's reasons and error codes.
// Provider serves a file through the OpenFeature Go SDK and reloads it when
// it changes.
package flagd

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// States a flag may be in.
const (
	StateEnabled  = "ENABLED"
	StateDisabled = "DISABLED"
)

// Flag is one flag of a flag set.
type Flag struct {
	Key   string
	State string
	// Variants maps variant names to their values (bool, string, float64,
	// map[string]any).
	Variants map[string]any
	// DefaultVariant is "" when the file gives none (null or absent): the
	// caller's default is used then.
	DefaultVariant string
	// Targeting is the flag's JsonLogic rule with $refs expanded; nil when
	// the flag has none (or an empty object).
	Targeting any
	// Metadata is the flag set's metadata overlaid with the flag's own.
	Metadata map[string]any
	// Pos is where the flag is defined.
	Pos Pos
	// Fractional is the fractional bucketing algorithm, FractionalV2 or
	// FractionalV3: metadata "fractionalAlgorithm" of the flag, else of
	// the flag set, else DefaultFractional.
	Fractional string

	// refError, when set, is why the targeting could not be assembled (a
	// $ref naming no evaluator): evaluating the flag is a PARSE_ERROR, as in
	// flagd, while the file's other flags still work.
	refError string
	// canon is the flag's definition in canonical JSON, to tell which flags
	// a reload changed.
	canon string
}

// FlagSet is a parsed flag-definition file.
type FlagSet struct {
	File     string
	Flags    map[string]*Flag
	Metadata map[string]any
	// Fractional is the flag set's fractional algorithm (see Flag).
	Fractional string
	// Warnings are problems that do not stop the file from loading (as in
	// flagd), such as a $ref to an evaluator that does not exist: the flags
	// concerned evaluate to an error.
	Warnings []Problem
}

// Keys returns the flag keys in order.
func (s *FlagSet) Keys() []string {
	keys := slices.Collect(maps.Keys(s.Flags))
	sort.Strings(keys)
	return keys
}

// Pos is a position in a flag file.
type Pos struct {
	File   string
	Line   int
	Column int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column) }

// Problem is one thing wrong with a flag file, at a position.
type Problem struct {
	Pos     Pos
	Message string
}

func (p Problem) String() string { return p.Pos.String() + ": " + p.Message }

// LoadError reports a flag file that cannot be used, with every problem
// found and where.
type LoadError struct {
	File     string
	Problems []Problem
	// Err is set when the file could not be read at all.
	Err error
}

func (e *LoadError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("reading flag file %s: %v", e.File, e.Err)
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func (e *LoadError) Unwrap() error { return e.Err }

type loader struct {
	file  string
	data  []byte
	lines *positions
	// expanded counts the values of targeting rules with $refs inlined,
	// against MaxExpandedNodes.
	expanded   int
	overBudget bool
	probs      []Problem
	warns      []Problem
	// refErrs holds, per flag, the first $ref that names no evaluator.
	refErrs map[string]string
}

func (l *loader) pos(off int64) Pos {
	if l.lines == nil {
		l.lines = newPositions(l.data)
	}
	line, col := l.lines.lineCol(off)
	return Pos{File: l.file, Line: line, Column: col}
}

func (l *loader) errorf(off int64, format string, args ...any) {
	l.probs = append(l.probs, Problem{Pos: l.pos(off), Message: fmt.Sprintf(format, args...)})
}

func (l *loader) warnf(off int64, format string, args ...any) {
	l.warns = append(l.warns, Problem{Pos: l.pos(off), Message: fmt.Sprintf(format, args...)})
}

var (
	topLevelKeys = []string{"$schema", "flags", "$evaluators", "metadata"}
	flagKeys     = []string{"state", "variants", "defaultVariant", "targeting", "metadata"}
)

// Parse reads a flag-definition file. Everything wrong with it is reported
// in one *LoadError, each problem with its line and column.
func Parse(file string, data []byte) (*FlagSet, error) {
	l := &loader{file: file, data: data, refErrs: map[string]string{}}
	root, err := parseJSON(data)
	if err != nil {
		oe := err.(*offsetError)
		l.errorf(oe.off, "%s", oe.msg)
		return nil, &LoadError{File: file, Problems: l.probs}
	}
	set := l.flagSet(root)
	if len(l.probs) > 0 {
		return nil, &LoadError{File: file, Problems: l.probs}
	}
	set.Warnings = l.warns
	return set, nil
}

func (l *loader) flagSet(root *node) *FlagSet {
	set := &FlagSet{File: l.file, Flags: map[string]*Flag{}}
	if root.kind != kindObject {
		l.errorf(root.off, "a flag file is a JSON object with a \"flags\" object; this is %s", root.kind)
		return set
	}
	l.unknownKeys(root, topLevelKeys, "top-level property")
	l.duplicateKeys(root, "top-level property")

	if md, _ := root.get("metadata"); md != nil {
		set.Metadata = l.metadata(md)
	}
	evaluators := map[string]*node{}
	if ev, _ := root.get("$evaluators"); ev != nil && ev.kind != kindNull {
		if ev.kind != kindObject {
			l.errorf(ev.off, "$evaluators must be an object of named JsonLogic rules; this is %s", ev.kind)
		} else {
			l.duplicateKeys(ev, "evaluator")
			for i, name := range ev.keys {
				evaluators[name] = ev.vals[i]
				l.checkOperators(fmt.Sprintf("evaluator %q", name), ev.vals[i])
			}
		}
	}

	flags, _ := root.get("flags")
	switch {
	case flags == nil:
		l.errorf(root.off, "missing the required \"flags\" object")
		return set
	case flags.kind != kindObject:
		l.errorf(flags.off, "\"flags\" must be an object mapping flag keys to flags; this is %s", flags.kind)
		return set
	}
	if len(flags.keys) > MaxFlags {
		l.errorf(flags.off, "the file defines %d flags; a flag file may define at most %d (flag file budget): split it", len(flags.keys), MaxFlags)
		return set
	}
	set.Fractional = l.fractionalOf(set.Metadata, DefaultFractional, root.off)
	l.duplicateKeys(flags, "flag")
	for i, key := range flags.keys {
		if f := l.flag(key, flags.keyOffs[i], flags.vals[i], evaluators, set.Metadata); f != nil {
			set.Flags[key] = f
		}
	}
	return set
}

func (l *loader) unknownKeys(obj *node, known []string, what string) {
	for i, k := range obj.keys {
		if slices.Contains(known, k) {
			continue
		}
		msg := fmt.Sprintf("unknown %s %q", what, k)
		if s := suggest(k, known); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
		}
		l.errorf(obj.keyOffs[i], "%s", msg)
	}
}

func (l *loader) duplicateKeys(obj *node, what string) {
	seen := map[string]int64{}
	for i, k := range obj.keys {
		if first, dup := seen[k]; dup {
			l.errorf(obj.keyOffs[i], "%s %q is defined twice (first at %s)", what, k, l.pos(first))
			continue
		}
		seen[k] = obj.keyOffs[i]
	}
}

func (l *loader) metadata(n *node) map[string]any {
	if n.kind == kindNull {
		return nil
	}
	if n.kind != kindObject {
		l.errorf(n.off, "metadata must be an object; this is %s", n.kind)
		return nil
	}
	out := map[string]any{}
	for i, k := range n.keys {
		switch v := n.vals[i]; v.kind {
		case kindString, kindNumber, kindBool:
			out[k] = v.value()
		default:
			l.errorf(v.off, "metadata %q must be a string, number or boolean; this is %s", k, v.kind)
		}
	}
	return out
}

func (l *loader) flag(key string, keyOff int64, n *node, evaluators map[string]*node, setMeta map[string]any) *Flag {
	if key == "" {
		l.errorf(keyOff, "a flag key cannot be empty")
	}
	if n.kind != kindObject {
		l.errorf(n.off, "flag %q must be an object with state and variants; this is %s", key, n.kind)
		return nil
	}
	f := &Flag{Key: key, Pos: l.pos(keyOff)}
	l.unknownKeys(n, flagKeys, fmt.Sprintf("property of flag %q:", key))
	l.duplicateKeys(n, fmt.Sprintf("property of flag %q:", key))

	l.flagState(f, n)
	l.flagVariants(f, n)
	l.flagDefaultVariant(f, n)
	l.flagTargeting(f, n, evaluators)
	l.flagMetadata(f, n, setMeta)
	f.Fractional = l.flagFractional(n, setMeta)
	canon, _ := json.Marshal(map[string]any{
		"state": f.State, "variants": f.Variants, "defaultVariant": f.DefaultVariant,
		"targeting": f.Targeting, "metadata": f.Metadata, "refError": f.refError,
	})
	f.canon = string(canon)
	return f
}

func (l *loader) flagState(f *Flag, n *node) {
	switch st, _ := n.get("state"); {
	case st == nil:
		l.errorf(n.off, "flag %q has no \"state\": give \"ENABLED\" or \"DISABLED\"", f.Key)
	case st.kind != kindString || (st.str != StateEnabled && st.str != StateDisabled):
		l.errorf(st.off, "flag %q: state must be \"ENABLED\" or \"DISABLED\", not %s", f.Key, describe(st))
	default:
		f.State = st.str
	}
}

// flagVariants reads the variants, which must all have one type.
func (l *loader) flagVariants(f *Flag, n *node) {
	key := f.Key
	vars, _ := n.get("variants")
	switch {
	case vars == nil:
		l.errorf(n.off, "flag %q has no \"variants\"", key)
		return
	case vars.kind != kindObject:
		l.errorf(vars.off, "flag %q: variants must be an object mapping variant names to values; this is %s", key, vars.kind)
		return
	case len(vars.keys) == 0:
		l.errorf(vars.off, "flag %q: variants is empty; a flag needs at least one variant", key)
		return
	}
	l.duplicateKeys(vars, fmt.Sprintf("variant of flag %q:", key))
	f.Variants = map[string]any{}
	var firstKind kind
	for i, name := range vars.keys {
		v := vars.vals[i]
		switch v.kind {
		case kindNull:
			l.errorf(v.off, "flag %q: variant %q is null; variants are booleans, strings, numbers or objects", key, name)
			continue
		case kindArray:
			l.errorf(v.off, "flag %q: variant %q is an array; variants are booleans, strings, numbers or objects", key, name)
			continue
		}
		if i == 0 {
			firstKind = v.kind
		} else if v.kind != firstKind {
			l.errorf(v.off, "flag %q: variant %q is %s but variant %q is %s; all variants of a flag have one type", key, name, v.kind, vars.keys[0], firstKind)
		}
		f.Variants[name] = v.value()
	}
}

// flagDefaultVariant reads defaultVariant, which names one of the variants
// read before it (or is null).
func (l *loader) flagDefaultVariant(f *Flag, n *node) {
	dv, _ := n.get("defaultVariant")
	if dv == nil {
		return
	}
	switch dv.kind {
	case kindNull:
	case kindString:
		if _, ok := f.Variants[dv.str]; !ok && f.Variants != nil {
			msg := fmt.Sprintf("flag %q: defaultVariant %q is not one of its variants (%s)", f.Key, dv.str, strings.Join(sortedKeys(f.Variants), ", "))
			if s := suggest(dv.str, sortedKeys(f.Variants)); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			l.errorf(dv.off, "%s", msg)
		}
		f.DefaultVariant = dv.str
	default:
		l.errorf(dv.off, "flag %q: defaultVariant must be a variant name or null; this is %s", f.Key, dv.kind)
	}
}

// flagTargeting reads the targeting rule with the shared evaluators' $refs
// expanded; a rule that cannot be evaluated is kept with its refError.
func (l *loader) flagTargeting(f *Flag, n *node, evaluators map[string]*node) {
	key := f.Key
	t, _ := n.get("targeting")
	if t == nil || t.kind == kindNull {
		return
	}
	if t.kind != kindObject {
		l.errorf(t.off, "flag %q: targeting must be a JsonLogic object; this is %s", key, t.kind)
		return
	}
	if len(t.keys) == 0 {
		return
	}
	f.Targeting = l.expandRefs(key, t, evaluators, nil)
	if l.overBudget {
		return
	}
	f.refError = l.refErrs[key]
	if f.refError == "" {
		if op := unknownOperator(f.Targeting); op != "" {
			f.refError = fmt.Sprintf("targeting uses %q, which is not a JsonLogic or flagd operator", op)
		}
	}
	if f.refError == "" && workEstimate(f.Targeting) > MaxEvalWork {
		f.refError = fmt.Sprintf("targeting would take more than %d steps per evaluation (evaluation budget): loops over loops multiply", MaxEvalWork)
		l.warnf(t.off, "flag %q: %s; evaluating it is a PARSE_ERROR", key, f.refError)
	}
	l.checkOperators(fmt.Sprintf("flag %q", key), t)
}

// flagMetadata is the flag set's metadata with the flag's own on top.
func (l *loader) flagMetadata(f *Flag, n *node, setMeta map[string]any) {
	f.Metadata = maps.Clone(setMeta)
	if md, _ := n.get("metadata"); md != nil {
		if own := l.metadata(md); own != nil {
			if f.Metadata == nil {
				f.Metadata = map[string]any{}
			}
			maps.Copy(f.Metadata, own)
		}
	}
}

// expandRefs returns the rule as plain values with every {"$ref": NAME}
// replaced by the evaluator NAME (its properties merged into the object
// holding the $ref, as flagd's textual substitution does), recursively.
func (l *loader) expandRefs(flag string, n *node, evaluators map[string]*node, stack []string) any {
	// Counting as the copy is built keeps a $ref chain that doubles at each
	// step from being built at all.
	if l.overBudget {
		return nil
	}
	if l.expanded++; l.expanded > MaxExpandedNodes {
		l.overBudget = true
		l.errorf(n.off, "flag %q: targeting rules with every $ref inlined would exceed %d values (flag file budget): a $ref chain that repeats an evaluator doubles at each step", flag, MaxExpandedNodes)
		return nil
	}
	switch n.kind {
	case kindArray:
		out := make([]any, len(n.elems))
		for i, e := range n.elems {
			out[i] = l.expandRefs(flag, e, evaluators, stack)
		}
		return out
	case kindObject:
		out := map[string]any{}
		for i, k := range n.keys {
			v := n.vals[i]
			if k != "$ref" {
				out[k] = l.expandRefs(flag, v, evaluators, stack)
				continue
			}
			if v.kind != kindString {
				l.errorf(v.off, "flag %q: $ref must name an entry of $evaluators; this is %s", flag, v.kind)
				continue
			}
			ev, ok := evaluators[v.str]
			switch {
			case !ok:
				msg := fmt.Sprintf("$ref %q at %s names no entry of $evaluators", v.str, l.pos(v.off))
				if s := suggest(v.str, slices.Sorted(maps.Keys(evaluators))); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				l.warnf(v.off, "flag %q: %s; evaluating it is a PARSE_ERROR", flag, msg)
				if _, seen := l.refErrs[flag]; !seen {
					l.refErrs[flag] = msg
				}
			case slices.Contains(stack, v.str):
				l.errorf(v.off, "flag %q: $ref %q refers to itself (%s)", flag, v.str, strings.Join(append(stack, v.str), " → "))
			case ev.kind != kindObject:
				l.errorf(ev.off, "evaluator %q must be a JsonLogic object; this is %s", v.str, ev.kind)
			default:
				sub, _ := l.expandRefs(flag, ev, evaluators, append(slices.Clone(stack), v.str)).(map[string]any)
				maps.Copy(out, sub)
			}
		}
		return out
	}
	return n.value()
}

// operators JsonLogic (as the jsonlogic module implements it) and flagd know.
var knownOperators = []string{
	"var", "missing", "missing_some", "if", "?:", "==", "===", "!=", "!==", "!", "!!", "or", "and",
	">", ">=", "<", "<=", "max", "min", "+", "-", "*", "/", "%", "abs", "map", "reduce", "filter",
	"all", "none", "some", "merge", "in", "in_sorted", "cat", "substr", "set",
	"$ref", "fractional", "sem_ver", "starts_with", "ends_with",
}

// checkOperators warns about operators that evaluation will reject (flagd
// loads such a file; evaluating the flag is a PARSE_ERROR).
func (l *loader) checkOperators(what string, n *node) {
	switch n.kind {
	case kindArray:
		for _, e := range n.elems {
			l.checkOperators(what, e)
		}
	case kindObject:
		if len(n.keys) == 1 && !slices.Contains(knownOperators, n.keys[0]) {
			msg := fmt.Sprintf("%s: unknown JsonLogic operator %q; evaluating it is a PARSE_ERROR", what, n.keys[0])
			if s := suggest(n.keys[0], knownOperators); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			l.warnf(n.keyOffs[0], "%s", msg)
		}
		for _, v := range n.vals {
			l.checkOperators(what, v)
		}
	}
}

// unknownOperator returns the first operator of an expanded rule that
// neither JsonLogic nor flagd defines, or "". (The jsonlogic module would
// treat such an object as a unary truthiness test instead of refusing it.)
func unknownOperator(v any) string {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if op := unknownOperator(e); op != "" {
				return op
			}
		}
	case map[string]any:
		if len(x) == 1 {
			for k := range x {
				if !slices.Contains(knownOperators, k) || k == "$ref" {
					return k
				}
			}
		}
		for _, e := range x {
			if op := unknownOperator(e); op != "" {
				return op
			}
		}
	}
	return ""
}

func describe(n *node) string {
	if n.kind == kindString {
		return fmt.Sprintf("%q", n.str)
	}
	return n.kind.String()
}

func sortedKeys(m map[string]any) []string {
	keys := slices.Collect(maps.Keys(m))
	sort.Strings(keys)
	return keys
}

// suggest returns the candidate closest to s when it is close enough to be
// a likely typo, or "".
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD > len(s)/2 {
		return ""
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// FractionalKey is the metadata key (of the flag set or of a flag) that
// chooses the fractional bucketing algorithm.
const FractionalKey = "fractionalAlgorithm"

// flagFractional is the flag's own fractionalAlgorithm, else the set's
// (whose bad value was reported once, at the set).
func (l *loader) flagFractional(n *node, setMeta map[string]any) string {
	def := DefaultFractional
	if v, ok := setMeta[FractionalKey].(string); ok && (v == FractionalV2 || v == FractionalV3) {
		def = v
	}
	md, _ := n.get("metadata")
	if md == nil || md.kind != kindObject {
		return def
	}
	v, _ := md.get(FractionalKey)
	if v == nil {
		return def
	}
	return l.fractionalOf(map[string]any{FractionalKey: v.value()}, def, v.off)
}

// fractionalOf reads the algorithm from metadata, def when absent.
func (l *loader) fractionalOf(md map[string]any, def string, off int64) string {
	v, ok := md[FractionalKey]
	if !ok {
		return def
	}
	switch v {
	case FractionalV2, FractionalV3:
		return v.(string)
	}
	l.errorf(off, "metadata %q must be %q or %q, not %s", FractionalKey, FractionalV2, FractionalV3, compact(v))
	return def
}
