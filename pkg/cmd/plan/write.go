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
			changes, tagged := foldTags(s.Changes)
			var rows [][]string
			var styles []iostreams.Style
			for _, c := range changes {
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
			if len(tagged) > 0 {
				rows = append(rows, []string{"~", "Modify", tagsOnly(tagged)})
				styles = append(styles, iostreams.Muted)
			}
			st.Table(&b, "    ", rows, styles)
			for _, c := range s.Changes {
				if c.DataLoss {
					b.WriteString(st.Paint(iostreams.Danger, fmt.Sprintf("    ! %s: gantry deploy refuses it without --allow-data-loss", lossText(c))) + "\n")
				}
			}
			for _, e := range s.ExportsInUse {
				b.WriteString(st.Paint(iostreams.Danger, "    ! "+exportText(e)) + "\n")
			}
			for _, n := range s.Notes {
				b.WriteString(st.Paint(iostreams.Muted, "    note: "+n) + "\n")
			}
		}
		if c := reg.Canary; c != nil {
			line := "  canary: no, " + c.Why
			if c.Runs {
				line = "  canary: " + c.Why
			}
			b.WriteString(line + "\n")
		}
		writeAlarms(&b, st, reg.Alarms)
		if reg.Error != "" {
			b.WriteString(st.Paint(iostreams.Failure, "  error: "+reg.Error) + "\n")
		}
	}
	b.WriteString("\n" + summaryLine(r) + "\n")
	return b.String()
}

// exportText says why removing an export in use fails the deploy.
func exportText(e deploy.ExportInUse) string {
	return fmt.Sprintf("removes export %s, which %s imports: CloudFormation refuses that, so the deploy would fail; stop importing it first",
		e.Export, strings.Join(e.ImportedBy, ", "))
}

// foldTags splits off the changes that only retag a resource (every
// resource changes its tags when the version tag does): they would swamp
// the one change that matters, so plan shows them as one line.
func foldTags(cs []deploy.Change) (rest []deploy.Change, tagged []string) {
	for _, c := range cs {
		if c.Action == "Modify" && !c.DataLoss && (c.Replacement == "False" || c.Replacement == "") && len(c.Causes) == 1 && c.Causes[0] == "Tags" {
			tagged = append(tagged, c.LogicalID)
			continue
		}
		rest = append(rest, c)
	}
	return rest, tagged
}

// tagsOnly is "12 resources: tags only (A, B, C, ...)".
func tagsOnly(ids []string) string {
	const shown = 4
	list := strings.Join(ids[:min(len(ids), shown)], ", ")
	if len(ids) > shown {
		list += ", ..."
	}
	return fmt.Sprintf("%s: tags only (%s)", cmdutil.Plural(len(ids), "resource"), list)
}

// writeAlarms says what the region's bakes will watch, and which of those
// alarms are missing (a deploy refuses to start until they exist).
func writeAlarms(b *strings.Builder, st iostreams.ColorScheme, a deploy.AlarmsPreview) {
	if len(a.Watched) > 0 {
		b.WriteString(st.Paint(iostreams.Muted, "  bake watches: "+strings.Join(a.Watched, ", ")) + "\n")
	}
	if len(a.Missing) > 0 {
		b.WriteString(st.Paint(iostreams.Danger, "  ! missing alarms: "+strings.Join(a.Missing, ", ")+": gantry deploy refuses to start until they exist") + "\n")
	}
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
	if r.Summary.MissingAlarms > 0 {
		s += fmt.Sprintf("; %s of rollout.alarms missing (deploy refuses to start)", cmdutil.Plural(r.Summary.MissingAlarms, "alarm"))
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
		mdRegionNotes(&b, reg)
		var rows []string
		var losses []string
		for _, s := range reg.Stacks {
			head := fmt.Sprintf("`%s` (%s)", mdCode(s.Name), actionText(s.Action))
			if len(s.Changes) == 0 {
				rows = append(rows, fmt.Sprintf("| %s | | | | | | |", head))
			}
			changes, tagged := foldTags(s.Changes)
			for i, c := range changes {
				stack := ""
				if i == 0 {
					stack = head
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
			if len(tagged) > 0 {
				stack := ""
				if len(changes) == 0 {
					stack = head
				}
				rows = append(rows, fmt.Sprintf("| %s | Modify | %s | | | `Tags` | |", stack, mdText(tagsOnly(tagged))))
			}
		}
		if len(rows) > 0 {
			b.WriteString("| Stack | Change | Logical ID | Type | Replacement | Caused by | |\n")
			b.WriteString("|---|---|---|---|---|---|---|\n")
			b.WriteString(strings.Join(rows, "\n") + "\n")
		}
		for _, s := range reg.Stacks {
			for _, e := range s.ExportsInUse {
				fmt.Fprintf(&b, "\n> [!CAUTION]\n> `%s` %s\n", mdCode(s.Name), mdText(exportText(e)))
			}
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

// mdCodes is each name as inline code, comma separated.
func mdCodes(names []string) string {
	var out []string
	for _, n := range names {
		out = append(out, "`"+mdCode(n)+"`")
	}
	return strings.Join(out, ", ")
}

// mdText escapes what would break a table cell or start markup.
func mdText(s string) string { return safetext.Markdown(s) }

// mdCode is for text inside backticks: no backtick, pipe or newline.
func mdCode(s string) string { return safetext.MarkdownCode(s) }

// mdRegionNotes writes what a region's plan says besides its stacks: why
// it could not be planned, whether it runs a canary, missing alarms.
func mdRegionNotes(b *strings.Builder, reg deploy.RegionPreview) {
	if reg.Error != "" {
		fmt.Fprintf(b, "> [!WARNING]\n> Could not plan this region: %s\n\n", mdText(reg.Error))
	}
	if c := reg.Canary; c != nil {
		verdict := "no, " + c.Why
		if c.Runs {
			verdict = c.Why
		}
		fmt.Fprintf(b, "Canary: %s\n\n", mdText(verdict))
	}
	if len(reg.Alarms.Missing) > 0 {
		fmt.Fprintf(b, "> [!CAUTION]\n> Missing alarms (`gantry deploy` refuses to start until they exist): %s\n\n", mdCodes(reg.Alarms.Missing))
	}
}
