package lint

import (
	"fmt"
	"io"
)

// Format is an output format of Write.
type Format string

// Output formats.
const (
	FormatText   Format = "text"
	FormatJSON   Format = "json"
	FormatSARIF  Format = "sarif"
	FormatGitHub Format = "github"
)

// Formats lists the formats Write supports, for flag help and validation.
func Formats() []Format { return []Format{FormatText, FormatJSON, FormatSARIF, FormatGitHub} }

// WriteOptions tune the output.
type WriteOptions struct {
	// Color adds ANSI colours to text output. The CLI sets it for a TTY
	// without NO_COLOR.
	Color bool
	// ToolVersion is gantry's version, reported in SARIF.
	ToolVersion string
}

// Write writes r to w in format f.
func Write(w io.Writer, f Format, r Result, o WriteOptions) error {
	var err error
	switch f {
	case FormatText, "":
		err = writeText(w, r, o)
	case FormatJSON:
		err = writeJSON(w, r)
	case FormatSARIF:
		err = writeSARIF(w, r, o)
	case FormatGitHub:
		err = writeGitHub(w, r)
	default:
		return fmt.Errorf("unknown lint format %q; use text, json, sarif or github", f)
	}
	if err != nil {
		return fmt.Errorf("writing lint %s output: %w", f, err)
	}
	return nil
}

// summary is "2 errors, 1 warning in 3 files", or "no problems in 3 files".
func summary(r Result) string {
	files := plural(r.Files, "file")
	e, w := r.Errors(), r.Warnings()
	switch {
	case e == 0 && w == 0:
		return "no problems in " + files
	case w == 0:
		return plural(e, "error") + " in " + files
	case e == 0:
		return plural(w, "warning") + " in " + files
	}
	return plural(e, "error") + ", " + plural(w, "warning") + " in " + files
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
