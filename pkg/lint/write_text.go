package lint

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gantryhq/gantry/pkg/iostreams"
	"github.com/gantryhq/gantry/pkg/safetext"
)

// writeText prints each finding as
//
//	file:line:col: severity RULE: message
//	  12 |   memroy: 1024
//	     |   ^~~~~~
//
// then a blank line, and ends with a summary line.
func writeText(w io.Writer, r Result, o WriteOptions) error {
	bw := bufio.NewWriter(w)
	paint := iostreams.NewColorScheme(o.Color).Paint
	// A line that holds a secret is shown under no finding, whichever rule.
	type place struct {
		file string
		line int
	}
	secret := map[place]bool{}
	for _, f := range r.Findings {
		if f.Secret {
			secret[place{f.File, f.Line}] = true
		}
	}
	for _, f := range r.Findings {
		sevStyle := iostreams.Danger
		if f.Severity == Warning {
			sevStyle = iostreams.Warning
		}
		sev := paint(sevStyle, string(f.Severity))
		fmt.Fprintf(bw, "%s %s %s: %s\n",
			paint(iostreams.Strong, fmt.Sprintf("%s:%d:%d:", safetext.Terminal(f.File), f.Line, f.Column)),
			sev, paint(iostreams.Muted, f.Rule), safetext.Terminal(f.Message))
		line, ok := sourceLine(r.Sources[f.File], f.Line)
		if !ok || secret[place{f.File, f.Line}] {
			continue
		}
		num := strconv.Itoa(f.Line)
		gutter := strings.Repeat(" ", len(num))
		fmt.Fprintf(bw, " %s %s %s\n", paint(iostreams.Frame, num), paint(iostreams.Frame, "|"), safetext.Terminal(line))
		fmt.Fprintf(bw, " %s %s %s\n\n", gutter, paint(iostreams.Frame, "|"), paint(sevStyle, caret(line, f)))
	}
	fmt.Fprintln(bw, paint(iostreams.Strong, summary(r)))
	return bw.Flush()
}

// sourceLine returns line n (1-based) of src without its line ending.
func sourceLine(src []byte, n int) (string, bool) {
	if n < 1 || src == nil {
		return "", false
	}
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return "", false
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return strings.TrimSuffix(string(src), "\r"), true
}

// caret underlines the finding's span on line: "^" at the column, "~" for
// the rest of the span on this line. Columns count characters, as the
// loader does; tabs are kept so the caret lines up with what the terminal
// shows.
func caret(line string, f Finding) string {
	n := utf8.RuneCountInString(line)
	col := max(f.Column, 1)
	width := 1
	switch {
	case f.EndLine == f.Line && f.EndColumn > col:
		width = f.EndColumn - col
	case f.EndLine > f.Line:
		width = n - col + 1 // to the end of this line
	}
	width = max(1, min(width, n-col+1))
	var b strings.Builder
	i := 1
	for _, r := range line {
		if i >= col {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		i++
	}
	for ; i < col; i++ { // a column past the end of the line
		b.WriteByte(' ')
	}
	b.WriteByte('^')
	b.WriteString(strings.Repeat("~", width-1))
	return b.String()
}
