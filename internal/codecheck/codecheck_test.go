package codecheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gantryhq/gantry"

// maxFuncLines is the longest a function outside tests may be: past it, a
// function does several things and should say so with its parts' names.
const maxFuncLines = 80

// sources are the repository's non-test Go files, parsed, by package dir.
type sources struct {
	root  string
	fset  *token.FileSet
	files map[string][]*ast.File // package dir (slash, relative) → files
}

func load(t *testing.T) *sources {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	s := &sources{root: root, fset: token.NewFileSet(), files: map[string][]*ast.File{}}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "dist" || name == "out") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(s.fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		s.files[filepath.ToSlash(rel)] = append(s.files[filepath.ToSlash(rel)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFunctionsAreShort(t *testing.T) {
	s := load(t)
	for _, files := range s.files {
		for _, f := range files {
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				start, end := s.fset.Position(fn.Pos()), s.fset.Position(fn.End())
				if n := end.Line - start.Line + 1; n > maxFuncLines {
					rel, _ := filepath.Rel(s.root, start.Filename)
					t.Errorf("%s:%d: %s is %d lines long (at most %d): split it into parts that say what they do",
						rel, start.Line, fn.Name.Name, n, maxFuncLines)
				}
			}
		}
	}
}

// Go tools read a zz_ prefix as generated code; hand-written files are
// named after what they hold.
func TestNoZZFiles(t *testing.T) {
	s := load(t)
	for _, files := range s.files {
		for _, f := range files {
			name := filepath.Base(s.fset.Position(f.Pos()).Filename)
			if strings.HasPrefix(name, "zz_") {
				t.Errorf("%s: a zz_ file name marks generated code; name it after what it holds", s.fset.Position(f.Pos()).Filename)
			}
		}
	}
}

// imports maps each package dir to the import paths of its files.
func (s *sources) imports() map[string][]string {
	out := map[string][]string{}
	for dir, files := range s.files {
		for _, f := range files {
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if !slices.Contains(out[dir], p) {
					out[dir] = append(out[dir], p)
				}
			}
		}
	}
	return out
}

// deps is every import path dir depends on, transitively, through the
// module's own packages.
func deps(graph map[string][]string, dir string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(d string) {
		for _, p := range graph[d] {
			if seen[p] {
				continue
			}
			seen[p] = true
			if rest, ok := strings.CutPrefix(p, module+"/"); ok {
				walk(rest)
			}
		}
	}
	walk(dir)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Lower layers never import higher ones (docs/deploying.md, design.md).
func TestDependenciesPointOneWay(t *testing.T) {
	graph := load(t).imports()
	forbidden := map[string][]string{
		// The leaf every rollout step shares imports nothing of gantry's.
		"pkg/rollout": {module + "/"},
		// The flag gates answer the engine; they do not know it.
		"pkg/gate": {module + "/pkg/deploy", module + "/pkg/progress", module + "/pkg/cmd"},
		// The view shows results; it neither runs nor renders them.
		"pkg/progress": {module + "/pkg/deploy", module + "/pkg/render", module + "/pkg/gate"},
		// The engine reaches AWS only through its Backend.
		"pkg/deploy": {module + "/pkg/progress", module + "/pkg/cfn", module + "/pkg/state", module + "/pkg/awsx", "github.com/aws/"},
		// descriptor, lint and render make no network call.
		"pkg/descriptor": {"github.com/aws/", "net/http", module + "/pkg/render", module + "/pkg/lint"},
		"pkg/lint":       {"github.com/aws/", "net/http", module + "/pkg/cmd"},
		"pkg/render":     {"github.com/aws/", "net/http", module + "/pkg/deploy", module + "/pkg/lint"},
		// A resource kind sits below the descriptor: it knows the seams
		// (pkg/kind), never who calls it, and makes no network call.
		"pkg/kinds": {"github.com/aws/", "net/http", module + "/pkg/descriptor", module + "/pkg/render", module + "/pkg/lint", module + "/pkg/deploy"},
	}
	for dir, bad := range forbidden {
		if _, ok := graph[dir]; !ok {
			t.Errorf("%s: no such package", dir)
			continue
		}
		for _, p := range deps(graph, dir) {
			for _, b := range bad {
				if p == strings.TrimSuffix(b, "/") || strings.HasPrefix(p, b) || strings.HasPrefix(p, b+"/") {
					t.Errorf("%s depends on %s", dir, p)
				}
			}
		}
	}
}
