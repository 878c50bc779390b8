package lint

import (
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gantryhq/gantry/pkg/safetext"
)

// Where SARIF consumers send users for the tool and its rules.
const (
	informationURI = "https://github.com/gantryhq/gantry"
	rulesDocURI    = "https://github.com/gantryhq/gantry/blob/main/docs/rules.md"
	sarifSchema    = "https://json.schemastore.org/sarif-2.1.0.json"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool     `json:"tool"`
	Results    []sarifResult `json:"results"`
	ColumnKind string        `json:"columnKind"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ShortDescription     sarifText    `json:"shortDescription"`
	FullDescription      sarifText    `json:"fullDescription"`
	HelpURI              string       `json:"helpUri"`
	Help                 sarifText    `json:"help"`
	DefaultConfiguration sarifDefault `json:"defaultConfiguration"`
}

type sarifDefault struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine"`
	EndColumn   int `json:"endColumn"`
}

// writeSARIF writes a SARIF 2.1.0 log that GitHub code scanning accepts:
// every rule in the driver, one result per finding with a relative URI.
func writeSARIF(w io.Writer, r Result, o WriteOptions) error {
	infos := Rules()
	index := make(map[string]int, len(infos))
	rules := make([]sarifRule, len(infos))
	for i, ri := range infos {
		index[ri.ID] = i
		rules[i] = sarifRule{
			ID:                   ri.ID,
			Name:                 ri.Name,
			ShortDescription:     sarifText{ri.Title},
			FullDescription:      sarifText{ri.Doc},
			HelpURI:              rulesDocURI + "#" + strings.ToLower(ri.ID),
			Help:                 sarifText{ri.Doc + "\n\nExample:\n" + ri.Example.YAML + "\n→ " + ri.Example.Message},
			DefaultConfiguration: sarifDefault{Level: string(ri.Severity)},
		}
	}
	cwd, _ := os.Getwd() // best effort: absolute paths are made relative to it
	results := make([]sarifResult, 0, len(r.Findings))
	for _, f := range r.Findings {
		i, ok := index[f.Rule]
		if !ok {
			i = -1 // an id from a newer loader: SARIF allows -1 for "not in rules"
		}
		endLine, endCol := f.EndLine, f.EndColumn
		if endLine < f.Line || endLine == f.Line && endCol <= f.Column {
			endLine, endCol = f.Line, f.Column+1
		}
		results = append(results, sarifResult{
			RuleID:    f.Rule,
			RuleIndex: i,
			Level:     string(f.Severity),
			Message:   sarifText{safetext.SARIF(f.Message)},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: artifactURI(f.File, cwd)},
				Region:           sarifRegion{StartLine: max(f.Line, 1), StartColumn: max(f.Column, 1), EndLine: max(endLine, 1), EndColumn: max(endCol, 1)},
			}}},
		})
	}
	log := sarifLog{
		Schema:  sarifSchema,
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name: "gantry", InformationURI: informationURI, Version: o.ToolVersion, Rules: rules,
			}},
			Results:    results,
			ColumnKind: "unicodeCodePoints",
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// artifactURI is file as a relative URI with forward slashes, as code
// scanning matches it against the repository; an absolute path is made
// relative to cwd when it lies below it.
func artifactURI(file, cwd string) string {
	if filepath.IsAbs(file) && cwd != "" {
		if rel, err := filepath.Rel(cwd, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = rel
		}
	}
	p := filepath.ToSlash(filepath.Clean(file))
	if filepath.IsAbs(file) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // C:/x → file:///C:/x
		}
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}
