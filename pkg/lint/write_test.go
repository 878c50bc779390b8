package lint

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/iostreams"
)

func sampleResult() Result {
	src := "schemaVersion: 1\ncompute:\n  memroy: 1024\n"
	return Result{
		Files: 3,
		Findings: []Finding{
			{File: "svc/a.sd.yaml", Span: descriptor.Span{Line: 3, Column: 3, EndLine: 3, EndColumn: 9}, Severity: Error, Rule: "GN104",
				Message: `unknown key "memroy" in ` + "`compute`" + `; did you mean "memory"?`},
			{File: "svc/a.sd.yaml", Span: descriptor.Span{Line: 1, Column: 16, EndLine: 1, EndColumn: 17}, Severity: Warning, Rule: "GN307", Message: "second"},
		},
		Sources: map[string][]byte{"svc/a.sd.yaml": []byte(src)},
	}
}

func write(t *testing.T, f Format, r Result, o WriteOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, f, r, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteJSONShape(t *testing.T) {
	got := write(t, FormatJSON, sampleResult(), WriteOptions{})
	want := `{"findings":[` +
		`{"file":"svc/a.sd.yaml","line":3,"column":3,"endLine":3,"endColumn":9,"severity":"error","rule":"GN104","message":"unknown key \"memroy\" in ` + "`compute`" + `; did you mean \"memory\"?"},` +
		`{"file":"svc/a.sd.yaml","line":1,"column":16,"endLine":1,"endColumn":17,"severity":"warning","rule":"GN307","message":"second"}],` +
		`"summary":{"files":3,"errors":1,"warnings":1}}` + "\n"
	// gantry's one JSON style: exactly one compact line.
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestWriteJSONClean(t *testing.T) {
	got := write(t, FormatJSON, Result{Files: 2}, WriteOptions{})
	if want := `{"findings":[],"summary":{"files":2,"errors":0,"warnings":0}}` + "\n"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestWriteSARIF(t *testing.T) {
	r := sampleResult()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(cwd, "deep", "b c.sd.yaml")
	r.Findings = append(r.Findings, Finding{File: abs, Span: descriptor.Span{Line: 2, Column: 1, EndLine: 2, EndColumn: 1}, Severity: Error, Rule: "GN201", Message: "m"})
	out := write(t, FormatSARIF, r, WriteOptions{ToolVersion: "1.2.3"})

	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name, InformationURI, Version string
					Rules                         []struct {
						ID                   string `json:"id"`
						ShortDescription     struct{ Text string }
						HelpURI              string `json:"helpUri"`
						DefaultConfiguration struct{ Level string }
					}
				}
			}
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn, EndLine, EndColumn int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-2.1.0") || len(log.Runs) != 1 {
		t.Fatalf("bad header: %q %q %d runs", log.Version, log.Schema, len(log.Runs))
	}
	d := log.Runs[0].Tool.Driver
	if d.Name != "gantry" || d.InformationURI == "" || d.Version != "1.2.3" {
		t.Fatalf("bad driver: %+v", d)
	}
	if len(d.Rules) != len(Rules()) {
		t.Fatalf("driver lists %d rules, want %d", len(d.Rules), len(Rules()))
	}
	for _, ru := range d.Rules {
		if ru.ID == "" || ru.ShortDescription.Text == "" || !strings.HasPrefix(ru.HelpURI, "https://") ||
			(ru.DefaultConfiguration.Level != "error" && ru.DefaultConfiguration.Level != "warning") {
			t.Errorf("incomplete rule %+v", ru)
		}
	}
	res := log.Runs[0].Results
	if len(res) != 3 {
		t.Fatalf("got %d results", len(res))
	}
	for i, x := range res {
		if d.Rules[x.RuleIndex].ID != x.RuleID {
			t.Errorf("result %d: ruleIndex %d is %s, not %s", i, x.RuleIndex, d.Rules[x.RuleIndex].ID, x.RuleID)
		}
		if x.Level != string(r.Findings[i].Severity) || x.Message.Text != r.Findings[i].Message {
			t.Errorf("result %d: level %q message %q", i, x.Level, x.Message.Text)
		}
		reg := x.Locations[0].PhysicalLocation.Region
		if reg.StartLine < 1 || reg.StartColumn < 1 || reg.EndLine < reg.StartLine || reg.EndLine == reg.StartLine && reg.EndColumn <= reg.StartColumn {
			t.Errorf("result %d: bad region %+v", i, reg)
		}
	}
	if got := res[0].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "svc/a.sd.yaml" {
		t.Errorf("uri = %q", got)
	}
	if got := res[0].Locations[0].PhysicalLocation.Region; got.StartLine != 3 || got.StartColumn != 3 || got.EndLine != 3 || got.EndColumn != 9 {
		t.Errorf("region = %+v", got)
	}
	// An absolute path under the working directory is made relative and
	// escaped as a URI.
	if got := res[2].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "deep/b%20c.sd.yaml" {
		t.Errorf("uri of absolute path = %q", got)
	}
}

func TestWriteGitHub(t *testing.T) {
	r := Result{Files: 1, Findings: []Finding{
		{File: "dir/a,b:c.sd.yaml", Span: descriptor.Span{Line: 4, Column: 2, EndLine: 4, EndColumn: 7}, Severity: Error, Rule: "GN201", Message: "100% wrong\r\nsecond line: a, b"},
		{File: "x.sd.yaml", Span: descriptor.Span{Line: 1, Column: 1, EndLine: 1, EndColumn: 2}, Severity: Warning, Rule: "GN306", Message: "warn"},
	}}
	got := write(t, FormatGitHub, r, WriteOptions{})
	want := "::error file=dir/a%2Cb%3Ac.sd.yaml,line=4,col=2,endLine=4,endColumn=7,title=GN201::100%25 wrong%0D%0Asecond line: a, b\n" +
		"::warning file=x.sd.yaml,line=1,col=1,endLine=1,endColumn=2,title=GN306::warn\n" +
		"gantry lint: 1 error, 1 warning in 1 file\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriteText(t *testing.T) {
	got := write(t, FormatText, sampleResult(), WriteOptions{})
	want := "svc/a.sd.yaml:3:3: error GN104: unknown key \"memroy\" in `compute`; did you mean \"memory\"?\n" +
		" 3 |   memroy: 1024\n" +
		"   |   ^~~~~~\n\n" +
		"svc/a.sd.yaml:1:16: warning GN307: second\n" +
		" 1 | schemaVersion: 1\n" +
		"   |                ^\n\n" +
		"1 error, 1 warning in 3 files\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "\x1b") {
		t.Fatal("ANSI escape without Color")
	}
	colored := write(t, FormatText, sampleResult(), WriteOptions{Color: true})
	if !strings.Contains(colored, iostreams.NewColorScheme(true).Paint(iostreams.Danger, "error")) ||
		!strings.Contains(colored, iostreams.NewColorScheme(true).Paint(iostreams.Warning, "warning")) {
		t.Fatalf("no colour with Color:\n%q", colored)
	}
}

func TestWriteTextSummary(t *testing.T) {
	cases := []struct {
		r    Result
		want string
	}{
		{Result{Files: 1}, "no problems in 1 file\n"},
		{Result{Files: 0}, "no problems in 0 files\n"},
		{Result{Files: 2, Findings: []Finding{{Severity: Warning}, {Severity: Warning}}}, "2 warnings in 2 files\n"},
		{Result{Files: 2, Findings: []Finding{{Severity: Error}, {Severity: Error}}}, "2 errors in 2 files\n"},
	}
	for _, c := range cases {
		got := write(t, FormatText, c.r, WriteOptions{})
		if !strings.HasSuffix(got, c.want) {
			t.Errorf("got %q, want suffix %q", got, c.want)
		}
	}
}

func TestCaret(t *testing.T) {
	f := func(l, c, el, ec int) Finding {
		return Finding{Span: descriptor.Span{Line: l, Column: c, EndLine: el, EndColumn: ec}}
	}
	cases := []struct {
		name, line string
		f          Finding
		want       string
	}{
		{"span", "  memroy: 1024", f(1, 3, 1, 9), "  ^~~~~~"},
		{"point", "abc", f(1, 2, 1, 2), " ^"},
		{"multi-line span runs to end of line", "key: |", f(1, 6, 3, 1), "     ^"},
		{"span past end is cut", "ab", f(1, 1, 1, 40), "^~"},
		{"tabs are kept", "\tx: y", f(1, 2, 1, 3), "\t^"},
		{"multibyte", "é: ü", f(1, 4, 1, 5), "   ^"},
		{"column past end", "ab", f(1, 5, 1, 5), "    ^"},
	}
	for _, c := range cases {
		if got := caret(c.line, c.f); got != c.want {
			t.Errorf("%s: caret(%q) = %q, want %q", c.name, c.line, got, c.want)
		}
	}
}

// Text output cannot carry a file's control characters to the terminal.
func TestWriteTextSanitizes(t *testing.T) {
	r := Result{Files: 1, Findings: []Finding{{File: "a.sd.yaml", Span: descriptor.Span{Line: 1, Column: 1, EndLine: 1, EndColumn: 2}, Severity: Error, Rule: "GN101", Message: "bad \x1b[2J"}},
		Sources: map[string][]byte{"a.sd.yaml": []byte("x: \x1b]0;pwned\x07\n")}}
	got := write(t, FormatText, r, WriteOptions{})
	if strings.ContainsAny(got, "\x1b\x07") {
		t.Fatalf("control characters in output: %q", got)
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	if err := Write(&bytes.Buffer{}, "xml", Result{}, WriteOptions{}); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Fatalf("want an error naming the format, got %v", err)
	}
}
