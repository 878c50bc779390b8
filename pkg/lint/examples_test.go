package lint

import (
	"strings"
	"testing"
)

// Every rule's documented example must produce its documented message, at a
// line of the example, so docs/rules.md never shows a message gantry does
// not give.
func TestRuleExamples(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		t.Run(r.ID, func(t *testing.T) {
			if seen[r.ID] {
				t.Fatalf("duplicate rule id %s", r.ID)
			}
			seen[r.ID] = true
			if r.Name == "" || r.Title == "" || r.Doc == "" || r.Example.YAML == "" || r.Example.Message == "" {
				t.Fatalf("rule %s lacks name, title, doc or example", r.ID)
			}
			if r.Severity != Error && r.Severity != Warning {
				t.Fatalf("rule %s has severity %q", r.ID, r.Severity)
			}
			probs, fs := lintFragment(t, r.Example.YAML)
			fs = merge("test.sd.yaml", probs, fs)
			lines := strings.Count(r.Example.YAML, "\n")
			var msgs []string
			for _, f := range fs {
				if f.Rule != r.ID {
					continue
				}
				if f.Message == r.Example.Message && f.Line >= 1 && f.Line <= lines {
					return
				}
				msgs = append(msgs, f.Message)
			}
			t.Errorf("example of %s does not give %q\ngot: %q\nall: %+v", r.ID, r.Example.Message, msgs, fs)
		})
	}
}
