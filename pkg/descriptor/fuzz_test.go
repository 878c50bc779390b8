package descriptor

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// yamlLineBreak is what yaml.v3 counts as a line break.
var yamlLineBreak = regexp.MustCompile("\r\n|[\r\n\u0085\u2028\u2029]")

// Per-input budgets of FuzzParse: a 1 MiB descriptor of 100,000 nodes
// takes about 160 MB and half a second; anything far beyond that is an
// expansion the node budget missed (issue 14: merge keys took 6 GB). The
// time budget is wide because the cores are shared: a 10 s budget failed
// once on a starved machine with an input that takes milliseconds.
const (
	fuzzAllocBudget = 512 << 20
	fuzzTimeBudget  = 30 * time.Second
)

// FuzzParse: no input may panic, hang, allocate more than fuzzAllocBudget
// or run longer than fuzzTimeBudget, or produce a problem without a
// position inside the file. The seed corpus (testdata/fuzz plus the examples) runs in every
// `go test`; `go test -fuzz=FuzzParse ./pkg/descriptor` explores further.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	for _, glob := range []string{"testdata/*.sd.yaml", "../../examples/*/*.sd.yaml", "../../templates/*.sd.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("stages:\n  - overrides: &o {resources: *o}\n"))
	f.Add([]byte("<<: {service: x}\n"))
	f.Add([]byte("\r0"))
	f.Add([]byte("a: 1\u2028b: [\r\n"))
	// Merge keys and deep nesting, the expansions the budgets are for.
	f.Add(mergeBomb(50, 40))
	f.Add([]byte("x: &a {a: 1, b: 2}\nenv: {<<: [*a, *a, *a]}\nsecrets:\n  <<: *a\nstages:\n  - overrides: {<<: *a, env: {<<: [*a, *a]}}\n"))
	f.Add([]byte("a: &a {<<: [{x: 1}]}\nb: &b {<<: [*a, *a, *a, *a]}\nc: &c {<<: [*b, *b, *b, *b]}\nenv: {<<: [*c, *c, *c, *c]}\n"))
	f.Add([]byte("env: " + strings.Repeat("[", 200) + strings.Repeat("]", 200)))
	f.Add([]byte("stages:\n" + strings.Repeat("  - overrides: {compute: {", 50) + strings.Repeat("}}", 50)))
	f.Fuzz(func(t *testing.T, src []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		d, probs := Parse("f.sd.yaml", src)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > fuzzAllocBudget {
			t.Fatalf("a %d-byte input allocated %d MiB (budget %d MiB)", len(src), alloc>>20, fuzzAllocBudget>>20)
		}
		if took > fuzzTimeBudget {
			t.Fatalf("a %d-byte input took %v (budget %v)", len(src), took, fuzzTimeBudget)
		}
		if d == nil {
			t.Fatal("nil descriptor")
		}
		lines := yamlLineBreak.Split(string(src), -1)
		for _, p := range probs {
			if p.Line < 1 || p.Column < 1 || p.Code == "" || p.Message == "" {
				t.Fatalf("problem without position or text: %+v", p)
			}
			// A column may be one past its line's end (a missing value).
			if p.Line > len(lines) || p.Column > utf8.RuneCountInString(lines[p.Line-1])+1 {
				t.Fatalf("problem outside the %d-line file: %+v", len(lines), p)
			}
		}
	})
}
