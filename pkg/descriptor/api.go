package descriptor

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxFileSize bounds what Parse accepts; a descriptor is a page of YAML.
const MaxFileSize = 1 << 20

// Load reads and parses the descriptor at path. The error is for I/O only;
// defects of the file come back as problems beside a best-effort descriptor.
func Load(path string) (*Descriptor, []Problem, error) {
	src, err := ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	d, probs := Parse(path, src)
	return d, probs, nil
}

// ReadFile reads a descriptor's bytes, at most one byte past MaxFileSize:
// enough for Parse to see that a file is too big without reading all of
// it. Whoever both loads and lints a file reads it once, here, and hands
// the same bytes to both (a pipe can be read only once, and a file can
// change between two reads).
func ReadFile(path string) ([]byte, error) {
	return ReadFileContext(context.Background(), path)
}

// ReadFileContext is ReadFile that gives up when ctx is done, also in the
// middle of reading a pipe (`gantry render <(generate)` reads one; a
// folder's named pipes are skipped by Find, not read).
func ReadFileContext(ctx context.Context, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading descriptor: %w", err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.IsDir() {
		return nil, fmt.Errorf("reading descriptor %s: a folder, not a file", path)
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("reading descriptor %s: %w", path, cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("reading descriptor %s: %w", path, err)
	}
	return src, nil
}

// Lookup returns the span recorded for path, or for its nearest recorded
// parent, or line 1 column 1.
func (p Positions) Lookup(path string) Span {
	for path != "" {
		if s, ok := p[path]; ok {
			return s
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return Span{Line: 1, Column: 1, EndLine: 1, EndColumn: 1}
}

// Key returns the span of the key of the mapping entry at path, falling back
// to the value's span.
func (p Positions) Key(path string) Span {
	if s, ok := p[path+"#key"]; ok {
		return s
	}
	return p.Lookup(path)
}

// SpecView is a Spec as one stage (or the top level) sees it.
type SpecView struct {
	// Stage is nil for the top level.
	Stage *Stage
	Spec  *Spec
	Pos   Positions
}

// Specs returns the top-level Spec and then the effective Spec of every stage
// that has overrides, so a rule can check each merged result. The same defect
// may show in several views; lint de-duplicates findings.
func (d *Descriptor) Specs() []SpecView {
	views := []SpecView{{Spec: &d.Spec, Pos: d.Pos}}
	for i := range d.Stages {
		st := &d.Stages[i]
		if st.Overrides != nil && st.Effective != nil {
			views = append(views, SpecView{Stage: st, Spec: st.Effective, Pos: st.EffectivePos})
		}
	}
	return views
}

// SpecFor returns the effective Spec of the named stage (the top level when
// the stage has no overrides), or nil if there is no such stage.
func (d *Descriptor) SpecFor(stage string) *Spec {
	for i := range d.Stages {
		if d.Stages[i].Name == stage {
			if d.Stages[i].Effective != nil {
				return d.Stages[i].Effective
			}
			return &d.Spec
		}
	}
	return nil
}

// IsDescriptorFile reports whether name looks like a descriptor file.
func IsDescriptorFile(name string) bool {
	return strings.HasSuffix(name, ".sd.yaml") || strings.HasSuffix(name, ".sd.yml")
}

// Skipped is a file a folder search found but did not take: it is not a
// regular file (a named pipe would block the reader, a device never end).
type Skipped struct {
	Path   string
	Reason string
}

// Discover expands paths into descriptor files: a file is taken as given, a
// folder is searched recursively for *.sd.yaml and *.sd.yml (skipping hidden
// folders and vendor/ and node_modules/). The result is sorted and unique.
// Files that are not regular files are left out; Find says which.
func Discover(paths []string) ([]string, error) {
	files, _, err := Find(paths)
	return files, err
}

// Find is Discover that also returns what a folder search skipped: any
// *.sd.yaml that is not a regular file (or a link to one). A path given
// as is (a pipe: `gantry lint <(generate)`) is taken as is.
func Find(paths []string) ([]string, []Skipped, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var out []string
	var skipped []Skipped
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("finding descriptors: %w", err)
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				n := e.Name()
				if path != p && (strings.HasPrefix(n, ".") || n == "vendor" || n == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if !IsDescriptorFile(e.Name()) {
				return nil
			}
			if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
				skipped = append(skipped, Skipped{Path: path, Reason: fmt.Sprintf("not a regular file (%s); gantry reads descriptors it finds in a folder from regular files only", kindOf(info.Mode()))})
				return nil
			}
			out = append(out, path)
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("finding descriptors under %s: %w", p, err)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), skipped, nil
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	}
	return "mode " + m.String()
}
