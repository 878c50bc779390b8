package lint

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

const clean = `schemaVersion: 1
service: billing
team: money
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/billing
compute:
  cpu: 256
  memory: 512
  port: 8080
routing:
  path: /billing/*
stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1]
`

func write(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runLint(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	f, out, errOut := cmdutil.TestFactory("v0.1.0")
	code, _ := cmdutil.Execute(context.Background(), NewCmd(f), args)
	return code, out.String(), errOut.String()
}

func TestLintExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good/billing.sd.yaml", clean)
	// A typo in a key (GN104) and a Fargate size that does not exist.
	bad := write(t, dir, "bad/billing.sd.yaml", strings.Replace(clean, "  memory: 512", "  memroy: 512", 1))

	if code, out, errOut := runLint(t, good); code != 0 {
		t.Errorf("clean file: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	code, out, _ := runLint(t, bad)
	if code != 1 {
		t.Errorf("file with an error: exit %d, want 1", code)
	}
	if !strings.Contains(out, "billing.sd.yaml:7:3: error GN104") || !strings.Contains(out, `did you mean "memory"`) {
		t.Errorf("text output lacks the finding at 7:3:\n%s", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour written to a non-terminal")
	}
	// A folder finds both; one error makes the run fail.
	if code, _, _ := runLint(t, dir); code != 1 {
		t.Errorf("folder with one bad file: exit %d, want 1", code)
	}
}

func TestLintUsageAndInputErrors(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "billing.sd.yaml", clean)
	empty := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"bad format", []string{good, "--format", "xml"}},
		{"bad output", []string{good, "-o", "xml"}},
		{"output and format", []string{good, "--output", "json", "--format", "json"}},
		{"missing path", []string{filepath.Join(dir, "nope.sd.yaml")}},
		{"no descriptors", []string{empty}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := runLint(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
}

func TestLintJSONParses(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.sd.yaml", clean)
	write(t, dir, "b.sd.yaml", strings.Replace(clean, "  memory: 512", "  memroy: 512", 1))
	code, out, _ := runLint(t, dir, "--format", "json")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var doc struct {
		Findings []struct {
			File     string `json:"file"`
			Line     int    `json:"line"`
			Column   int    `json:"column"`
			Severity string `json:"severity"`
			Rule     string `json:"rule"`
			Message  string `json:"message"`
		} `json:"findings"`
		Summary struct {
			Files, Errors, Warnings int
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json output does not parse: %v\n%s", err, out)
	}
	if doc.Summary.Files != 2 || doc.Summary.Errors < 1 {
		t.Errorf("summary = %+v", doc.Summary)
	}
	found := false
	for _, f := range doc.Findings {
		if f.Rule == "GN104" && f.Line == 7 && f.Column == 3 && f.Severity == "error" && strings.HasSuffix(f.File, "b.sd.yaml") {
			found = true
		}
	}
	if !found {
		t.Errorf("GN104 at b.sd.yaml:7:3 missing from %+v", doc.Findings)
	}
}

// TestLintOutputAndFormatAlias: -o, --output and the older --format print
// the same bytes, and json is one compact line.
func TestLintOutputAndFormatAlias(t *testing.T) {
	dir := t.TempDir()
	bad := write(t, dir, "billing.sd.yaml", strings.Replace(clean, "  memory: 512", "  memroy: 512", 1))
	_, want, _ := runLint(t, bad, "--output", "json")
	if strings.Count(want, "\n") != 1 || !strings.HasSuffix(want, "}\n") {
		t.Errorf("--output json is not one line:\n%s", want)
	}
	for _, args := range [][]string{{"-o", "json"}, {"--format", "json"}, {"--format=json"}} {
		code, out, errOut := runLint(t, append([]string{bad}, args...)...)
		if code != 1 || out != want {
			t.Errorf("%v: exit %d, stdout %q (want %q), stderr %q", args, code, out, want, errOut)
		}
	}
}

func TestLintOtherFormats(t *testing.T) {
	dir := t.TempDir()
	bad := write(t, dir, "billing.sd.yaml", strings.Replace(clean, "  memory: 512", "  memroy: 512", 1))

	code, out, _ := runLint(t, bad, "--format", "github")
	if code != 1 || !strings.Contains(out, "::error file=") || !strings.Contains(out, "line=7") {
		t.Errorf("github: exit %d\n%s", code, out)
	}

	code, out, _ = runLint(t, bad, "--format", "sarif")
	var sarif map[string]any
	if err := json.Unmarshal([]byte(out), &sarif); err != nil || code != 1 {
		t.Fatalf("sarif: exit %d, parse error %v\n%s", code, err, out)
	}
	if sarif["version"] != "2.1.0" {
		t.Errorf("sarif version = %v", sarif["version"])
	}
}

func TestLintDefaultsToCurrentFolder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "svc/billing.sd.yaml", clean)
	t.Chdir(dir)
	code, out, errOut := runLint(t)
	if code != 0 {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestCommittedDescriptorsLintClean: every example and starter template
// lints with no error and no warning.
func TestCommittedDescriptorsLintClean(t *testing.T) {
	code, out, errOut := runLint(t, "../../../examples", "../../../templates", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var doc struct {
		Findings []map[string]any `json:"findings"`
		Summary  struct{ Files, Errors, Warnings int }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary.Files != 7 || len(doc.Findings) != 0 {
		t.Errorf("files %d, findings %v", doc.Summary.Files, doc.Findings)
	}
}
