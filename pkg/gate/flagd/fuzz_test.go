package flagd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/twmb/murmur3"
)

// seedFiles are the flag files in the repository, as fuzz seeds.
func seedFiles(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	for _, glob := range []string{"testdata/*.json", "../testdata/*.json", "../../../examples/flags/*.json"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		f.Fatal("no seed flag files found")
	}
	return out
}

// FuzzLoad: no flag file panics the loader; a refused file says where each
// problem is, inside the file; a loaded one is valid JSON whose flags agree
// with encoding/json's reading and evaluate without breaking the rules
// checked by checkResult. The seeds (and testdata/fuzz/FuzzLoad) run in
// every go test.
func FuzzLoad(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	for _, s := range []string{
		``, `{`, `[]`, `null`, `{"flags": {}} {}`, `{"flags": []}`, `{"flags": {"a": 1}}`,
		`{"flags": {"a": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "on"}}}`,
		"{\"flags\": {\"é\": {\"state\": \"NOPE\",\n \"variants\": {\"on\": 1e999}}}}",
		`{"flags": {"a": {"state": "ENABLED", "variants": {"x": {"k": 1, "k": 2}}, "defaultVariant": "x"}}}`,
		`{"flags": {"a": {"state": "ENABLED", "variants": {"on": true}, "targeting": {"$ref": "x"}}}, "$evaluators": {"x": {"$ref": "x"}}}`,
		`{"flags": {"a": {"state": "ENABLED", "variants": {"on": true}, "targeting": {"$ref": "y"}}}, "$evaluators": {"x": true}}`,
		`{"flags": {"a": {"state": "DISABLED", "variants": {"on": "1", "off": 0}}}, "metadata": {"m": [1]}}`,
		`{"metadata": {"fractionalAlgorithm": "v3"}, "flags": {"a": {"state": "ENABLED", "variants": {"x": "x", "y": "y"}, "targeting": {"fractional": [["x", 1], ["y", 1]]}}}}`,
		`{"metadata": {"fractionalAlgorithm": "v9"}, "flags": {}}`,
		// hostile inputs of issue 14, kept small so that the fuzzer can
		// mutate and minimize them (the unit tests try the huge ones): a
		// doubling $ref chain, deep nesting, many flags
		refChain(24), refChain(40), deepArray(MaxDepth), deepArray(MaxDepth + 1), deepArray(4 * MaxDepth),
		`{"flags": ` + strings.Repeat(`{"a": `, 2*MaxDepth) + `1` + strings.Repeat("}", 2*MaxDepth) + "}",
		manyFlags(20),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		withinBudget(t, func() { fuzzLoadOne(t, data) })
	})
}

// fuzzBudgetTime is how long one fuzz input may take.
const fuzzBudgetTime = 5 * time.Second

// withinBudget runs fn and fails when it allocated more than memBudget or
// ran longer than fuzzBudgetTime: a hostile file must cost little.
func withinBudget(t *testing.T, fn func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if mem := after.TotalAlloc - before.TotalAlloc; mem > memBudget || took > fuzzBudgetTime {
		t.Fatalf("one input took %d MB and %s (budget %d MB, %s)", mem>>20, took, memBudget>>20, fuzzBudgetTime)
	}
}

func fuzzLoadOne(t *testing.T, data []byte) {
	{
		const file = "fuzz.flagd.json"
		set, err := Parse(file, data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || le.Err != nil || len(le.Problems) == 0 || set != nil {
				t.Fatalf("a refused file must give a *LoadError with problems and no flag set: %#v, %v", set, err)
			}
			for _, p := range le.Problems {
				checkPos(t, data, p.Pos, file)
				if p.Message == "" {
					t.Fatalf("problem without a message at %s", p.Pos)
				}
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("loaded a file encoding/json calls invalid: %q", data)
		}
		var plain struct {
			Flags map[string]struct {
				Variants map[string]any `json:"variants"`
			} `json:"flags"`
		}
		if err := json.Unmarshal(data, &plain); err != nil {
			t.Fatalf("loaded a file encoding/json cannot read: %v", err)
		}
		if len(plain.Flags) != len(set.Flags) {
			t.Fatalf("loaded %d flags, encoding/json reads %d", len(set.Flags), len(plain.Flags))
		}
		for _, w := range set.Warnings {
			checkPos(t, data, w.Pos, file)
		}
		for _, key := range set.Keys() {
			fl := set.Flags[key]
			checkPos(t, data, fl.Pos, file)
			if fl.Key != key || (fl.State != StateEnabled && fl.State != StateDisabled) || len(fl.Variants) == 0 {
				t.Fatalf("flag %q loaded incomplete: %+v", key, fl)
			}
			if !reflect.DeepEqual(fl.Variants, plain.Flags[key].Variants) {
				t.Fatalf("flag %q: variants %v, encoding/json reads %v", key, fl.Variants, plain.Flags[key].Variants)
			}
			kinds := map[string]bool{}
			for _, v := range fl.Variants {
				kinds[typeName(v)] = true
			}
			if _, ok := fl.Variants[fl.DefaultVariant]; len(kinds) != 1 || (!ok && fl.DefaultVariant != "") {
				t.Fatalf("flag %q: variants of kinds %v, default %q", key, kinds, fl.DefaultVariant)
			}
			for typ := Boolean; typ <= Object; typ++ {
				evalAndCheck(t, set, key, typ, map[string]any{"targetingKey": key})
			}
		}
	}
}

// checkPos fails unless pos is a line and column of data (a column may be
// one past the end of its line, where "unexpected end of file" points).
func checkPos(t *testing.T, data []byte, pos Pos, file string) {
	t.Helper()
	lines := bytes.Split(data, []byte("\n"))
	if pos.File != file || pos.Line < 1 || pos.Line > len(lines) || pos.Column < 1 ||
		pos.Column > utf8.RuneCount(lines[pos.Line-1])+1 {
		t.Fatalf("position %s is outside the %d-line file %s", pos, len(lines), file)
	}
}

// fuzzVariants are the variant sets of FuzzEvaluate's flag, one per type;
// "true" and "false" are there for rules that return a boolean.
var fuzzVariants = []string{
	`{"a": true, "b": false, "true": true, "false": false}`,
	`{"a": "A", "b": "", "true": "T", "false": "F"}`,
	`{"a": 1, "b": -2, "true": 3, "false": 9007199254740993}`,
	`{"a": 0.5, "b": -1e300, "true": 3, "false": 0}`,
	`{"a": {"x": [1, {"y": null}]}, "b": {}, "true": {"t": true}, "false": {"f": "x"}}`,
}

// FuzzEvaluate evaluates a fuzzed JsonLogic rule (as the targeting of a flag
// of each variant type) and a flag of testdata/cases.flagd.json against a
// fuzzed evaluation context: nothing panics, every result is the flag's
// value of the asked type or the caller's default with a reason or a flagd
// error code (checkResult), evaluating twice gives the same, the context is
// left as it was, and fractional bucketing puts a targeting key where
// flagd's murmur3 bucketing says, whenever it is evaluated.
func FuzzEvaluate(f *testing.F) {
	cases, err := Load("testdata/cases.flagd.json")
	if err != nil {
		f.Fatal(err)
	}
	keys := append(cases.Keys(), "no-such-flag")
	split, err := Parse("split.json", []byte(`{"flags": {"split": {"state": "ENABLED", "defaultVariant": "a",
	  "variants": {"a": "a", "b": "b", "c": "c"}, "targeting": {"fractional": [["a", 50], ["b", 30], ["c", 20]]}}}}`))
	if err != nil {
		f.Fatal(err)
	}
	for i, rule := range []string{
		`{}`, `null`, `{"var": "email"}`, `{"if": [{"==": [{"var": "region"}, "us-east-1"]}, "a", "b"]}`,
		`{"fractional": [["a", 50], ["b", 50]]}`, `{"fractional": [{"var": "email"}, ["a", 1], ["true", 0], ["b"]]}`,
		`{"fractional": [["a", 2147483647], ["b", 1]]}`, `{"fractional": [["a", -5], ["b", 0.5]]}`, `{"fractional": []}`,
		`{"sem_ver": [{"var": "version"}, ">=", "1.2.0"]}`, `{"sem_ver": ["1.0.0", "~", "v1"]}`, `{"sem_ver": [1, "^", []]}`,
		`{"starts_with": [{"var": "targetingKey"}, "a"]}`, `{"ends_with": [1, 2]}`, `{"$ref": "shared"}`, `{"$ref": "none"}`,
		`{"in": [{"var": "region"}, ["us-east-1", "eu-west-1"]]}`, `{"map": [[1, 2], {"+": [{"var": ""}, 1]}]}`,
		`{"cat": ["tr", "ue"]}`, `{"substr": ["abc", -1]}`, `{"nope": [1]}`, `{"var": ["missing", "b"]}`, `{"merge": [1, [2]]}`,
		`{"if": [{"missing": ["email"]}, {"fractional": [{"var": "targetingKey"}, ["a", 1], ["b", 1]]}, true]}`,
		`{"/": [1, 0]}`, `{"%": [1, 0]}`, `{"reduce": [[1, 2], {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}`,
		// budgets: merge and cat caps, loops over loops, deep rules, $ref
		`{"merge": [[` + strings.Repeat("1,", MaxMergeElements) + `1]]}`,
		`{"reduce": [[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1], {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "ab"]}`,
		`{"map": [{"var": "a"}, {"map": [{"var": "b"}, {"map": [{"var": "c"}, 1]}]}]}`,
		strings.Repeat(`{"!": [`, 60) + "true" + strings.Repeat("]}", 60),
		`{"and": [{"$ref": "shared"}, {"$ref": "shared"}]}`,
		`{"fractional": [{"var": "email"}, ["a", 1], ["b", 1]]}`, `{"fractional": [{"var": ""}, ["a", 1], ["b", 1]]}`,
	} {
		ctx := []string{`{"targetingKey": "payments/prod/us-east-1", "region": "us-east-1", "email": "a@example.com", "version": "1.2.3"}`,
			`{}`, `not json`, `{"targetingKey": 7, "$flagd": {"flagKey": "x"}}`, `{"targetingKey": "", "version": [1]}`}[i%5]
		f.Add(rule, ctx, uint8(i), uint8(i/5))
	}
	f.Add(`{"fractional": [["a", 1], ["b", 1]]}`, `null`, uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, rule, ctxSrc string, pick, typ uint8) {
		ctx := map[string]any{}
		if json.Unmarshal([]byte(ctxSrc), &ctx) != nil {
			ctx = map[string]any{"targetingKey": ctxSrc, "email": ctxSrc, "region": ctxSrc, "version": ctxSrc}
		}
		withinBudget(t, func() { fuzzEvaluateOne(t, cases, split, keys, rule, ctx, pick, typ) })
	})
}

func fuzzEvaluateOne(t *testing.T, cases, split *FlagSet, keys []string, rule string, ctx map[string]any, pick, typ uint8) {
	asked := Type(typ % 5)
	evalAndCheck(t, cases, keys[int(pick)%len(keys)], asked, ctx)
	algo := []string{FractionalV2, FractionalV3}[int(typ/5)%2]
	src := fmt.Sprintf(`{"metadata": {"fractionalAlgorithm": %q}, "flags": {"fuzz": {"state": "ENABLED", "variants": %s, "defaultVariant": "a", "targeting": %s}},
	  "$evaluators": {"shared": {"in": [{"var": "region"}, ["us-east-1"]]}}}`, algo, fuzzVariants[int(pick)%len(fuzzVariants)], rule)
	if set, err := Parse("fuzz.json", []byte(src)); err == nil {
		evalAndCheck(t, set, "fuzz", asked, ctx)
	}
	checkFractional(t, split, ctx)
}

// fuzzDefaults are the callers' defaults per type.
var fuzzDefaults = []any{false, "default", int64(-7), -0.25, map[string]any{"default": true}}

// evalAndCheck evaluates key as typ twice, then checks the result
// (checkResult), that the two agree and that ctx is unchanged.
func evalAndCheck(t *testing.T, set *FlagSet, key string, typ Type, ctx map[string]any) {
	t.Helper()
	before := deepCopy(ctx)
	def := fuzzDefaults[typ]
	r := set.Evaluate(key, typ, def, ctx, testNow)
	checkResult(t, set.Flags[key], typ, def, r)
	if again := set.Evaluate(key, typ, def, ctx, testNow); !reflect.DeepEqual(r, again) {
		t.Fatalf("flag %q evaluated twice: %+v, then %+v", key, r, again)
	}
	if ctx != nil && !reflect.DeepEqual(before, ctx) {
		t.Fatalf("evaluating %q changed the context from %v to %v", key, before, ctx)
	}
}

// checkResult: an error is one of flagd's codes with the caller's default;
// otherwise a reason that fits the flag, and either the default (no variant)
// or the chosen variant's value as the asked type.
func checkResult(t *testing.T, fl *Flag, typ Type, def any, r Result) {
	t.Helper()
	if r.ErrorCode != "" {
		codes := []of.ErrorCode{of.FlagNotFoundCode, of.ParseErrorCode, of.TypeMismatchCode, of.GeneralCode, of.InvalidContextCode}
		if !slices.Contains(codes, r.ErrorCode) || r.Reason != of.ErrorReason || r.ErrorMessage == "" ||
			r.Variant != "" || !reflect.DeepEqual(r.Value, def) {
			t.Fatalf("bad error result: %+v", r)
		}
		if (fl == nil) != (r.ErrorCode == of.FlagNotFoundCode) {
			t.Fatalf("FLAG_NOT_FOUND must be exactly the unknown flags: %+v", r)
		}
		return
	}
	if fl == nil {
		t.Fatalf("an unknown flag evaluated without an error: %+v", r)
	}
	switch r.Reason {
	case of.DisabledReason:
		if fl.State != StateDisabled {
			t.Fatalf("an enabled flag reported DISABLED: %+v", r)
		}
	case of.StaticReason:
		if fl.Targeting != nil {
			t.Fatalf("a targeted flag reported STATIC: %+v", r)
		}
	case of.TargetingMatchReason:
		if fl.Targeting == nil {
			t.Fatalf("a flag without targeting reported TARGETING_MATCH: %+v", r)
		}
	case of.DefaultReason:
	default:
		t.Fatalf("unexpected reason %q: %+v", r.Reason, r)
	}
	if r.Variant == "" {
		if !reflect.DeepEqual(r.Value, def) || (r.Reason != of.DefaultReason && r.Reason != of.DisabledReason) {
			t.Fatalf("no variant, so the caller's default with DEFAULT or DISABLED: %+v", r)
		}
		return
	}
	raw, ok := fl.Variants[r.Variant]
	want, conv := convert(raw, typ)
	if !ok || !conv || !reflect.DeepEqual(r.Value, want) {
		t.Fatalf("variant %q (%v, defined %v) evaluated as %s to %#v", r.Variant, raw, ok, typ, r.Value)
	}
	if reflect.TypeOf(r.Value) != reflect.TypeOf(def) {
		t.Fatalf("asked a %s, got a %T", typ, r.Value)
	}
}

// checkFractional: the 50/30/20 split flag gives a string targeting key the
// variant flagd's bucketing ((murmur3("split"+key) × 100) >> 32) picks, at
// any time; without one it falls back to the default variant.
func checkFractional(t *testing.T, split *FlagSet, ctx map[string]any) {
	t.Helper()
	r := split.Evaluate("split", String, "x", ctx, testNow.Add(time.Duration(len(ctx))*time.Hour))
	if CheckContext(ctx) != nil {
		if r.ErrorCode != of.InvalidContextCode {
			t.Fatalf("a context over budget must be INVALID_CONTEXT: %+v", r)
		}
		return
	}
	tk, ok := ctx["targetingKey"].(string)
	if !ok {
		if r.Variant != "a" || r.Reason != of.DefaultReason || r.OperatorError == "" {
			t.Fatalf("no targeting key: want the default variant with an operator error, got %+v", r)
		}
		return
	}
	// The rule sees the context as JSON, as in flagd, where each byte of
	// invalid UTF-8 is U+FFFD.
	b, _ := json.Marshal(tk)
	_ = json.Unmarshal(b, &tk)
	bucket := (uint64(murmur3.StringSum32("split"+tk)) * 100) >> 32
	want := "c"
	switch {
	case bucket < 50:
		want = "a"
	case bucket < 80:
		want = "b"
	}
	if r.Variant != want || r.Value != want || r.Reason != of.TargetingMatchReason {
		t.Fatalf("targeting key %q (bucket %d): want %s, got %+v", tk, bucket, want, r)
	}
}
