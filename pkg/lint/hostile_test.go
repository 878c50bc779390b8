package lint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// writeAll lints src as file and returns every format's output.
func writeAll(t *testing.T, file string, src []byte) map[Format]string {
	t.Helper()
	d, probs := descriptor.Parse(file, src)
	r := Result{Findings: merge(file, probs, Check(d)), Files: 1, Sources: map[string][]byte{file: src}}
	if len(r.Findings) == 0 {
		t.Fatalf("no findings for\n%s", src)
	}
	out := map[Format]string{}
	for _, f := range Formats() {
		var b bytes.Buffer
		if err := Write(&b, f, r, WriteOptions{ToolVersion: "test"}); err != nil {
			t.Fatal(err)
		}
		out[f] = b.String()
	}
	return out
}

// rawControl finds a character that acts on a terminal or reorders text.
func rawControl(s string) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r != '\t' && r != '\n' && (r < 0x20 || r == 0x7f) ||
			r >= 0x80 && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			return i
		}
		i += size
	}
	return -1
}

// TestOutputsEscapeDescriptorText: terminal escapes (OSC title, colour,
// BEL, a C1 CSI), a right-to-left override and a newline that would start
// a workflow command, in keys, values and the file name, reach no format
// raw (issue 14, item 8).
func TestOutputsEscapeDescriptorText(t *testing.T) {
	src := "service: \"pay\\e]0;pwned\\a\\u202Eevil\\nx\"\nimage: \"img\\u009b2J\\e[31m\\n::error::forged\"\n" +
		"\"k\\e[2J\\u202e\": 1\nteam: \"a\\u2066b\"\n"
	file := "dir/evil\x1b[31m\u202e.sd.yaml"
	for f, out := range writeAll(t, file, []byte(src)) {
		if i := rawControl(out); i >= 0 {
			t.Errorf("%s output keeps a control at %d: %q", f, i, out[max(0, i-20):min(len(out), i+20)])
		}
		if f == FormatGitHub {
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if !strings.HasPrefix(line, "::error ") && !strings.HasPrefix(line, "::warning ") && !strings.HasPrefix(line, "gantry lint: ") {
					t.Errorf("github output has a line gantry did not start: %q", line)
				}
			}
		}
		if f == FormatJSON || f == FormatSARIF {
			var v any
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			if strings.Contains(out, `\u202e`) && !strings.Contains(out, `\\u202e`) {
				t.Errorf("%s output has U+202E only as a JSON escape, which decodes to the override", f)
			}
		}
	}
}

// TestSecretsAreNotEchoed: no format shows the value GN403 flags, nor a
// malformed secret reference (GN108) (issue 14, item 9).
func TestSecretsAreNotEchoed(t *testing.T) {
	const key, token = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzKEY12345", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
	src := doc("env:\n  AWS_SECRET_ACCESS_KEY: " + key + "\nsecrets:\n  GH: \"ssm: " + token + "\"\n  GH2: \"secretsmanager:" + token + " x\"\n")
	outs := writeAll(t, "s.sd.yaml", []byte(src))
	if !strings.Contains(outs[FormatJSON], "GN403") || !strings.Contains(outs[FormatJSON], "GN108") {
		t.Fatalf("fixture does not give GN403 and GN108: %s", outs[FormatJSON])
	}
	for f, out := range outs {
		for _, s := range []string{key, token, "ghp_"} {
			if strings.Contains(out, s) {
				t.Errorf("%s output repeats a secret %q:\n%s", f, s, out)
			}
		}
	}
}

// TestRunStopsWhenCancelledWhileLoading: cancelling ends Run while a
// large file loads, well before the load would finish.
func TestRunStopsWhenCancelledWhileLoading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, probs := descriptor.ParseContext(ctx, "x.sd.yaml", []byte(doc("")))
	if d == nil || len(probs) != 1 || !strings.Contains(probs[0].Message, "stopped") {
		t.Fatalf("a cancelled load gave %v", probs)
	}
}

// TestOutputIsBounded: a file with thousands of defects prints at most
// MaxFindingsPerFile findings and says how many more there were (issue 14,
// item 15).
func TestOutputIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("stages:\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "  - {name: s%d, account: x, regions: [nowhere-%d]}\n", i, i)
	}
	p := filepath.Join(t.TempDir(), "big.sd.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), []string{p})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Findings); n != MaxFindingsPerFile {
		t.Fatalf("%d findings, want %d", n, MaxFindingsPerFile)
	}
	last := res.Findings[len(res.Findings)-1]
	if !strings.Contains(last.Message, "more findings in this file are not shown") || last.Severity != Error {
		t.Errorf("last finding %+v", last)
	}
	var out bytes.Buffer
	if err := Write(&out, FormatText, res, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if out.Len() > 100<<10 {
		t.Errorf("text output of %d bytes for a %d-byte file", out.Len(), b.Len())
	}
}

// TestSecretLineHiddenUnderEveryFinding: another finding on the line of a
// pasted credential does not show the line either.
func TestSecretLineHiddenUnderEveryFinding(t *testing.T) {
	const key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzKEY12345"
	src := doc("env:\n  AWS-SECRET: " + key + "\n")
	out := writeAll(t, "s.sd.yaml", []byte(src))[FormatText]
	if !strings.Contains(out, "GN403") || !strings.Contains(out, "GN107") || strings.Contains(out, key) {
		t.Errorf("text output:\n%s", out)
	}
}
