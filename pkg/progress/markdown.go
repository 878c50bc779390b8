package progress

import (
	"fmt"
	"strings"

	"github.com/gantryhq/gantry/pkg/rollout"
	"github.com/gantryhq/gantry/pkg/safetext"
)

// Markdown renders the result as a GitHub-flavoured Markdown section: a
// heading with the outcome, any notes, and a table of every region. The
// deploy command appends it to $GITHUB_STEP_SUMMARY.
func Markdown(r *rollout.Result) string {
	var b strings.Builder
	icon := map[rollout.Outcome]string{rollout.Succeeded: "✅", rollout.Failed: "❌", rollout.Held: "⏸️"}[r.Result]
	fmt.Fprintf(&b, "### %s gantry deploy `%s` version `%s`: %s\n\n", icon, mdCode(r.Service), mdCode(r.Version), r.Result)
	if r.RolloutID != "" {
		fmt.Fprintf(&b, "Rollout `%s`. ", mdCode(r.RolloutID))
	}
	fmt.Fprintf(&b, "%s.\n\n", capitalize(r.Summary()))
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "> [!WARNING]\n> %s\n\n", mdCell(n))
	}
	b.WriteString("| Stage | Wave | Region | Status | Stacks | Details |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, rr := range r.Regions {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n",
			mdCell(rr.Stage), rr.Wave, mdCell(rr.Region), statusCell(rr.Status),
			mdCell(DescribeStacks(rr.Stacks)), mdCell(joinDetails(DescribeCanary(rr.Canary), rr.Error)))
	}
	switch r.Result {
	case rollout.Held:
		b.WriteString("\nThe rollout is held: run the same command again to resume.\n")
	case rollout.Failed:
		b.WriteString("\nThe rollout failed: regions after the failure were not started.\n")
	}
	return b.String()
}

func statusCell(s rollout.Status) string {
	icon := map[rollout.Status]string{
		rollout.StatusDeployed: "✅", rollout.StatusUnchanged: "⚪", rollout.StatusFailed: "❌",
		rollout.StatusHeld: "⏸️", rollout.StatusRolledBack: "↩️", rollout.StatusPending: "⏳",
	}[s]
	if icon == "" {
		return string(s)
	}
	return icon + " " + string(s)
}

// mdCell makes text safe inside a table cell: one line, no bare pipes,
// no markup and no control characters (a stack or an error may carry text
// from the descriptor).
func mdCell(s string) string { return safetext.Markdown(s) }

func mdCode(s string) string { return safetext.MarkdownCode(s) }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// joinDetails is the non-empty parts joined with "; ".
func joinDetails(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
