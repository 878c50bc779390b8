package lint

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"

	"github.com/gantryhq/gantry/pkg/safetext"
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
			cmd, safetext.GitHubProperty(filepath.ToSlash(f.File)), f.Line, f.Column, f.EndLine, f.EndColumn,
			safetext.GitHubProperty(f.Rule), safetext.GitHubData(f.Message))
	}
	fmt.Fprintln(bw, "gantry lint: "+summary(r))
	return bw.Flush()
}
