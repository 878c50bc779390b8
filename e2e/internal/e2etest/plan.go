package e2etest

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/plan"
)

// LoadPlan plans every stage of a descriptor (a path relative to the
// repository, as gantry is run, or absolute), the way deploy does.
func LoadPlan(t *testing.T, file string) *plan.Plan {
	t.Helper()
	if !filepath.IsAbs(file) {
		file = filepath.Join(Repo, file)
	}
	d, probs, err := descriptor.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) > 0 {
		t.Fatalf("%s: %v", file, probs)
	}
	p, err := plan.Build(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Total is the sum of a count per operation.
func Total(ops map[string]int) int {
	n := 0
	for _, v := range ops {
		n += v
	}
	return n
}

// FormatOps is "op xN, ..." sorted by operation, "none" when empty.
func FormatOps(ops map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ops)) {
		parts = append(parts, fmt.Sprintf("%s x%d", k, ops[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
