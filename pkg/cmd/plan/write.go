package plan

import (
	"fmt"
	"strings"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/iostreams"
	"github.com/gantryhq/gantry/pkg/rollout"
	"github.com/gantryhq/gantry/pkg/safetext"
)

// symbol is the change's mark: + add, ~ modify in place, -/+ replace,
// - remove.
func symbol(c deploy.Change) string {
	switch c.Action {
	case "Add":
		return "+"
	case "Remove":
		return "-"
	case "Modify":
		if c.Replacement == "True" || c.Replacement == "Conditional" {
			return "-/+"
		}
		return "~"
	}
	return "?"
}

func style(c deploy.Change) iostreams.Style {
	switch {
	case c.DataLoss:
		return iostreams.Danger
	case c.Action == "Add":
		return iostreams.Success
	case c.Action == "Remove", symbol(c) == "-/+":
		return iostreams.Failure
	case c.Action == "Modify":
		return iostreams.Warning
	}
	return ""
}

func actionText(a string) string {
	if a == rollout.ActionUnchanged {
		return "no changes"
	}
	return a
}

// lossText describes a data-loss change for the refusal line.
func lossText(c deploy.Change) string {
	if c.Action == "Remove" {
		return fmt.Sprintf("deletes %s (%s)", c.LogicalID, c.Type)
	}
	verb := "replaces"
	if c.Replacement == "Conditional" {
		verb = "may replace"
	}
	s := fmt.Sprintf("%s %s (%s)", verb, c.LogicalID, c.Type)
	if len(c.Causes) > 0 {
		s += " because " + strings.Join(c.Causes, ", ") + " changed"
	}
	return s
}

// Text renders the plan for a terminal or a log; color adds ANSI colours.
func Text(r *deploy.Preview, color bool) string {
	st := iostreams.NewColorScheme(color)
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for %s stage %s", r.Service, r.Stage)
	if r.Version != "" {
		fmt.Fprintf(&b, ", version %s", r.Version)
	}
	b.WriteString("\n")
	for _, reg := range r.Regions {
		b.WriteString("\n")
		head := reg.Region + " (account " + reg.Account
		if reg.Version != r.Version {
			head += ", version " + reg.Version
		}
		head += ")"
		b.WriteString(st.Paint(iostreams.Strong, head) + "\n")
		for _, s := range reg.Stacks {
			line := fmt.Sprintf("  %s: %s", s.Name, actionText(s.Action))
			if n := len(s.Changes); n > 0 {
				line += fmt.Sprintf(", %s", cmdutil.Plural(n, "change"))
			}
			b.WriteString(line + "\n")
			var rows [][]string
			var styles []iostreams.Style
			for _, c := range s.Changes {
				repl := ""
				if c.Replacement != "" {
					repl = "replacement: " + c.Replacement
				}
				causes := strings.Join(c.Causes, ", ")
				mark := ""
				if c.DataLoss {
					mark = "DATA LOSS"
				}
				rows = append(rows, []string{symbol(c), c.Action, c.LogicalID, c.Type, repl, causes, mark})
				styles = append(styles, style(c))
			}
			st.Table(&b, "    ", rows, styles)
			for _, c := range s.Changes {
				if c.DataLoss {
					b.WriteString(st.Paint(iostreams.Danger, fmt.Sprintf("    ! %s: gantry deploy refuses it without --allow-data-loss", lossText(c))) + "\n")
				}
			}
			for _, n := range s.Notes {
				b.WriteString(st.Paint(iostreams.Muted, "    note: "+n) + "\n")
			}
		}
		if reg.Error != "" {
			b.WriteString(st.Paint(iostreams.Failure, "  error: "+reg.Error) + "\n")
		}
	}
	b.WriteString("\n" + summaryLine(r) + "\n")
	return b.String()
}

func summaryLine(r *deploy.Preview) string {
	changed := 0
	for _, reg := range r.Regions {
		if reg.HasChanges() {
			changed++
		}
	}
	var s string
	if changed == 0 {
		s = "no changes in " + cmdutil.Plural(len(r.Regions), "region")
	} else {
		s = fmt.Sprintf("%s in %d of %s", cmdutil.Plural(r.Summary.Changes, "change"), changed, cmdutil.Plural(len(r.Regions), "region"))
	}
	if r.Summary.DataLoss > 0 {
		s += fmt.Sprintf("; %d replace or delete data (deploy refuses them without --allow-data-loss)", r.Summary.DataLoss)
	}
	if r.Summary.Errors > 0 {
		s += fmt.Sprintf("; %s could not be planned", cmdutil.Plural(r.Summary.Errors, "region"))
	}
	return "Plan: " + s + "."
}

// Markdown renders the plan as a pull-request comment: a heading, a
// summary, and a table per region.
func Markdown(r *deploy.Preview) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## gantry plan: %s, stage %s\n\n", mdText(r.Service), mdText(r.Stage))
	if r.Version != "" {
		fmt.Fprintf(&b, "Version `%s`. ", mdCode(r.Version))
	}
	b.WriteString(mdText(strings.TrimPrefix(summaryLine(r), "Plan: ")) + "\n")
	for _, reg := range r.Regions {
		fmt.Fprintf(&b, "\n### %s (account %s", mdText(reg.Region), mdText(reg.Account))
		if reg.Version != r.Version {
			fmt.Fprintf(&b, ", version `%s`", mdCode(reg.Version))
		}
		b.WriteString(")\n\n")
		if reg.Error != "" {
			fmt.Fprintf(&b, "> [!WARNING]\n> Could not plan this region: %s\n\n", mdText(reg.Error))
		}
		var rows []string
		var losses []string
		for _, s := range reg.Stacks {
			if len(s.Changes) == 0 {
				rows = append(rows, fmt.Sprintf("| `%s` (%s) | | | | | | |", mdCode(s.Name), actionText(s.Action)))
			}
			for i, c := range s.Changes {
				stack := ""
				if i == 0 {
					stack = fmt.Sprintf("`%s` (%s)", mdCode(s.Name), actionText(s.Action))
				}
				loss := ""
				if c.DataLoss {
					loss = "⚠️ **data loss**"
					losses = append(losses, fmt.Sprintf("`%s`: %s", mdCode(s.Name), mdText(lossText(c))))
				}
				var causes []string
				for _, cause := range c.Causes {
					causes = append(causes, "`"+mdCode(cause)+"`")
				}
				repl := c.Replacement
				if repl == "True" || repl == "Conditional" {
					repl = "**" + repl + "**"
				}
				rows = append(rows, fmt.Sprintf("| %s | %s | `%s` | `%s` | %s | %s | %s |",
					stack, c.Action, mdCode(c.LogicalID), mdCode(c.Type), repl, strings.Join(causes, ", "), loss))
			}
		}
		if len(rows) > 0 {
			b.WriteString("| Stack | Change | Logical ID | Type | Replacement | Caused by | |\n")
			b.WriteString("|---|---|---|---|---|---|---|\n")
			b.WriteString(strings.Join(rows, "\n") + "\n")
		}
		if len(losses) > 0 {
			b.WriteString("\n> [!CAUTION]\n> `gantry deploy` refuses these without `--allow-data-loss`:\n")
			for _, l := range losses {
				b.WriteString("> - " + l + "\n")
			}
		}
		for _, s := range reg.Stacks {
			for _, n := range s.Notes {
				fmt.Fprintf(&b, "\n_%s: %s_\n", mdCode(s.Name), mdText(n))
			}
		}
	}
	return b.String()
}

// mdText escapes what would break a table cell or start markup.
func mdText(s string) string { return safetext.Markdown(s) }

// mdCode is for text inside backticks: no backtick, pipe or newline.
func mdCode(s string) string { return safetext.MarkdownCode(s) }
