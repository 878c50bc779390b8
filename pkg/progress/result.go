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
