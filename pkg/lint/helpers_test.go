package lint

import (
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// lintFragment loads doc(fragment) and returns the loader's problems and the
// lint findings, as Run would report them.
func lintFragment(t *testing.T, fragment string) (probs []descriptor.Problem, findings []Finding) {
	t.Helper()
	d, probs := descriptor.Parse("test.sd.yaml", []byte(doc(fragment)))
	return probs, Check(d)
}

// only keeps the findings of one rule.
func only(fs []Finding, id string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}

// at is an expected finding position: line and column in the fragment.
type at struct{ line, col int }

// ruleCase is one table row of a rule test.
type ruleCase struct {
	name string
	yaml string
	want []at // nil: the rule reports nothing
	// msg, when set, must be contained in the first finding's message.
	msg string
	// problems allows loader problems (the rule must still work on what loaded).
	problems bool
}

// runRuleCases checks each case reports exactly the wanted positions for
// rule id, with the rule's severity.
func runRuleCases(t *testing.T, id string, cases []ruleCase) {
	t.Helper()
	var sev Severity
	for _, r := range Rules() {
		if r.ID == id {
			sev = r.Severity
		}
	}
	if sev == "" {
		t.Fatalf("no rule %s", id)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			probs, fs := lintFragment(t, c.yaml)
			if len(probs) > 0 && !c.problems {
				t.Fatalf("fixture does not load cleanly: %v\n%s", probs, doc(c.yaml))
			}
			got := only(fs, id)
			if len(got) != len(c.want) {
				t.Fatalf("got %d %s findings, want %d: %+v", len(got), id, len(c.want), got)
			}
			for i, w := range c.want {
				f := got[i]
				if f.Line != w.line || f.Column != w.col {
					t.Errorf("finding %d at %d:%d, want %d:%d (%s)", i, f.Line, f.Column, w.line, w.col, f.Message)
				}
				if f.Severity != sev {
					t.Errorf("finding %d severity %s, want %s", i, f.Severity, sev)
				}
				if f.File != "test.sd.yaml" {
					t.Errorf("finding %d file %q", i, f.File)
				}
			}
			if c.msg != "" && len(got) > 0 && !strings.Contains(got[0].Message, c.msg) {
				t.Errorf("message %q does not contain %q", got[0].Message, c.msg)
			}
		})
	}
}
