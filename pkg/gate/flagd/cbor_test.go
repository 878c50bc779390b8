package flagd

import (
	"encoding/hex"
	"math"
	"strings"
	"testing"

	of "github.com/open-feature/go-sdk/openfeature"
)

// RFC 8949 Appendix A's examples, with fractional v3's one change: a whole
// number in int64 range is an integer however it was written.
func TestCanonicalCBORVectors(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{0.0, "00"}, {1.0, "01"}, {10.0, "0a"}, {23.0, "17"}, {24.0, "1818"}, {100.0, "1864"}, {1000.0, "1903e8"},
		{1000000.0, "1a000f4240"}, {1e12, "1b000000e8d4a51000"}, {-1.0, "20"}, {-10.0, "29"}, {-100.0, "3863"},
		{-1000.0, "3903e7"}, {math.Copysign(0, -1), "00"}, {1.5, "f93e00"}, {1.1, "fb3ff199999999999a"},
		{5.960464477539063e-8, "f90001"}, {0.00006103515625, "f90400"}, {-4.1, "fbc010666666666666"},
		{3.4028234663852886e+38, "fa7f7fffff"}, {1e300, "fb7e37e43c8800759c"}, {math.Inf(1), "f97c00"},
		{math.Inf(-1), "f9fc00"}, {math.NaN(), "f97e00"}, {1e20, "fb4415af1d78b58c40"},
		{false, "f4"}, {true, "f5"}, {nil, "f6"}, {"", "60"}, {"a", "6161"}, {"IETF", "6449455446"},
		{"\u00fc", "62c3bc"}, {[]any{}, "80"}, {[]any{1.0, 2.0, 3.0}, "83010203"}, {map[string]any{}, "a0"},
		{map[string]any{"b": []any{2.0, 3.0}, "a": 1.0}, "a26161016162820203"},
		{map[string]any{"aa": 1.0, "b": 2.0}, "a2616202626161" + "01"}, // shorter key first
	} {
		got, err := canonicalCBOR(c.in)
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("%v: %x (%v), want %s", c.in, got, err, c.want)
		}
	}
	if _, err := canonicalCBOR(string([]byte{0xff})); err == nil {
		t.Error("invalid UTF-8 must not encode")
	}
	deep := any(1.0)
	for range maxCBORDepth + 2 {
		deep = []any{deep}
	}
	if _, err := canonicalCBOR(deep); err == nil {
		t.Error("nesting past the limit must not encode")
	}
}

func TestFractionalAlgorithmChoice(t *testing.T) {
	src := `{"metadata": {"fractionalAlgorithm": "v3"}, "flags": {
	  "set": {"state": "ENABLED", "variants": {"a": "a"}, "defaultVariant": "a"},
	  "own": {"state": "ENABLED", "variants": {"a": "a"}, "defaultVariant": "a", "metadata": {"fractionalAlgorithm": "v2"}}}}`
	set, err := Parse("algo.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if set.Fractional != FractionalV3 || set.Flags["set"].Fractional != FractionalV3 || set.Flags["own"].Fractional != FractionalV2 {
		t.Errorf("set %s, flags %s %s", set.Fractional, set.Flags["set"].Fractional, set.Flags["own"].Fractional)
	}
	plain, _ := Parse("plain.json", []byte(`{"flags": {"f": {"state": "ENABLED", "variants": {"a": "a"}}}}`))
	if plain.Flags["f"].Fractional != DefaultFractional || DefaultFractional != FractionalV2 {
		t.Errorf("default %s", plain.Flags["f"].Fractional)
	}
	_, err = Parse("bad.json", []byte(`{"metadata": {"fractionalAlgorithm": "v1"}, "flags": {
	  "a": {"state": "ENABLED", "variants": {"a": "a"}}, "b": {"state": "ENABLED", "variants": {"a": "a"}}}}`))
	if err == nil || strings.Count(err.Error(), `"fractionalAlgorithm" must be "v2" or "v3"`) != 1 {
		t.Errorf("want one problem for a bad algorithm, got %v", err)
	}
}

// v2 and v3 bucket the same key differently, and each result names its
// algorithm; v3 buckets non-string values that v2 cannot.
func TestFractionalV2AndV3(t *testing.T) {
	rule := `{"fractional": [{"var": "k"}, ["a", 1], ["b", 1], ["c", 1], ["d", 1]]}`
	load := func(algo string) *FlagSet {
		set, err := Parse("f.json", []byte(`{"metadata": {"fractionalAlgorithm": "`+algo+`"}, "flags": {"f": {"state": "ENABLED",
		  "variants": {"a": "a", "b": "b", "c": "c", "d": "d", "none": "none"}, "defaultVariant": "none", "targeting": `+rule+`}}}`))
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	v2, v3 := load(FractionalV2), load(FractionalV3)
	differ := false
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		r2 := v2.Evaluate("f", String, "x", map[string]any{"k": k}, testNow)
		r3 := v3.Evaluate("f", String, "x", map[string]any{"k": k}, testNow)
		if r2.Fractional != FractionalV2 || r3.Fractional != FractionalV3 || r2.Reason != of.TargetingMatchReason || r3.Reason != of.TargetingMatchReason {
			t.Fatalf("%s: %+v %+v", k, r2, r3)
		}
		differ = differ || r2.Value != r3.Value
	}
	if !differ {
		t.Error("v2 and v3 bucketed eight keys identically")
	}
	for _, k := range []any{7.0, true, map[string]any{"x": 1.0}} { // an array first argument is an entry: the shorthand
		if r := v3.Evaluate("f", String, "x", map[string]any{"k": k}, testNow); r.Reason != of.TargetingMatchReason {
			t.Errorf("v3 must bucket %v: %+v", k, r)
		}
		if r := v2.Evaluate("f", String, "x", map[string]any{"k": k}, testNow); r.Reason != of.DefaultReason || r.OperatorError == "" {
			t.Errorf("v2 cannot bucket %v: %+v", k, r)
		}
	}
}
