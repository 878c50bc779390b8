package flagd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The OpenFeature flagd-testbed (release 3.9.0) sits beside the repository,
// at ../shared/flagd-testbed from its root, both in the shared workspace
// and in CI's layout (a clone with a copy of shared/ beside it).
var testbedDir = filepath.Join("..", "..", "..", "..", "shared", "flagd-testbed")

const testbedHelp = `the flagd-testbed is not at %s (../shared/flagd-testbed from the repository root).
Get release 3.9.0 there with:
  git clone --depth 1 --branch v3.9.0 https://github.com/open-feature/flagd-testbed ../shared/flagd-testbed
(or set GANTRY_FLAGD_TESTBED to a copy). CI sets GANTRY_REQUIRE_TESTBED=1, which makes this a failure, not a skip.`

// skippedTags are the testbed's opt-out groups gantry does not implement.
var skippedTags = []string{"@deprecated", "@fractional-v1"}

// TestFlagdTestbed runs the testbed's scenarios that apply to an in-process
// file evaluator: evaluator/gherkin/*.feature against its testkit flags, and
// gherkin/{evaluation,targeting,disabled,selector}.feature against the
// flags/*.json files merged as the testbed's launchpad merges them (all but
// selector-*). Rows tagged @fractional-v3 run with that algorithm.
func TestFlagdTestbed(t *testing.T) {
	dir := testbedDir
	if d := os.Getenv("GANTRY_FLAGD_TESTBED"); d != "" {
		dir = d
	}
	if _, err := os.Stat(filepath.Join(dir, "evaluator", "flags", "testkit-flags.json")); err != nil {
		if os.Getenv("GANTRY_REQUIRE_TESTBED") != "" {
			t.Fatalf(testbedHelp, dir)
		}
		t.Skipf(testbedHelp, dir)
	}
	files := map[string]string{} // feature file → flag file it runs against
	evalFeatures, _ := filepath.Glob(filepath.Join(dir, "evaluator", "gherkin", "*.feature"))
	for _, f := range evalFeatures {
		files[f] = filepath.Join(dir, "evaluator", "flags", "testkit-flags.json")
	}
	for _, name := range []string{"evaluation", "targeting", "disabled", "selector"} {
		files[filepath.Join(dir, "gherkin", name+".feature")] = "merged"
	}
	merged := mergedTestbedFlags(t, dir)
	counts := map[string]int{}
	for _, feature := range slices.Sorted(mapKeys(files)) {
		for _, sc := range parseFeature(t, feature) {
			if tag := firstTag(sc.tags, skippedTags); tag != "" {
				counts["skipped "+tag]++
				continue
			}
			set := testbedFlagSet(t, dir, files[feature], merged, sc)
			name := fmt.Sprintf("%s:%d", filepath.Base(feature), sc.line)
			if t.Run(name, func(t *testing.T) { runScenario(t, set, sc) }) {
				counts["passed"]++
			} else {
				counts["failed"]++
			}
			for _, tag := range []string{"@fractional-v2", "@fractional-v3", "@operator-errors"} {
				if slices.Contains(sc.tags, tag) {
					counts["of which "+tag]++
				}
			}
		}
	}
	t.Logf("flagd-testbed %s: %v", dir, counts)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func firstTag(tags, wanted []string) string {
	for _, w := range wanted {
		if slices.Contains(tags, w) {
			return w
		}
	}
	return ""
}

// mergedTestbedFlags is allFlags.json: every flags/*.json but selector-*,
// flags and $evaluators merged (later files win, as in the launchpad).
func mergedTestbedFlags(t *testing.T, dir string) []byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "flags", "*.json"))
	slices.Sort(files)
	flags, evals := map[string]any{}, map[string]any{}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "selector") {
			continue
		}
		var doc struct {
			Flags      map[string]any `json:"flags"`
			Evaluators map[string]any `json:"$evaluators"`
		}
		b, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(b, &doc)
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range doc.Flags {
			flags[k] = v
		}
		for k, v := range doc.Evaluators {
			evals[k] = v
		}
	}
	out, _ := json.Marshal(map[string]any{"flags": flags, "$evaluators": evals})
	return out
}

// testbedFlagSet loads the scenario's flag file: the merged flags, the one
// a selector option names, or the testkit file.
func testbedFlagSet(t *testing.T, dir, file string, merged []byte, sc scenario) *FlagSet {
	t.Helper()
	data, name := merged, "allFlags.json"
	if sel := sc.options["selector"]; sel != "" && file == "merged" && filepath.Base(sel) != "allFlags.json" {
		name = filepath.Join(dir, "flags", filepath.Base(sel))
		data = nil
	} else if file != "merged" {
		name, data = file, nil
	}
	if data == nil {
		var err error
		if data, err = os.ReadFile(name); err != nil {
			t.Fatal(err)
		}
	}
	set, err := Parse(name, data)
	if err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	if slices.Contains(sc.tags, "@fractional-v3") {
		for _, f := range set.Flags {
			f.Fractional = FractionalV3
		}
	}
	return set
}

// scenario is one scenario, or one row of an outline, with its steps.
type scenario struct {
	line    int
	tags    []string
	options map[string]string
	steps   []step
}

type step struct {
	text  string
	table [][]string
}

// gherkinFile is the state of parseFeature.
type gherkinFile struct {
	featureTags, pendingTags []string
	background, steps        []step
	inBackground             bool
	scTags                   []string
	scLine                   int
	header                   []string
	exampleTags              []string
	out                      []scenario
	outline                  bool
}

// parseFeature reads the small part of Gherkin the testbed uses: tags,
// Background, Scenario, Scenario Outline with tagged Examples, data tables.
func parseFeature(t *testing.T, path string) []scenario {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := &gherkinFile{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		g.line(n, strings.TrimSpace(sc.Text()))
	}
	g.flush()
	return g.out
}

func (g *gherkinFile) line(n int, l string) {
	switch {
	case l == "" || strings.HasPrefix(l, "#"):
	case strings.HasPrefix(l, "@"):
		g.pendingTags = append(g.pendingTags, strings.Fields(l)...)
	case strings.HasPrefix(l, "Feature:"):
		g.featureTags, g.pendingTags = g.pendingTags, nil
	case strings.HasPrefix(l, "Background:"):
		g.inBackground = true
	case strings.HasPrefix(l, "Scenario"):
		g.flush()
		g.inBackground, g.scLine, g.steps, g.header = false, n, nil, nil
		g.outline = strings.HasPrefix(l, "Scenario Outline:")
		g.scTags, g.pendingTags = append(slices.Clone(g.featureTags), g.pendingTags...), nil
	case strings.HasPrefix(l, "Examples"):
		g.header, g.exampleTags, g.pendingTags = nil, g.pendingTags, nil
	case strings.HasPrefix(l, "|"):
		g.tableRow(n, cells(l))
	default:
		st := step{text: l[strings.Index(l, " ")+1:]}
		if g.inBackground {
			g.background = append(g.background, st)
		} else {
			g.steps = append(g.steps, st)
		}
	}
}

func (g *gherkinFile) tableRow(n int, row []string) {
	if !g.outline || g.scLine == 0 {
		last := &g.steps[len(g.steps)-1]
		last.table = append(last.table, row)
		return
	}
	if g.header == nil {
		g.header = row
		return
	}
	s := scenario{line: n, tags: append(slices.Clone(g.scTags), g.exampleTags...)}
	for _, st := range append(slices.Clone(g.background), g.steps...) {
		text := st.text
		for i, h := range g.header {
			text = strings.ReplaceAll(text, "<"+h+">", row[i])
		}
		s.steps = append(s.steps, step{text: text, table: st.table})
	}
	g.out = append(g.out, withOptions(s))
}

// flush emits a plain scenario once its steps are read.
func (g *gherkinFile) flush() {
	if g.scLine != 0 && !g.outline {
		s := scenario{line: g.scLine, tags: g.scTags, steps: append(slices.Clone(g.background), g.steps...)}
		g.out = append(g.out, withOptions(s))
	}
	g.scLine = 0
}

func cells(l string) []string {
	l = strings.TrimSuffix(strings.TrimPrefix(l, "|"), "|")
	var out []string
	for _, c := range strings.Split(l, "|") {
		out = append(out, strings.TrimSpace(c))
	}
	return out
}

// withOptions reads the `an option "X" of type "T" with value "V"` steps.
func withOptions(s scenario) scenario {
	s.options = map[string]string{}
	for _, st := range s.steps {
		if q := quoted(st.text); strings.HasPrefix(st.text, "an option ") && len(q) == 3 {
			s.options[q[0]] = q[2]
		}
	}
	return s
}

// quoted returns the step's "..." arguments, raw (a \" stays as it is); a
// final `with value "..."` is taken whole, quotes and all, as an outline's
// JSON object lands there unescaped.
func quoted(s string) []string {
	const last = `with value "`
	if i := strings.LastIndex(s, last); i >= 0 && strings.HasSuffix(s, `"`) {
		return append(quotedArgs(s[:i]), s[i+len(last):len(s)-1])
	}
	return quotedArgs(s)
}

func quotedArgs(s string) []string {
	var out []string
	start := -1
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case s[i] == '"' && start < 0:
			start = i + 1
		case s[i] == '"':
			out, start = append(out, s[start:i]), -1
		}
	}
	return out
}

// evalState is one scenario's evaluation as its steps build it.
type evalState struct {
	typ    Type
	typeNm string
	key    string
	def    any
	ctx    map[string]any
	res    *Result
}

var typeNames = map[string]Type{"Boolean": Boolean, "String": String, "Integer": Integer, "Float": Float, "Object": Object}

func runScenario(t *testing.T, set *FlagSet, sc scenario) {
	st := &evalState{ctx: map[string]any{}}
	for _, step := range sc.steps {
		if err := st.do(set, step); err != nil {
			t.Fatalf("%s: %v (tags %v)", step.text, err, sc.tags)
		}
	}
}

func (st *evalState) do(set *FlagSet, s step) error {
	q := quoted(s.text)
	switch {
	case strings.Contains(s.text, "-flag with key "):
		st.typeNm = strings.Fields(s.text)[1]
		st.typeNm = st.typeNm[:strings.Index(st.typeNm, "-")]
		st.typ, st.key = typeNames[st.typeNm], q[0]
		def, err := typedValue(st.typeNm, q[1])
		st.def = def
		return err
	case strings.HasPrefix(s.text, "a context containing a targeting key"):
		st.ctx["targetingKey"] = q[0]
	case strings.HasPrefix(s.text, "a context containing a nested property"):
		inner, _ := st.ctx[q[0]].(map[string]any)
		if inner == nil {
			inner = map[string]any{}
		}
		inner[q[1]] = q[2]
		st.ctx[q[0]] = inner
	case strings.HasPrefix(s.text, "a context containing a key"):
		v, err := typedValue(q[1], q[2])
		st.ctx[q[0]] = v
		return err
	case s.text == "the flag was evaluated with details":
		r := set.Evaluate(st.key, st.typ, st.def, st.ctx, time.Now())
		st.res = &r
	case strings.HasPrefix(s.text, "the "):
		return st.check(s, q)
	}
	return nil
}

func (st *evalState) check(s step, q []string) error {
	r := st.res
	switch {
	case strings.HasPrefix(s.text, "the resolved details value should be"):
		want, err := typedValue(st.typeNm, q[0])
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(normal(r.Value), normal(want)) {
			return fmt.Errorf("value %#v, want %#v (%+v)", r.Value, want, *r)
		}
	case strings.HasPrefix(s.text, "the reason should be"):
		if string(r.Reason) != q[0] {
			return fmt.Errorf("reason %s, want %s (%+v)", r.Reason, q[0], *r)
		}
	case strings.HasPrefix(s.text, "the error-code should be"):
		if string(r.ErrorCode) != q[0] {
			return fmt.Errorf("error code %q, want %q (%+v)", r.ErrorCode, q[0], *r)
		}
	case s.text == "the resolved metadata is empty":
		if len(r.Metadata) != 0 {
			return fmt.Errorf("metadata %v, want none", r.Metadata)
		}
	case s.text == "the resolved metadata should contain":
		for _, row := range s.table[1:] {
			want, _ := typedValue(row[1], row[2])
			if !reflect.DeepEqual(normal(r.Metadata[row[0]]), normal(want)) {
				return fmt.Errorf("metadata %q = %#v, want %#v", row[0], r.Metadata[row[0]], want)
			}
		}
	}
	return nil
}

// typedValue reads a Gherkin cell as the named type. A String is taken
// as written: the testbed's expected buckets for "A\u0000B" and the like
// are those of the literal backslash text, as flagd's own runner reads it.
func typedValue(typ, v string) (any, error) {
	switch typ {
	case "Boolean":
		return strconv.ParseBool(v)
	case "Integer":
		return strconv.ParseInt(v, 10, 64)
	case "Float":
		return strconv.ParseFloat(v, 64)
	case "Object":
		var o any
		err := json.Unmarshal([]byte(strings.ReplaceAll(v, `\"`, `"`)), &o)
		return o, err
	}
	return v, nil
}

// normal makes numbers comparable whatever their Go type.
func normal(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		var out any
		_ = json.Unmarshal(b, &out)
		return out
	}
	return v
}
