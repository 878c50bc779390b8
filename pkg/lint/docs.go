package lint

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// defaultKeys complete an example fragment into a loadable descriptor.
var defaultKeys = []struct{ key, yaml string }{
	{"schemaVersion", "schemaVersion: 1\n"},
	{"service", "service: payments\n"},
	{"team", "team: payments-platform\n"},
	{"image", "image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments\n"},
	{"compute", "compute:\n  cpu: 256\n  memory: 512\n"},
	{"stages", "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1]\n"},
}

var topKeyRe = regexp.MustCompile(`(?m)^([A-Za-z]+):`)

// doc completes a descriptor fragment: the fragment comes first, so its
// line numbers are the document's, and the required keys it lacks follow.
func doc(fragment string) string {
	have := map[string]bool{}
	for _, m := range topKeyRe.FindAllStringSubmatch(fragment, -1) {
		have[m[1]] = true
	}
	var b strings.Builder
	b.WriteString(fragment)
	if fragment != "" && !strings.HasSuffix(fragment, "\n") {
		b.WriteByte('\n')
	}
	for _, d := range defaultKeys {
		if !have[d.key] {
			b.WriteString(d.yaml)
		}
	}
	return b.String()
}

// exampleFinding runs r's example as a whole descriptor and returns the
// finding it documents, if the rule gives it.
func exampleFinding(r RuleInfo) (Finding, bool) {
	const file = "payments.sd.yaml"
	d, probs := descriptor.Parse(file, []byte(doc(r.Example.YAML)))
	for _, f := range merge(file, probs, Check(d)) {
		if f.Rule == r.ID && f.Message == r.Example.Message {
			return f, true
		}
	}
	return Finding{}, false
}

// ruleGroups titles the id ranges in docs/rules.md.
var ruleGroups = []struct{ prefix, title string }{
	{"GN1", "Loading (GN1xx)"},
	{"GN2", "Compute, scaling and routing (GN2xx)"},
	{"GN3", "Stages, regions and names (GN3xx)"},
	{"GN4", "Environment, secrets and placeholders (GN4xx)"},
	{"GN5", "Resources and overrides (GN5xx)"},
	{"GN6", "Sidecars, jobs and patches (GN6xx)"},
}

const rulesIntro = `# gantry lint rules

<!-- Generated from pkg/lint by ` + "`go test ./pkg/lint -update`" + `; do not edit by hand. -->

` + "`gantry lint [PATH...]`" + ` checks descriptors offline, with no AWS credentials and no network.
Every finding has a stable rule id, a severity, and a ` + "`file:line:column`" + `. Errors make
` + "`gantry lint`" + ` exit 1; warnings alone exit 0. GN1xx are problems found while loading the
file (YAML, types, unknown keys, names); a file with loader problems is still checked by the
other rules as far as it loaded. Rules that look at the service's settings check the top
level and every stage's settings after its overrides; a problem that only a stage's
overrides cause names that stage.

## Output formats

` + "`gantry lint --output FORMAT`" + ` (or ` + "`-o FORMAT`" + `; ` + "`--format`" + ` is an alias kept for older scripts):

- ` + "`text`" + ` (default): one ` + "`file:line:col: severity RULE: message`" + ` line per finding, then
  the source line with a caret under the span and a blank line; colour only on a terminal and
  never with ` + "`NO_COLOR`" + `. The last line is a summary: ` + "`2 errors, 1 warning in 3 files`" + `, or
  ` + "`no problems in 3 files`" + ` when clean.
- ` + "`json`" + `: one line, ` + "`{\"findings\": [{file, line, column, endLine, endColumn, severity, rule, message}], \"summary\": {files, errors, warnings}}`" + `;
  ` + "`findings`" + ` is ` + "`[]`" + ` when clean. Columns count characters; ` + "`endColumn`" + ` is exclusive.
- ` + "`sarif`" + `: an indented SARIF 2.1.0 file for GitHub code scanning (` + "`github/codeql-action/upload-sarif`" + `),
  with every rule below in the tool's rule list and paths relative to the working directory.
- ` + "`github`" + `: GitHub Actions workflow commands
  (` + "`::error file=…,line=…,col=…,endLine=…,endColumn=…,title=GN201::message`" + `), which show as
  annotations on the pull request, then the summary line.

`

// RulesMarkdown renders docs/rules.md from Rules().
func RulesMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString(rulesIntro)
	rules := Rules()
	b.WriteString("## Rules\n\nEach rule below shows a fragment of a descriptor (the rest of the file being a minimal valid\n" +
		"service) and the line `gantry lint` prints for it; the tests check that it prints exactly that.\n\n")
	b.WriteString("| id | name | severity | checks that |\n|---|---|---|---|\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Name, r.Severity, mdCell(r.Title))
	}
	for _, g := range ruleGroups {
		fmt.Fprintf(&b, "\n## %s\n", g.title)
		for _, r := range rules {
			if !strings.HasPrefix(r.ID, g.prefix) {
				continue
			}
			fmt.Fprintf(&b, "\n### %s\n\n**%s** · %s · %s\n\n%s\n\n", r.ID, r.Name, r.Severity, r.Title, r.Doc)
			fmt.Fprintf(&b, "```yaml\n%s```\n\n", r.Example.YAML)
			if f, ok := exampleFinding(r); ok {
				fmt.Fprintf(&b, "```text\n%s:%d:%d: %s %s: %s\n```\n", f.File, f.Line, f.Column, f.Severity, f.Rule, f.Message)
			} else {
				fmt.Fprintf(&b, "```text\n%s %s: %s\n```\n", r.Severity, r.ID, r.Example.Message)
			}
		}
	}
	return b.Bytes()
}

// mdCell keeps a table cell on one line and its pipes literal.
func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}
