package descriptor

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no input may panic, hang or produce a problem without a
// position. The seed corpus (testdata/fuzz plus the examples) runs in every
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
	f.Fuzz(func(t *testing.T, src []byte) {
		d, probs := Parse("f.sd.yaml", src)
		if d == nil {
			t.Fatal("nil descriptor")
		}
		for _, p := range probs {
			if p.Line < 1 || p.Column < 1 || p.Code == "" || p.Message == "" {
				t.Fatalf("problem without position or text: %+v", p)
			}
		}
	})
}
