package lint

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// FuzzCheck feeds any bytes through the loader, every rule and every output
// format: none may panic, findings must point inside the file, and no
// output carries a raw control character or bidi override. The seed
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
	f.Add([]byte("service: \"a\\e]0;t\\a\\u202e\\u0085\"\n\"k\\e[2J\": x\nimage: \"\\u2066\\n::error::x\"\n"))
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
			// Without colour, no output carries a control or a bidi
			// override from the input (issue 14, item 8).
			b.Reset()
			if err := Write(&b, format, r, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			if i := rawControl(b.String()); i >= 0 {
				t.Fatalf("%s output keeps a control at %d: %q", format, i, b.String()[max(0, i-20):min(b.Len(), i+20)])
			}
		}
	})
}
