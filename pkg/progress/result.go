package progress

import (
	"fmt"
	"strings"

	"github.com/gantryhq/gantry/pkg/rollout"
)

// DescribeStacks is "app: update (12 changes); data: unchanged".
func DescribeStacks(ss []rollout.StackResult) string {
	var parts []string
	for _, s := range ss {
		p := s.Kind + ": " + s.Action
		switch {
		case s.Changes == 1:
			p += " (1 change)"
		case s.Changes > 1:
			p += fmt.Sprintf(" (%d changes)", s.Changes)
		}
		if s.Status != "" && strings.Contains(s.Status, "ROLLBACK") {
			p += ", " + s.Status
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// DescribeCanary is a region's canary in a line: every weight it took and
// how it ended, "canary 5% → 25% → 50% → 0% (promoted)"; "" without one.
func DescribeCanary(c *rollout.CanaryResult) string {
	if c == nil || (len(c.Changes) == 0 && c.Aborted == "") {
		return ""
	}
	var ws []string
	for _, ch := range c.Changes {
		ws = append(ws, fmt.Sprintf("%d%%", ch.Weight))
	}
	s := "canary " + strings.Join(ws, " → ")
	switch {
	case c.Promoted:
		s += " (promoted)"
	case c.Aborted != "" && c.AbortSeconds != nil:
		s += fmt.Sprintf(" (aborted at step %d of %d; traffic back on %s in %.1fs)", c.Step, c.Steps, c.StableVersion, *c.AbortSeconds)
	case c.Aborted != "":
		s += fmt.Sprintf(" (aborted at step %d of %d)", c.Step, c.Steps)
	default:
		s += fmt.Sprintf(" (at step %d of %d: %d%% on the new version, %d%% on %s)", c.Step, c.Steps, c.Weight, 100-c.Weight, c.StableVersion)
	}
	return s
}
