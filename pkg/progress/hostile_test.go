package progress

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/rollout"
)

// TestOutputsEscapeControls: a note or an error that quotes hostile text
// reaches neither the plain log nor Markdown with its controls (issue 14,
// item 8).
func TestOutputsEscapeControls(t *testing.T) {
	const evil = "x\x1b]0;pwned\x07\u202e|<img src=y>"
	var b bytes.Buffer
	NewPlain(&b, nil).RolloutStarted(rollout.Start{Service: "s", Notes: []string{evil}})
	md := Markdown(&rollout.Result{Service: "s", Notes: []string{evil}, Regions: []rollout.RegionResult{{Error: evil}}})
	for name, out := range map[string]string{"plain": b.String(), "markdown": md} {
		if strings.ContainsAny(out, "\x1b\x07\u202e") || name == "markdown" && strings.Contains(out, "<img") {
			t.Errorf("%s output keeps a control or markup: %q", name, out)
		}
	}
}
