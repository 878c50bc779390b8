package flagd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
)

// memBudget is what one hostile input may allocate in these tests and in
// the fuzz targets: far above any real flag file's cost, far below the
// gigabytes the unbounded versions took.
const memBudget = 256 << 20

// measure runs fn and returns the bytes it allocated and how long it took.
func measure(fn func()) (uint64, time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, took
}

// refChain is issue 14's item 2: each evaluator refers twice to the one
// before, so inlining doubles at every step (2^n copies of e0).
func refChain(n int) string {
	var b strings.Builder
	b.WriteString(`{"flags": {"f": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",`)
	fmt.Fprintf(&b, `"targeting": {"if": [{"$ref": "e%d"}, "on", "off"]}}}, "$evaluators": {"e0": {"==": [1, 1]}`, n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `, "e%d": {"and": [{"$ref": "e%d"}, {"$ref": "e%d"}]}`, i, i-1, i-1)
	}
	b.WriteString("}}")
	return b.String()
}

// deepArray is issue 14's item 3: a nested array deeper than any stack.
func deepArray(depth int) string {
	return `{"flags": {}, "$evaluators": {"x": {"var": ` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "}}}"
}

func wantProblem(t *testing.T, err error, substr string) {
	t.Helper()
	var le *LoadError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), substr) {
		t.Fatalf("want a *LoadError saying %q, got %v", substr, err)
	}
}

func TestRefChainRefusedByExpansionBudget(t *testing.T) {
	src := refChain(40) // 2 KB; inlined eagerly it needs 2^40 nodes
	var err error
	mem, took := measure(func() { _, err = Parse("refs.json", []byte(src)) })
	wantProblem(t, err, fmt.Sprintf("would exceed %d values", MaxExpandedNodes))
	if mem > memBudget || took > 5*time.Second {
		t.Errorf("a %d-byte $ref chain took %d MB and %s", len(src), mem>>20, took)
	}
	// A short chain is fine and evaluates as written.
	set, err := Parse("refs.json", []byte(refChain(5)))
	if err != nil {
		t.Fatal(err)
	}
	if r := set.Evaluate("f", Boolean, false, nil, testNow); r.Value != true {
		t.Errorf("5-step chain: %+v", r)
	}
}

func TestDeepNestingRefused(t *testing.T) {
	for _, depth := range []int{MaxDepth + 1, 1 << 20, 3 << 20} { // 3<<20: a 6 MB file
		var err error
		mem, took := measure(func() { _, err = Parse("deep.json", []byte(deepArray(depth))) })
		wantProblem(t, err, fmt.Sprintf("nested more than %d levels deep", MaxDepth))
		if mem > memBudget || took > 5*time.Second {
			t.Errorf("depth %d took %d MB and %s", depth, mem>>20, took)
		}
	}
	if _, err := Parse("ok.json", []byte(deepArray(MaxDepth-3))); err != nil {
		t.Errorf("nesting within the budget: %v", err)
	}
}

// The watcher of a running deploy re-parses with the same parser: a deep
// file saved while it runs is an error for every evaluation, not a crash.
func TestWatcherReparseOfDeepFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flags.json")
	writeFile(t, path, gateOn)
	p := New(path, Options{NoWatch: true})
	client := openClient(t, p)
	writeFile(t, path, deepArray(3<<20))
	p.Reload()
	d, _ := client.BooleanValueDetails(t.Context(), "gate", false, of.EvaluationContext{})
	if d.Value || d.ErrorCode != of.ParseErrorCode || !strings.Contains(d.ErrorMessage, "nested more than") {
		t.Errorf("after saving a deep file: %+v", d)
	}
}

func TestFileSizeCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, make([]byte, MaxFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var le *LoadError
	if !errors.As(err, &le) || !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "at most 8 MiB") {
		t.Errorf("want the size budget, got %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		mem, took := measure(func() { _, err = Load("/dev/zero") })
		if !errors.Is(err, ErrTooLarge) || mem > 64<<20 || took > 5*time.Second {
			t.Errorf("/dev/zero: %v after %s and %d MB", err, took, mem>>20)
		}
	}
}

// manyFlags is a one-line file of n flags, each with a typo, so that every
// flag asks for a position: quadratic before positions were found in order.
func manyFlags(n int) string {
	var b strings.Builder
	b.WriteString(`{"flags": {`)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `"flag-%d": {"state": "ENABLED", "variants": {"on": true}, "defaultVarient": "on"}`, i)
	}
	b.WriteString("}}")
	return b.String()
}

func TestFlagCountBudgetAndLinearPositions(t *testing.T) {
	var err error
	_, took := measure(func() { _, err = Parse("many.json", []byte(manyFlags(60_000))) })
	wantProblem(t, err, fmt.Sprintf("a flag file may define at most %d", MaxFlags))
	if took > 5*time.Second {
		t.Errorf("refusing 60,000 flags took %s", took)
	}
	_, took = measure(func() { _, err = Parse("many.json", []byte(manyFlags(MaxFlags))) })
	var le *LoadError
	if !errors.As(err, &le) || len(le.Problems) != MaxFlags {
		t.Fatalf("want one problem per flag, got %v", err)
	}
	if last := le.Problems[len(le.Problems)-1].Pos; last.Line != 1 || last.Column < 800_000 {
		t.Errorf("last problem at %s", last)
	}
	if took > 5*time.Second {
		t.Errorf("%d flags on one line took %s: positions are not linear", MaxFlags, took)
	}
}

func TestEvaluationBudgets(t *testing.T) {
	// The jsonlogic module's reduce keeps numbers only, so merge cannot
	// double there; a merge past its cap is refused all the same.
	doubling := `{"merge": [[` + strings.Repeat("1,", MaxMergeElements) + `1]]}`
	loops := `{"map": [{"var": "a"}, {"map": [{"var": "b"}, {"map": [{"var": "c"}, 1]}]}]}`
	cat := `{"reduce": [[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],
		{"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "ab"]}`
	src := fmt.Sprintf(`{"flags": {
		"doubling": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [%s, "on", "off"]}},
		"cat": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [%s, "on", "off"]}},
		"loops": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [%s, "on", "off"]}}}}`,
		doubling, cat, loops)
	set, err := Parse("work.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{"doubling": "merge would build more than", "cat": "cat would build a string longer",
		"loops": "more than 1000000 steps"} {
		var r Result
		mem, took := measure(func() { r = set.Evaluate(flag, Boolean, false, nil, testNow) })
		if r.Reason != of.ErrorReason || !strings.Contains(r.ErrorMessage, want) {
			t.Errorf("%s: %+v; want an error saying %q", flag, r, want)
		}
		if mem > memBudget || took > 5*time.Second {
			t.Errorf("%s took %d MB and %s", flag, mem>>20, took)
		}
	}
}

func TestContextBudgetInEvaluate(t *testing.T) {
	set := loadCases(t)
	deep := map[string]any{}
	cur := deep
	for range MaxContextDepth + 2 {
		next := map[string]any{}
		cur["a"] = next
		cur = next
	}
	r := set.Evaluate("semver-cmp", String, "x", map[string]any{"deep": deep}, testNow)
	if r.ErrorCode != of.InvalidContextCode || !strings.Contains(r.ErrorMessage, "nested more than") {
		t.Errorf("deep context: %+v", r)
	}
	r = set.Evaluate("semver-cmp", String, "x", map[string]any{"big": strings.Repeat("x", MaxContextBytes)}, testNow)
	if r.ErrorCode != of.InvalidContextCode {
		t.Errorf("big context: %+v", r)
	}
}
