package lint

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// FuzzCheck feeds any bytes through the loader, every rule and every output
// format: none may panic, and findings must point inside the file. The seed
// corpus (rule examples and the repository's examples) runs in go test.
func FuzzCheck(f *testing.F) {
	for _, r := range Rules() {
		f.Add([]byte(doc(r.Example.YAML)))
	}
	for _, g := range []string{"../../examples/*/*.sd.yaml", "../../templates/*.sd.yaml"} {
		files, _ := filepath.Glob(g)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("env:\n  A: \"é${resources.x.y}\"\n  B: '${resources.'\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		d, probs := descriptor.Parse("f.sd.yaml", src)
		lint := Check(d)
		lines := bytes.Count(src, []byte("\n")) + 1
		for _, x := range lint {
			if x.Line < 1 || x.Line > lines || x.Column < 1 {
				t.Fatalf("finding outside the file (%d lines): %+v", lines, x)
			}
		}
		// The loader may point just past the end (YAML's "unexpected end").
		fs := merge("f.sd.yaml", probs, lint)
		r := Result{Findings: fs, Files: 1, Sources: map[string][]byte{"f.sd.yaml": src}}
		for _, format := range Formats() {
			var b bytes.Buffer
			if err := Write(&b, format, r, WriteOptions{Color: true}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
