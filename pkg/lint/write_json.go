package lint

import (
	"io"

	"github.com/gantryhq/gantry/internal/jsonout"
	"github.com/gantryhq/gantry/pkg/safetext"
)

// jsonFinding and jsonReport are the shape of `gantry lint --format json`,
// fixed by the design.
type jsonFinding struct {
	File      string   `json:"file"`
	Line      int      `json:"line"`
	Column    int      `json:"column"`
	EndLine   int      `json:"endLine"`
	EndColumn int      `json:"endColumn"`
	Severity  Severity `json:"severity"`
	Rule      string   `json:"rule"`
	Message   string   `json:"message"`
}

type jsonSummary struct {
	Files    int `json:"files"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
}

type jsonReport struct {
	Findings []jsonFinding `json:"findings"`
	Summary  jsonSummary   `json:"summary"`
}

func writeJSON(w io.Writer, r Result) error {
	rep := jsonReport{
		Findings: make([]jsonFinding, 0, len(r.Findings)), // [] rather than null when clean
		Summary:  jsonSummary{Files: r.Files, Errors: r.Errors(), Warnings: r.Warnings()},
	}
	for _, f := range r.Findings {
		rep.Findings = append(rep.Findings, jsonFinding{
			File: safetext.JSON(f.File), Line: f.Line, Column: f.Column, EndLine: f.EndLine, EndColumn: f.EndColumn,
			Severity: f.Severity, Rule: f.Rule, Message: safetext.JSON(f.Message),
		})
	}
	// gantry's one JSON style: one compact line, like every --output json.
	return jsonout.Write(w, rep)
}
