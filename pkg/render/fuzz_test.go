package render

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// FuzzRender: whatever the loader makes of an input, even with problems,
// rendering and encoding it must not panic; it renders or says why not.
// The seeds (fixtures, examples, starter templates) run in every go test;
// `go test -fuzz=FuzzRender ./pkg/render` explores further.
func FuzzRender(f *testing.F) {
	for _, glob := range []string{"testdata/fixtures/*.sd.yaml", "../../examples/*/*.sd.yaml", "../../templates/*.sd.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(shop))
	f.Add([]byte("service: x\nstages: [{name: a, regions: [r]}]\ncompute: {port: 1}\n"))
	f.Add([]byte("service: x\nstages: [{name: a, regions: [r]}]\nresources: {db: {}}\nenv: {A: '${resources.db.host}'}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		d, _ := descriptor.Parse("f.sd.yaml", src)
		targets, err := Targets(d, Options{})
		if err != nil {
			return
		}
		for _, tg := range targets {
			stacks, err := Render(d, tg)
			if err != nil {
				if err.Error() == "" {
					t.Fatal("error without a message")
				}
				continue
			}
			for _, s := range stacks {
				for _, format := range []string{"json", "yaml"} {
					if _, err := s.Encode(format); err != nil {
						t.Fatalf("%s: encoding a rendered stack: %v", s.Name, err)
					}
				}
			}
		}
	})
}
