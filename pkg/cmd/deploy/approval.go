package deploy

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/iostreams"
	"github.com/gantryhq/gantry/pkg/progress"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// approver approves the --approve stages and, on a terminal, asks about
// the others, showing what they are about to approve; without a terminal
// nothing else is approved (the stage holds).
func approver(f *cmdutil.Factory, approved []string, obs rollout.Observer) deploy.Approver {
	p := f.Prompt()
	return deploy.ApproverFunc(func(ctx context.Context, req deploy.ApprovalRequest) (bool, error) {
		if slices.Contains(approved, req.Stage) {
			return true, nil
		}
		if !p.CanPrompt() {
			return false, nil
		}
		if tty, ok := obs.(*progress.TTY); ok {
			tty.Pause()
			defer tty.Resume()
		}
		describeApproval(ctx, f.IOStreams.ErrOut, f.IOStreams.ColorSchemeStderr(), req)
		return p.Confirm(fmt.Sprintf("Deploy stage %s now?", req.Stage))
	})
}

// describeApproval says what a yes would do: version, account, regions,
// and the stage's plan in a line, data loss in red.
func describeApproval(ctx context.Context, w io.Writer, cs iostreams.ColorScheme, req deploy.ApprovalRequest) {
	fmt.Fprintf(w, "Stage %s needs approval: version %s to account %s, %s: %s\n",
		req.Stage, req.Version, req.Account, cmdutil.Plural(len(req.Regions), "region"), strings.Join(req.Regions, ", "))
	if req.Preview == nil {
		return
	}
	p, err := req.Preview(ctx)
	if err != nil {
		fmt.Fprintf(w, "  plan: could not be made (%v)\n", err)
		return
	}
	fmt.Fprintf(w, "  plan: %s\n", planLine(p))
	for _, reg := range p.Regions {
		for _, s := range reg.Stacks {
			for _, c := range s.Changes {
				if c.DataLoss {
					fmt.Fprintln(w, cs.Paint(iostreams.Danger, fmt.Sprintf("  ! data loss in %s: %s %s (%s) of %s", reg.Region, lossVerb(c), c.LogicalID, c.Type, s.Name)))
				}
			}
		}
		if reg.Error != "" {
			fmt.Fprintln(w, cs.Paint(iostreams.Failure, fmt.Sprintf("  %s: could not be planned: %s", reg.Region, reg.Error)))
		}
	}
}

// planLine is "data: unchanged in 3 regions; app: update in 3 regions (36
// changes)".
func planLine(p *deploy.Preview) string {
	type tally struct {
		regions map[string]int // action → regions
		changes int
	}
	var kinds []string
	by := map[string]*tally{}
	for _, reg := range p.Regions {
		for _, s := range reg.Stacks {
			k := string(s.Kind)
			if by[k] == nil {
				by[k] = &tally{regions: map[string]int{}}
				kinds = append(kinds, k)
			}
			by[k].regions[s.Action]++
			by[k].changes += len(s.Changes)
		}
	}
	var parts []string
	for _, k := range kinds {
		var acts []string
		for _, a := range []string{rollout.ActionCreate, rollout.ActionUpdate, rollout.ActionUnchanged} {
			if n := by[k].regions[a]; n > 0 {
				acts = append(acts, fmt.Sprintf("%s in %s", a, cmdutil.Plural(n, "region")))
			}
		}
		part := k + ": " + strings.Join(acts, ", ")
		if by[k].changes > 0 {
			part += fmt.Sprintf(" (%s)", cmdutil.Plural(by[k].changes, "change"))
		}
		parts = append(parts, part)
	}
	if p.Summary.DataLoss > 0 {
		parts = append(parts, fmt.Sprintf("%d replace or delete data", p.Summary.DataLoss))
	}
	if len(parts) == 0 {
		return "nothing to show"
	}
	return strings.Join(parts, "; ")
}

func lossVerb(c deploy.Change) string {
	if c.Action == "Remove" {
		return "delete"
	}
	return "replace"
}
