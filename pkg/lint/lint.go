// Package lint checks gantry descriptors offline: it turns the loader's
// problems and the findings of its own rules into one sorted list, and
// writes that list as text, JSON, SARIF or GitHub workflow commands.
package lint

import (
	"cmp"
	"slices"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// Severity is how bad a finding is: errors fail `gantry lint`, warnings do not.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one defect at one place in one file.
type Finding struct {
	File string
	descriptor.Span
	Severity Severity
	// Rule is the stable rule id, such as GN104 or GN201.
	Rule string
	// Message says what is wrong and how to fix it.
	Message string
	// Secret marks a finding whose place holds a secret value: no writer
	// shows the source there.
	Secret bool
}

// Result is the outcome of linting a set of files.
type Result struct {
	// Findings are sorted by file, line, column and rule, without duplicates.
	Findings []Finding
	// Files is how many files were checked.
	Files int
	// Sources maps each file to its content, for snippets.
	Sources map[string][]byte
}

// Errors counts findings of error severity.
func (r Result) Errors() int { return r.count(Error) }

// Warnings counts findings of warning severity.
func (r Result) Warnings() int { return r.count(Warning) }

func (r Result) count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// compareFindings orders by file, position, rule, then the rest so that the
// order is total and output deterministic.
func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.Rule, b.Rule),
		cmp.Compare(a.EndLine, b.EndLine),
		cmp.Compare(a.EndColumn, b.EndColumn),
		cmp.Compare(a.Severity, b.Severity),
		cmp.Compare(a.Message, b.Message),
	)
}

// normalize sorts findings and drops exact duplicates: a defect of the top
// level shows in every stage's effective spec, and is reported once.
func normalize(fs []Finding) []Finding {
	slices.SortFunc(fs, compareFindings)
	return slices.Compact(fs)
}

// fromProblems turns loader problems into error findings.
func fromProblems(file string, probs []descriptor.Problem) []Finding {
	out := make([]Finding, 0, len(probs))
	for _, p := range probs {
		out = append(out, Finding{File: file, Span: p.Span, Severity: Error, Rule: p.Code, Message: p.Message, Secret: p.Secret})
	}
	return out
}
