package descriptor

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// mergeBomb is a small descriptor whose `<<` merge key copies one large
// mapping many times (issue 14, item 1).
func mergeBomb(keys, copies int) []byte {
	var b strings.Builder
	b.WriteString(minimal + "env: &a\n")
	for i := range keys {
		fmt.Fprintf(&b, "  K%d: v\n", i)
	}
	b.WriteString("secrets: {<<: [")
	for i := range copies {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*a")
	}
	b.WriteString("]}\n")
	return []byte(b.String())
}

// TestMergeKeysChargeTheNodeBudget: issue 14's 79 KB input, which took
// 2 GB before merge keys were charged. (Not a FuzzParse seed: an input
// this large slows fuzzing a hundredfold.)
func TestMergeKeysChargeTheNodeBudget(t *testing.T) {
	src := mergeBomb(2000, 15000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, probs := Parse("bomb.sd.yaml", src)
	runtime.ReadMemStats(&after)
	if !hasProblem(probs, CodeSyntax, "counting what aliases and merge keys") {
		t.Fatalf("a merge key copying 2,000 keys 15,000 times loaded: %v", firstProblems(probs))
	}
	// The budget stops the copying: far less than the 30 million pairs.
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("parsing a %d-byte merge bomb allocated %d MB", len(src), got>>20)
	}
}

func TestMergeKeysInOverridesChargeTheBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Replace(minimal, "    regions: [us-east-1]\n", "    regions: [us-east-1]\n    overrides: {scaling: {min: 3}}\n", 1))
	b.WriteString("x-big: &a\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "  K%d: v\n", i)
	}
	b.WriteString("env:\n  <<: [")
	for i := range 100 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*a")
	}
	b.WriteString("]\n")
	_, probs := Parse("bomb.sd.yaml", []byte(b.String()))
	if !hasProblem(probs, CodeSyntax, "counting what aliases and merge keys") {
		t.Fatalf("merge expansion under a stage's overrides was not charged: %v", firstProblems(probs))
	}
}

func hasProblem(probs []Problem, code, text string) bool {
	for _, p := range probs {
		if p.Code == code && strings.Contains(p.Message, text) {
			return true
		}
	}
	return false
}

func firstProblems(probs []Problem) []Problem {
	return probs[:min(len(probs), 5)]
}

func TestSecretReferencesRefuseWildcards(t *testing.T) {
	for _, ref := range []string{
		"ssm:*", "ssm:/prod/*", "ssm:/prod/db-?", "ssm:/a b", "ssm:/", "ssm:arn:aws:ssm:us-east-1:111122223333:parameter/*",
		"secretsmanager:*", "secretsmanager:prod/*", "secretsmanager:db?", "secretsmanager:x#", "secretsmanager:#k",
		"secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:*",
	} {
		src := minimal + "secrets:\n  X: \"" + ref + "\"\n"
		_, probs := parse(t, src)
		if len(probs) != 1 || probs[0].Code != CodeValue || probs[0].Line != 19 || probs[0].Column != 6 {
			t.Errorf("%s: problems %v, want one GN108 at the value, 19:6", ref, probs)
		}
	}
	for _, ref := range []string{
		"ssm:/payments/stripe-api-key", "ssm:signing-key", "ssm:arn:aws:ssm:us-east-1:111122223333:parameter/a/b",
		"secretsmanager:edge/api-token", "secretsmanager:edge/db#url", "secretsmanager:a+b=c.d@e-f",
		"secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf",
	} {
		if _, probs := parse(t, minimal+"secrets:\n  X: \""+ref+"\"\n"); len(probs) != 0 {
			t.Errorf("%s: %v", ref, probs)
		}
	}
}

func TestMalformedSecretReferencesAreNotEchoed(t *testing.T) {
	const token = "ghp_0123456789abcdefghijABCDEFGHIJ0123"
	for _, ref := range []string{"ssm: " + token, "secretsmanager:" + token + " x", "${" + token + "}", "${" + token} {
		_, probs := parse(t, minimal+"secrets:\n  X: \""+ref+"\"\n")
		if len(probs) == 0 {
			t.Errorf("%q loaded", ref)
		}
		for _, p := range probs {
			if strings.Contains(p.Message, "ghp_") {
				t.Errorf("%q: the message repeats the value: %s", ref, p.Message)
			}
		}
	}
}

func TestImageIsARepository(t *testing.T) {
	img := func(v string) string {
		return strings.Replace(minimal, "image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments\n", "image: "+v+"\n", 1)
	}
	for _, bad := range []string{`""`, `" "`, `"a b/c"`, `"repo\"x"`, `"reg.io/it's"`, `"reg.io/../etc"`, `"reg.io/Payments"`,
		`"reg.io/a\u0007b"`, `"reg.io/a\u202eb"`, `"reg.io//x"`, `"reg.io/x/"`, `"-reg.io/x"`, `"reg.io/` + strings.Repeat("a", 300) + `"`} {
		_, probs := parse(t, img(bad))
		if len(probs) != 1 || probs[0].Code != CodeValue || probs[0].Line != 4 {
			t.Errorf("image %s: problems %v, want one GN108 on line 4", bad, probs)
		}
	}
	for _, good := range []string{"nginx", "library/nginx", "localhost:5000/a/b", "ghcr.io/org/my_app.v2", "reg.io/a__b-c",
		"${account}.dkr.ecr.${region}.amazonaws.com/edge-proxy", "reg.io/x:v1", "reg.io/x@sha256:abc"} {
		if _, probs := parse(t, img(good)); len(probs) != 0 {
			t.Errorf("image %s: %v", good, probs)
		}
	}
}

// TestMessagesThatMisled: issue 14, item 14 (the descriptor's part).
func TestMessagesThatMisled(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
		want      string
	}{
		{"wrong-typed port is one problem", strings.Replace(minimal, "port: 8080", "port: abc", 1), 8, 9, "must be a whole number"},
		{"NUL at its place", minimal + "team: a\x00b\n", 18, 8, "control character U+0000"},
		{"invalid UTF-8 at its place", minimal + "team: a\xffb\n", 18, 8, "not UTF-8"},
		{"overflow is too large", minimal + "scaling: {min: 99999999999999999999}\n", 18, 16, "is too large"},
		{"int64 overflow is too large", minimal + "scaling: {min: 9223372036854775808}\n", 18, 16, "is too large"},
		{"!Ref is refused", minimal + "description: !Ref Foo\n", 18, 14, "YAML tag !Ref"},
		{"!!binary is refused", minimal + "description: !!binary aGVsbG8=\n", 18, 14, "YAML tag !!binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := parse(t, tt.src)
			if len(probs) != 1 || probs[0].Line != tt.line || probs[0].Column != tt.col || !strings.Contains(probs[0].Message, tt.want) {
				t.Errorf("problems %v, want one at %d:%d saying %q", probs, tt.line, tt.col, tt.want)
			}
		})
	}
	// Plain tags a person may spell out still load.
	if _, probs := parse(t, minimal+"description: !!str 123\n"); len(probs) != 0 {
		t.Errorf("!!str: %v", probs)
	}
}

// TestBadCharacterCountsLinesAsYAML: found by FuzzParse (the seed
// testdata/fuzz/FuzzParse/b28b72778cdf7fd7): a lone CR ends a line.
func TestBadCharacterCountsLinesAsYAML(t *testing.T) {
	for src, want := range map[string]Span{
		"\r\x00": {2, 1, 2, 2}, "a: b\r\n\x00": {2, 1, 2, 2}, "a: \u2028\x01": {2, 1, 2, 2}, "é\x00": {1, 2, 1, 3},
	} {
		_, probs := Parse("x", []byte(src))
		if len(probs) != 1 || probs[0].Span != want {
			t.Errorf("%q: %v, want one at %v", src, probs, want)
		}
	}
}
