package flagd

import (
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
)

var testNow = time.Unix(1_800_000_000, 0)

func loadCases(t *testing.T) *FlagSet {
	t.Helper()
	set, err := Load("testdata/cases.flagd.json")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

type evalCase struct {
	name    string
	flag    string
	typ     Type
	def     any
	ctx     map[string]any
	value   any
	variant string
	reason  of.Reason
	code    of.ErrorCode
}

// The expectations follow flagd's documented behaviour and, for hash-based
// splits, the vectors of flagd's conformance suite (bucketing v2:
// (murmur3(value) × total weight) >> 32).
func TestEvaluateTable(t *testing.T) {
	set := loadCases(t)
	user := func(name string) map[string]any { return map[string]any{"user": map[string]any{"name": name}} }
	tk := func(k string, kv ...any) map[string]any {
		m := map[string]any{"targetingKey": k}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	cases := []evalCase{
		// reasons: STATIC, DEFAULT, TARGETING_MATCH, DISABLED, ERROR
		{name: "static bool", flag: "static-bool", typ: Boolean, def: false, value: true, variant: "on", reason: of.StaticReason},
		{name: "static string", flag: "static-string", typ: String, def: "x", value: "hello", variant: "hi", reason: of.StaticReason},
		{name: "static int", flag: "static-int", typ: Integer, def: int64(1), value: int64(10), variant: "ten", reason: of.StaticReason},
		{name: "int as float", flag: "static-int", typ: Float, def: 0.1, value: 10.0, variant: "ten", reason: of.StaticReason},
		{name: "float", flag: "static-half", typ: Float, def: 0.1, value: 0.5, variant: "half", reason: of.StaticReason},
		{name: "object", flag: "static-object", typ: Object, def: map[string]any{}, value: map[string]any{"limit": 3.0, "name": "a"}, variant: "a", reason: of.StaticReason},
		{name: "zero value", flag: "zero-string", typ: String, def: "hi", value: "", variant: "zero", reason: of.StaticReason},
		{name: "disabled", flag: "disabled-flag", typ: Boolean, def: false, value: false, reason: of.DisabledReason},
		{name: "null default variant", flag: "null-default", typ: Boolean, def: true, value: true, reason: of.DefaultReason},
		{name: "absent default variant", flag: "no-default", typ: Boolean, def: false, value: false, reason: of.DefaultReason},
		{name: "no default, targeting null", flag: "no-default-targeted", typ: String, def: "Founder", ctx: map[string]any{"email": "wozniak@orange.com"}, value: "Founder", reason: of.DefaultReason},
		{name: "no default, targeting match", flag: "no-default-targeted", typ: String, def: "Founder", ctx: map[string]any{"email": "jobs@orange.com"}, value: "CEO", variant: "ceo", reason: of.TargetingMatchReason},
		{name: "empty targeting is static", flag: "empty-targeting", typ: Integer, def: int64(3), value: int64(1), variant: "a", reason: of.StaticReason},
		{name: "targeting match", flag: "email-targeting", typ: Boolean, def: false, ctx: map[string]any{"email": "a@example.com"}, value: true, variant: "on", reason: of.TargetingMatchReason},
		{name: "targeting null is DEFAULT", flag: "email-targeting", typ: Boolean, def: true, ctx: map[string]any{"email": "a@other.com"}, value: false, variant: "off", reason: of.DefaultReason},
		{name: "boolean shorthand true", flag: "bool-shorthand", typ: Boolean, def: false, ctx: map[string]any{"email": "a@example.com"}, value: true, variant: "true", reason: of.TargetingMatchReason},
		{name: "boolean shorthand false", flag: "bool-shorthand", typ: Boolean, def: true, ctx: map[string]any{"email": "a@b.com"}, value: false, variant: "false", reason: of.TargetingMatchReason},
		{name: "targeting key hit", flag: "key-targeting", typ: String, def: "x", ctx: tk("5c3d8535-f81a-4478-a6d3-afaa4d51199e"), value: "hit", variant: "hit", reason: of.TargetingMatchReason},
		{name: "targeting key miss", flag: "key-targeting", typ: String, def: "x", ctx: tk("f20bd32d-703b-48b6-bc8e-79d53c85134a"), value: "miss", variant: "miss", reason: of.DefaultReason},
		{name: "$flagd properties", flag: "flagd-props", typ: String, def: "x", value: "yes", variant: "yes", reason: of.TargetingMatchReason},
		{name: "$flagd.timestamp past", flag: "time-flag", typ: Integer, def: int64(0), ctx: map[string]any{"time": 1}, value: int64(-1), variant: "past", reason: of.TargetingMatchReason},
		{name: "$flagd.timestamp future", flag: "time-flag", typ: Integer, def: int64(0), ctx: map[string]any{"time": 4133980802}, value: int64(1), variant: "future", reason: of.TargetingMatchReason},
		{name: "$flagd overrides the context's", flag: "flagd-props", typ: String, def: "x", ctx: map[string]any{"$flagd": map[string]any{"flagKey": "other"}}, value: "yes", variant: "yes", reason: of.TargetingMatchReason},

		// starts_with / ends_with
		{name: "starts_with", flag: "starts-ends", typ: String, def: "x", ctx: map[string]any{"id": "abcdef"}, value: "prefix", variant: "prefix", reason: of.TargetingMatchReason},
		{name: "ends_with", flag: "starts-ends", typ: String, def: "x", ctx: map[string]any{"id": "uvwxyz"}, value: "postfix", variant: "postfix", reason: of.TargetingMatchReason},
		{name: "starts_with wins", flag: "starts-ends", typ: String, def: "x", ctx: map[string]any{"id": "abcxyz"}, value: "prefix", variant: "prefix", reason: of.TargetingMatchReason},
		{name: "neither", flag: "starts-ends", typ: String, def: "x", ctx: map[string]any{"id": "lmnopq"}, value: "none", variant: "none", reason: of.TargetingMatchReason},
		{name: "starts_with non-string is null, so if takes its else", flag: "starts-with-number", typ: String, def: "wrong", ctx: map[string]any{"num": 123}, value: "false", variant: "false", reason: of.TargetingMatchReason},
		{name: "ends_with one argument is null, so if takes its else", flag: "ends-with-one-arg", typ: String, def: "wrong", value: "false", variant: "false", reason: of.TargetingMatchReason},

		// sem_ver
		{name: "sem_ver =", flag: "semver-cmp", typ: String, def: "x", ctx: map[string]any{"version": "2.0.0"}, value: "equal", variant: "equal", reason: of.TargetingMatchReason},
		{name: "sem_ver >", flag: "semver-cmp", typ: String, def: "x", ctx: map[string]any{"version": "2.1.0"}, value: "greater", variant: "greater", reason: of.TargetingMatchReason},
		{name: "sem_ver <", flag: "semver-cmp", typ: String, def: "x", ctx: map[string]any{"version": "1.9.0"}, value: "lesser", variant: "lesser", reason: of.TargetingMatchReason},
		{name: "sem_ver prerelease <", flag: "semver-cmp", typ: String, def: "x", ctx: map[string]any{"version": "2.0.0-alpha"}, value: "lesser", variant: "lesser", reason: of.TargetingMatchReason},
		{name: "sem_ver invalid version is null", flag: "semver-cmp", typ: String, def: "x", ctx: map[string]any{"version": "2.0.0.0"}, value: "none", variant: "none", reason: of.TargetingMatchReason},
		{name: "sem_ver >= <=", flag: "semver-ge-le-ne", typ: String, def: "x", ctx: map[string]any{"version": "1.6.0"}, value: "ge", variant: "ge", reason: of.TargetingMatchReason},
		{name: "sem_ver !=", flag: "semver-ge-le-ne", typ: String, def: "x", ctx: map[string]any{"version": "1.7.0"}, value: "ne", variant: "ne", reason: of.TargetingMatchReason},
		{name: "sem_ver != equal", flag: "semver-ge-le-ne", typ: String, def: "x", ctx: map[string]any{"version": "3.0.0"}, value: "none", variant: "none", reason: of.TargetingMatchReason},
		{name: "sem_ver ~", flag: "semver-major-minor", typ: String, def: "x", ctx: map[string]any{"version": "3.0.1"}, value: "minor", variant: "minor", reason: of.TargetingMatchReason},
		{name: "sem_ver ^", flag: "semver-major-minor", typ: String, def: "x", ctx: map[string]any{"version": "3.1.0"}, value: "major", variant: "major", reason: of.TargetingMatchReason},
		{name: "sem_ver neither", flag: "semver-major-minor", typ: String, def: "x", ctx: map[string]any{"version": "4.0.0"}, value: "none", variant: "none", reason: of.TargetingMatchReason},
		{name: "sem_ver v prefix", flag: "semver-v-prefix", typ: String, def: "x", ctx: map[string]any{"version": "v1.0.0"}, value: "match", variant: "match", reason: of.TargetingMatchReason},
		{name: "sem_ver V prefix", flag: "semver-v-prefix", typ: String, def: "x", ctx: map[string]any{"version": "V1.0.0"}, value: "match", variant: "match", reason: of.TargetingMatchReason},
		{name: "sem_ver no prefix", flag: "semver-v-prefix", typ: String, def: "x", ctx: map[string]any{"version": "1.0.0"}, value: "match", variant: "match", reason: of.TargetingMatchReason},
		{name: "sem_ver other", flag: "semver-v-prefix", typ: String, def: "x", ctx: map[string]any{"version": "2.0.0"}, value: "no-match", variant: "no-match", reason: of.TargetingMatchReason},
		{name: "sem_ver partial 1.0", flag: "semver-partial", typ: String, def: "x", ctx: map[string]any{"version": "1.0"}, value: "match", variant: "match", reason: of.TargetingMatchReason},
		{name: "sem_ver partial 1", flag: "semver-partial", typ: String, def: "x", ctx: map[string]any{"version": "1"}, value: "match", variant: "match", reason: of.TargetingMatchReason},
		{name: "sem_ver number", flag: "semver-partial", typ: String, def: "x", ctx: map[string]any{"version": 1}, value: "match", variant: "match", reason: of.TargetingMatchReason},
		{name: "sem_ver partial no", flag: "semver-partial", typ: String, def: "x", ctx: map[string]any{"version": "2.0.0"}, value: "no-match", variant: "no-match", reason: of.TargetingMatchReason},
		{name: "sem_ver build ignored", flag: "semver-build", typ: String, def: "x", ctx: map[string]any{"version": "1.0.0+other"}, value: "match", variant: "match", reason: of.TargetingMatchReason},
		{name: "sem_ver not a version", flag: "semver-build", typ: String, def: "x", ctx: map[string]any{"version": "not-a-version"}, value: "no-match", variant: "no-match", reason: of.TargetingMatchReason},
		{name: "sem_ver bad operator", flag: "semver-bad-operator", typ: String, def: "wrong", ctx: map[string]any{"version": "1.0.0"}, value: "false", variant: "false", reason: of.TargetingMatchReason},
		{name: "sem_ver two args", flag: "semver-two-args", typ: String, def: "wrong", ctx: map[string]any{"version": "1.0.0"}, value: "false", variant: "false", reason: of.TargetingMatchReason},

		// fractional
		{name: "fractional jack", flag: "fractional-flag", typ: String, def: "x", ctx: user("jack"), value: "hearts", variant: "hearts", reason: of.TargetingMatchReason},
		{name: "fractional queen", flag: "fractional-flag", typ: String, def: "x", ctx: user("queen"), value: "spades", variant: "spades", reason: of.TargetingMatchReason},
		{name: "fractional ten", flag: "fractional-flag", typ: String, def: "x", ctx: user("ten"), value: "clubs", variant: "clubs", reason: of.TargetingMatchReason},
		{name: "fractional nine", flag: "fractional-flag", typ: String, def: "x", ctx: user("nine"), value: "diamonds", variant: "diamonds", reason: of.TargetingMatchReason},
		{name: "fractional 3", flag: "fractional-flag", typ: String, def: "x", ctx: user("3"), value: "clubs", variant: "clubs", reason: of.TargetingMatchReason},
		{name: "shared seed seven", flag: "fractional-flag-A-shared-seed", typ: String, def: "x", ctx: user("seven"), value: "hearts", variant: "hearts", reason: of.TargetingMatchReason},
		{name: "shared seed eight", flag: "fractional-flag-A-shared-seed", typ: String, def: "x", ctx: user("eight"), value: "diamonds", variant: "diamonds", reason: of.TargetingMatchReason},
		{name: "shared seed nine", flag: "fractional-flag-A-shared-seed", typ: String, def: "x", ctx: user("nine"), value: "clubs", variant: "clubs", reason: of.TargetingMatchReason},
		{name: "shared seed two", flag: "fractional-flag-A-shared-seed", typ: String, def: "x", ctx: user("two"), value: "spades", variant: "spades", reason: of.TargetingMatchReason},
		{name: "shorthand jon", flag: "fractional-flag-shorthand", typ: String, def: "x", ctx: tk("jon@company.com"), value: "heads", variant: "heads", reason: of.TargetingMatchReason},
		{name: "shorthand jane", flag: "fractional-flag-shorthand", typ: String, def: "x", ctx: tk("jane@company.com"), value: "tails", variant: "tails", reason: of.TargetingMatchReason},
		{name: "single entry still needs a bucketing value (flagd: null)", flag: "fractional-single", typ: String, def: "x", value: "fallback", variant: "fallback", reason: of.DefaultReason},
		{name: "single entry with a key", flag: "fractional-single", typ: String, def: "x", ctx: tk("k"), value: "single", variant: "single", reason: of.TargetingMatchReason},
		{name: "hash 0", flag: "fractional-hash-edge", typ: String, def: "x", ctx: tk("ejOoVL"), value: "lower", variant: "lower", reason: of.TargetingMatchReason},
		{name: "hash 1", flag: "fractional-hash-edge", typ: String, def: "x", ctx: tk("bY9fO-"), value: "lower", variant: "lower", reason: of.TargetingMatchReason},
		{name: "hash MaxInt32", flag: "fractional-hash-edge", typ: String, def: "x", ctx: tk("SI7p-"), value: "lower", variant: "lower", reason: of.TargetingMatchReason},
		{name: "hash MaxInt32+1", flag: "fractional-hash-edge", typ: String, def: "x", ctx: tk("6LvT0"), value: "upper", variant: "upper", reason: of.TargetingMatchReason},
		{name: "hash MaxUint32", flag: "fractional-hash-edge", typ: String, def: "x", ctx: tk("ceQdGm"), value: "upper", variant: "upper", reason: of.TargetingMatchReason},
		{name: "nested if premium", flag: "fractional-nested-if", typ: String, def: "fallback", ctx: tk("jon@company.com", "tier", "premium"), value: "premium", variant: "premium", reason: of.TargetingMatchReason},
		{name: "nested if basic", flag: "fractional-nested-if", typ: String, def: "fallback", ctx: tk("jon@company.com", "tier", "basic"), value: "standard", variant: "standard", reason: of.TargetingMatchReason},
		{name: "nested if other bucket", flag: "fractional-nested-if", typ: String, def: "fallback", ctx: tk("user1", "tier", "premium"), value: "standard", variant: "standard", reason: of.TargetingMatchReason},
		{name: "nested weight premium", flag: "fractional-nested-weight", typ: String, def: "fallback", ctx: tk("jon@company.com", "tier", "premium"), value: "red", variant: "red", reason: of.TargetingMatchReason},
		{name: "nested weight basic", flag: "fractional-nested-weight", typ: String, def: "fallback", ctx: tk("user1", "tier", "basic"), value: "blue", variant: "blue", reason: of.TargetingMatchReason},
		{name: "fractional as condition", flag: "fractional-as-condition", typ: String, def: "zero", ctx: tk("some-targeting-key"), value: "hundreds", variant: "big", reason: of.TargetingMatchReason},
		{name: "fractional without bucketing value", flag: "fractional-missing-bucket", typ: String, def: "wrong", value: "false", variant: "false", reason: of.TargetingMatchReason},
		{name: "fractional zero weights", flag: "fractional-zero-weights", typ: String, def: "wrong", ctx: tk("any-user"), value: "fallback", variant: "fallback", reason: of.DefaultReason},
		{name: "fractional negative weight", flag: "fractional-negative-weight", typ: String, def: "wrong", ctx: tk("any-user"), value: "two", variant: "two", reason: of.TargetingMatchReason},

		// $evaluators and $ref
		{name: "$ref hit", flag: "ref-flag", typ: String, def: "x", ctx: map[string]any{"email": "ballmer@macrosoft.com"}, value: "hi", variant: "hi", reason: of.TargetingMatchReason},
		{name: "$ref miss", flag: "ref-flag", typ: String, def: "x", ctx: map[string]any{"email": "user@example.com"}, value: "bye", variant: "bye", reason: of.TargetingMatchReason},
		{name: "nested $ref", flag: "nested-ref-flag", typ: String, def: "x", ctx: map[string]any{"role": "admin"}, value: "privileged", variant: "privileged", reason: of.TargetingMatchReason},
		{name: "nested $ref inner", flag: "nested-ref-flag", typ: String, def: "x", ctx: map[string]any{"email": "ballmer@macrosoft.com"}, value: "privileged", variant: "privileged", reason: of.TargetingMatchReason},
		{name: "nested $ref miss", flag: "nested-ref-flag", typ: String, def: "x", ctx: map[string]any{"role": "user"}, value: "standard", variant: "standard", reason: of.TargetingMatchReason},

		// errors
		{name: "FLAG_NOT_FOUND", flag: "nope", typ: Boolean, def: true, value: true, reason: of.ErrorReason, code: of.FlagNotFoundCode},
		{name: "missing $ref is PARSE_ERROR", flag: "missing-ref-flag", typ: String, def: "fallback", value: "fallback", reason: of.ErrorReason, code: of.ParseErrorCode},
		{name: "unknown operator is PARSE_ERROR", flag: "targeting-bad-operator", typ: Integer, def: int64(3), value: int64(3), reason: of.ErrorReason, code: of.ParseErrorCode},
		{name: "unknown variant is GENERAL", flag: "targeting-missing-variant", typ: Integer, def: int64(3), value: int64(3), reason: of.ErrorReason, code: of.GeneralCode},
		{name: "number is not a variant", flag: "targeting-number", typ: Integer, def: int64(3), value: int64(3), reason: of.ErrorReason, code: of.GeneralCode},
		{name: "targeting null variant", flag: "targeting-null", typ: Integer, def: int64(3), value: int64(2), variant: "two", reason: of.DefaultReason},
		{name: "true maps to variant true", flag: "targeting-bool-variant", typ: Integer, def: int64(3), value: int64(2), variant: "true", reason: of.TargetingMatchReason},
		{name: "TYPE_MISMATCH string as bool", flag: "static-string", typ: Boolean, def: false, value: false, reason: of.ErrorReason, code: of.TypeMismatchCode},
		{name: "TYPE_MISMATCH bool as string", flag: "static-bool", typ: String, def: "fallback", value: "fallback", reason: of.ErrorReason, code: of.TypeMismatchCode},
		{name: "TYPE_MISMATCH bool as int", flag: "static-bool", typ: Integer, def: int64(1), value: int64(1), reason: of.ErrorReason, code: of.TypeMismatchCode},
		{name: "TYPE_MISMATCH int as bool", flag: "static-int", typ: Boolean, def: false, value: false, reason: of.ErrorReason, code: of.TypeMismatchCode},
		{name: "TYPE_MISMATCH 0.5 as int", flag: "static-half", typ: Integer, def: int64(1), value: int64(1), reason: of.ErrorReason, code: of.TypeMismatchCode},
		{name: "TYPE_MISMATCH string as object", flag: "static-string", typ: Object, def: nil, value: nil, reason: of.ErrorReason, code: of.TypeMismatchCode},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := set.Evaluate(c.flag, c.typ, c.def, c.ctx, testNow)
			if !reflect.DeepEqual(r.Value, c.value) || r.Variant != c.variant || r.Reason != c.reason || r.ErrorCode != c.code {
				t.Errorf("got value=%#v variant=%q reason=%s code=%s (%s)\nwant value=%#v variant=%q reason=%s code=%s",
					r.Value, r.Variant, r.Reason, r.ErrorCode, r.ErrorMessage, c.value, c.variant, c.reason, c.code)
			}
			if c.code != "" && r.ErrorMessage == "" {
				t.Errorf("error %s without a message", c.code)
			}
		})
	}
}

// flagd's own unit-test vectors for a seeded fractional.
func TestFractionalFlagdVectors(t *testing.T) {
	src := `{"flags": {
	  "headerColor": {"state": "ENABLED", "defaultVariant": "red",
	    "variants": {"red": "#FF0000", "blue": "#0000FF", "green": "#00FF00", "yellow": "#FFFF00"},
	    "targeting": {"if": [{"in": ["@faas.com", {"var": ["email"]}]},
	      {"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]}, ["red", 25], ["blue", 25], ["green", 25], ["yellow", 25]]}, null]}},
	  "customSeededHeaderColor": {"state": "ENABLED", "defaultVariant": "red",
	    "variants": {"red": "#FF0000", "blue": "#0000FF", "green": "#00FF00", "yellow": "#FFFF00"},
	    "targeting": {"if": [{"in": ["@faas.com", {"var": ["email"]}]},
	      {"fractional": [{"cat": ["my-seed", {"var": "email"}]}, ["red", 25], ["blue", 25], ["green", 25], ["yellow", 25]]}, null]}},
	  "literal": {"state": "ENABLED", "defaultVariant": "red",
	    "variants": {"red": "#FF0000", "blue": "#0000FF", "green": "#00FF00"},
	    "targeting": {"fractional": ["email", ["red", 50], ["blue", 25], ["green", 25]]}}
	}}`
	set, err := Parse("vectors.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ flag, email, want string }{
		{"headerColor", "rachel@faas.com", "blue"},
		{"headerColor", "monica@faas.com", "yellow"},
		{"headerColor", "joey@faas.com", "red"},
		{"headerColor", "ross@faas.com", "blue"},
		{"customSeededHeaderColor", "rachel@faas.com", "green"},
		{"customSeededHeaderColor", "monica@faas.com", "red"},
		{"customSeededHeaderColor", "joey@faas.com", "blue"},
		{"customSeededHeaderColor", "ross@faas.com", "green"},
		{"literal", "test4@faas.com", "green"},
	} {
		r := set.Evaluate(c.flag, String, "x", map[string]any{"email": c.email}, testNow)
		if r.Variant != c.want || r.Reason != of.TargetingMatchReason {
			t.Errorf("%s for %s: got %q (%s %s), want %q", c.flag, c.email, r.Variant, r.Reason, r.ErrorMessage, c.want)
		}
	}
}

func TestFractionalDistributionAndStickiness(t *testing.T) {
	src := `{"flags": {"split": {"state": "ENABLED", "defaultVariant": "a",
	  "variants": {"a": "a", "b": "b", "c": "c"},
	  "targeting": {"fractional": [["a", 50], ["b", 30], ["c", 20]]}}}}`
	set, err := Parse("split.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	counts := map[string]int{}
	first := map[string]string{}
	for i := range n {
		key := fmt.Sprintf("payments/prod/region-%d", i)
		r := set.Evaluate("split", String, "", map[string]any{"targetingKey": key}, testNow)
		if r.Reason != of.TargetingMatchReason {
			t.Fatalf("%s: %s %s", key, r.Reason, r.ErrorMessage)
		}
		counts[r.Variant]++
		first[key] = r.Variant
	}
	for v, w := range map[string]float64{"a": 0.5, "b": 0.3, "c": 0.2} {
		got := float64(counts[v]) / n
		if got < w-0.02 || got > w+0.02 {
			t.Errorf("variant %s: %.3f of keys, want %.2f ± 0.02 (counts %v)", v, got, w, counts)
		}
	}
	// Sticky: the same key always gets the same variant, at another time too.
	for i := 0; i < n; i += 7 {
		key := fmt.Sprintf("payments/prod/region-%d", i)
		r := set.Evaluate("split", String, "", map[string]any{"targetingKey": key}, testNow.Add(time.Hour))
		if r.Variant != first[key] {
			t.Fatalf("%s moved from %s to %s", key, first[key], r.Variant)
		}
	}
	t.Logf("10,000 keys over 50/30/20: %v", counts)
}

func TestLoadWarnings(t *testing.T) {
	set := loadCases(t)
	var found bool
	for _, w := range set.Warnings {
		if w.Pos.Line > 0 && contains(w.Message, `"does_not_exist"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning for the missing $ref: %v", set.Warnings)
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0) }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestMetadata(t *testing.T) {
	set := loadCases(t)
	r := set.Evaluate("static-bool", Boolean, false, nil, testNow)
	want := map[string]any{"team": "platform", "version": 7.0}
	if !reflect.DeepEqual(r.Metadata, want) {
		t.Errorf("metadata %v, want %v", r.Metadata, want)
	}
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

func TestObjectValuesAreCopies(t *testing.T) {
	set := loadCases(t)
	r := set.Evaluate("static-object", Object, nil, nil, testNow)
	r.Value.(map[string]any)["name"] = "changed"
	again := set.Evaluate("static-object", Object, nil, nil, testNow)
	if again.Value.(map[string]any)["name"] != "a" {
		t.Fatal("a caller changed the flag set")
	}
}
