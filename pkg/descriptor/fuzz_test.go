package descriptor

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"unicode/utf8"
)

// yamlLineBreak is what yaml.v3 counts as a line break.
var yamlLineBreak = regexp.MustCompile("\r\n|[\r\n\u0085\u2028\u2029]")

// FuzzParse: no input may panic, hang or produce a problem without a
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
	f.Fuzz(func(t *testing.T, src []byte) {
		d, probs := Parse("f.sd.yaml", src)
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
