package render

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenVersion is the version every golden template is rendered with.
const goldenVersion = "1.0.0"

// goldenCase is one descriptor whose every (stage, region) has golden files
// under testdata/golden/<name>.
type goldenCase struct{ name, file string }

// repoRoot finds the module root above the package folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the render package")
		}
		dir = parent
	}
}

// goldenCases lists every example, every starter template and this
// package's fixtures.
func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	root := repoRoot(t)
	var out []goldenCase
	for _, pattern := range []string{"examples/*/*.sd.y*ml", "templates/*.sd.y*ml"} {
		files, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			rel, _ := filepath.Rel(root, f)
			out = append(out, goldenCase{name: trimDescriptorExt(filepath.ToSlash(rel)), file: f})
		}
	}
	fixtures, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.sd.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		out = append(out, goldenCase{name: "fixtures/" + trimDescriptorExt(filepath.Base(f)), file: f})
	}
	if len(out) == 0 {
		t.Fatal("no descriptors to render")
	}
	return out
}

func trimDescriptorExt(p string) string {
	return strings.TrimSuffix(strings.TrimSuffix(p, ".sd.yaml"), ".sd.yml")
}

func loadClean(t *testing.T, file string) *descriptor.Descriptor {
	t.Helper()
	d, probs, err := descriptor.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) > 0 {
		var msgs []string
		for _, p := range probs {
			msgs = append(msgs, p.String())
		}
		t.Fatalf("%s does not load cleanly:\n%s", file, strings.Join(msgs, "\n"))
	}
	return d
}

// renderTree renders every (stage, region) of a descriptor into a fresh
// folder and returns the files by path relative to it.
func renderTree(t *testing.T, file string) map[string][]byte {
	t.Helper()
	d := loadClean(t, file)
	dir := t.TempDir()
	paths, err := WriteAll(d, dir, Options{Version: goldenVersion})
	if err != nil {
		t.Fatalf("rendering %s: %v", file, err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = data
	}
	return out
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// TestGolden renders every example, starter template and fixture and
// compares each file with testdata/golden. Run `go test ./pkg/render
// -update` to accept a change, then review the diff.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := renderTree(t, c.file)
			dir := filepath.Join("testdata", "golden", filepath.FromSlash(c.name))
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				for rel, data := range got {
					p := filepath.Join(dir, filepath.FromSlash(rel))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			want := readTree(t, dir)
			if len(want) == 0 {
				t.Fatalf("no golden files in %s; run go test ./pkg/render -update", dir)
			}
			for _, rel := range slices.Sorted(maps.Keys(want)) {
				if _, ok := got[rel]; !ok {
					t.Errorf("%s: golden file no longer rendered; run go test ./pkg/render -update", rel)
				}
			}
			for _, rel := range slices.Sorted(maps.Keys(got)) {
				w, ok := want[rel]
				switch {
				case !ok:
					t.Errorf("%s: rendered but has no golden file; run go test ./pkg/render -update", rel)
				case !bytes.Equal(w, got[rel]):
					t.Errorf("%s differs from its golden file (run go test ./pkg/render -update and review the diff):\n%s", rel, firstDiff(w, got[rel]))
				}
			}
		})
	}
}

// firstDiff shows the first line where want and got part.
func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return "(same lines, different bytes)"
}
