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

func TestMergeKeysChargeTheNodeBudget(t *testing.T) {
	src := mergeBomb(2000, 400)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, probs := Parse("bomb.sd.yaml", src)
	runtime.ReadMemStats(&after)
	if !hasProblem(probs, CodeSyntax, "expands to more than") {
		t.Fatalf("a merge key copying 2,000 keys 400 times loaded: %v", firstProblems(probs))
	}
	// The budget stops the copying: far less than the 800,000 pairs.
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
	if !hasProblem(probs, CodeSyntax, "expands to more than") {
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
