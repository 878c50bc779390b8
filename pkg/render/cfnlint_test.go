package render

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// ignoredChecks are the cfn-lint rules the templates may break, each with
// the reason. Add to it only with a reason that holds for every template.
var ignoredChecks = []string{
	// W3691 "engine version is deprecated": cfn-lint 1.58.0 lists a bare
	// Postgres major version ("16", "17") as deprecated, yet RDS accepts a
	// major version alone and picks a current minor release of it (RDS user
	// guide, "Supported PostgreSQL versions"). The descriptor's postgres
	// version is a major version on purpose, so minors are not pinned.
	"W3691",
}

// cfnLint finds the pinned cfn-lint: $GANTRY_CFN_LINT, else the repo's
// .venv made by scripts/venv.
func cfnLint(t *testing.T) string {
	t.Helper()
	return venvTool(t, "GANTRY_CFN_LINT", ".venv", "cfn-lint", "scripts/venv")
}

// TestCfnLint runs cfn-lint once over every template TestGolden renders
// and fails on any error or warning.
func TestCfnLint(t *testing.T) {
	bin := cfnLint(t)
	dir := t.TempDir()
	files := writeTemplates(t, dir)
	regions := map[string]bool{}
	for _, p := range files {
		// .../<stage>/<region>/<stack>.template.json
		regions[filepath.Base(filepath.Dir(p))] = true
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	// One process for all templates: cfn-lint takes seconds to start. Each
	// template is checked against every region the templates deploy to.
	args := []string{"--format", "parseable",
		"--regions", strings.Join(slices.Sorted(maps.Keys(regions)), ","),
		"--ignore-checks", strings.Join(ignoredChecks, ","),
		"--"}
	cmd := exec.CommandContext(ctx, bin, append(args, files...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running cfn-lint: %v\n%s", err, stderr.String())
	}
	var findings []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		rel, _ := filepath.Rel(dir, line)
		if rule := parseableRule(line); strings.HasPrefix(rule, "I") {
			t.Logf("cfn-lint (informational): %s", rel)
			continue
		}
		findings = append(findings, rel)
	}
	if len(findings) > 0 {
		t.Errorf("cfn-lint found %d problems in %d templates:\n%s", len(findings), len(files), strings.Join(findings, "\n"))
	}
	if err != nil && len(findings) == 0 && stderr.Len() > 0 {
		t.Errorf("cfn-lint failed (%v):\n%s", err, stderr.String())
	}
	t.Logf("cfn-lint checked %d templates", len(files))
}

// writeTemplates renders every template TestGolden renders into
// dir/<case>/<stage>/<region>/ and returns their paths, sorted.
func writeTemplates(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, c := range goldenCases(t) {
		for rel, data := range renderTree(t, c.file) {
			if !strings.Contains(rel, ".template.") {
				continue
			}
			p := filepath.Join(dir, filepath.FromSlash(c.name), filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, p)
		}
	}
	slices.Sort(files)
	return files
}

// parseableRule gets the rule id from a line of cfn-lint's parseable
// format: file:line:col:endline:endcol:RULE:message.
func parseableRule(line string) string {
	// The file name may hold colons on some systems; count from its end.
	parts := strings.Split(line, ":")
	for i := 1; i+1 < len(parts); i++ {
		p := parts[i]
		if len(p) >= 2 && strings.ContainsAny(p[:1], "EWI") && isDigits(p[1:]) {
			return p
		}
	}
	return ""
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
