package iostreams

import (
	"strings"
	"unicode/utf8"
)

// Style is one of gantry's colours, named for what it means rather than how
// it looks, so that every command shows the same thing the same way: a
// failure is red in lint, plan, status, bootstrap and the rollout view alike.
type Style string

// gantry's colour scheme, the one place an ANSI code is written.
const (
	Plain   Style = ""
	Strong  Style = "\x1b[1m"    // headings, file positions
	Muted   Style = "\x1b[2m"    // notes, rule ids, what has not started
	Success Style = "\x1b[32m"   // done, created, complete
	Warning Style = "\x1b[33m"   // held, in progress, changed in place, warnings
	Failure Style = "\x1b[31m"   // failed, rolled back, removed, replaced
	Danger  Style = "\x1b[1;31m" // data loss, lint errors: what must not be missed
	Active  Style = "\x1b[36m"   // working now
	Frame   Style = "\x1b[34m"   // the gutter of a quoted source line
)

const reset = "\x1b[0m"

// ColorScheme paints text in gantry's styles, or leaves it plain when
// colour is off (not a terminal, NO_COLOR, TERM=dumb).
type ColorScheme struct{ enabled bool }

// NewColorScheme returns a scheme that paints only when enabled.
func NewColorScheme(enabled bool) ColorScheme { return ColorScheme{enabled: enabled} }

// Enabled reports whether the scheme paints.
func (c ColorScheme) Enabled() bool { return c.enabled }

// Paint wraps text in style; plain text when colour is off, the style is
// Plain or the text is empty.
func (c ColorScheme) Paint(style Style, text string) string {
	if !c.enabled || style == Plain || text == "" {
		return text
	}
	return string(style) + text + reset
}

// ColorScheme is the scheme for what goes to Out.
func (s *IOStreams) ColorScheme() ColorScheme { return NewColorScheme(s.ColorEnabled()) }

// ColorSchemeStderr is the scheme for what goes to ErrOut.
func (s *IOStreams) ColorSchemeStderr() ColorScheme { return NewColorScheme(s.ColorEnabledStderr()) }

// Table writes rows to b as aligned columns, each line after indent and
// painted in its row's style (styles[i] for rows[i]; missing ones are
// Plain). Cells are padded before painting, so escapes never upset the
// alignment; empty trailing cells and trailing blanks are dropped.
func (c ColorScheme) Table(b *strings.Builder, indent string, rows [][]string, styles []Style) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for j, row := range rows {
		last := len(row) - 1
		for last > 0 && row[last] == "" {
			last--
		}
		var line strings.Builder
		for i := 0; i <= last; i++ {
			line.WriteString(row[i])
			if i < last {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(row[i])+2))
			}
		}
		style := Plain
		if j < len(styles) {
			style = styles[j]
		}
		b.WriteString(indent + c.Paint(style, strings.TrimRight(line.String(), " ")) + "\n")
	}
}
