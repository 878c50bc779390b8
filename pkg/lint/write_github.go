package lint

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// writeGitHub prints one workflow command per finding, which GitHub Actions
// turns into annotations on the pull request, then the summary line.
func writeGitHub(w io.Writer, r Result) error {
	bw := bufio.NewWriter(w)
	for _, f := range r.Findings {
		cmd := "error"
		if f.Severity == Warning {
			cmd = "warning"
		}
		fmt.Fprintf(bw, "::%s file=%s,line=%d,col=%d,endLine=%d,endColumn=%d,title=%s::%s\n",
			cmd, ghProperty(filepath.ToSlash(f.File)), f.Line, f.Column, f.EndLine, f.EndColumn,
			ghProperty(f.Rule), ghData(f.Message))
	}
	fmt.Fprintln(bw, "gantry lint: "+summary(r))
	return bw.Flush()
}

// ghData escapes a workflow command's message as the runner expects.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value, where ':' and ','
// are separators too.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
