package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/awsbackend"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
)

// Stack actions.
const (
	ActionCreate    = deploy.ActionCreate
	ActionUpdate    = deploy.ActionUpdate
	ActionUnchanged = deploy.ActionUnchanged
)

// Result is the plan of one stage; --output json prints it.
type Result struct {
	Service string `json:"service"`
	Stage   string `json:"stage"`
	// Version is --version, or when it was not given the version every
	// region defaulted to ("" when they differ: see each region's).
	Version string   `json:"version"`
	Regions []Region `json:"regions"`
	Summary Summary  `json:"summary"`
}

// Region is the plan of one region.
type Region struct {
	Region  string `json:"region"`
	Account string `json:"account"`
	// Version is the version planned for this region.
	Version string  `json:"version"`
	Stacks  []Stack `json:"stacks"`
	// Error says why the region could not be planned.
	Error string `json:"error,omitempty"`
}

// Stack is the plan of one stack.
type Stack struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Action is create, update or unchanged.
	Action  string   `json:"action"`
	Changes []Change `json:"changes"`
	// Notes say what the plan could not show exactly (a priority allocated
	// at deploy, an app stack read from its template).
	Notes []string `json:"notes,omitempty"`
}

// Change is one resource change.
type Change struct {
	// Action is CloudFormation's: Add, Modify, Remove, Import or Dynamic.
	Action    string `json:"action"`
	LogicalID string `json:"logicalId"`
	Type      string `json:"type"`
	// Replacement is True, False or Conditional for Modify, "" otherwise.
	Replacement string `json:"replacement"`
	// Causes are the properties behind the change: those forcing the
	// replacement when there are any.
	Causes []string `json:"causes"`
	// DataLoss marks a replacement or deletion of a stateful resource,
	// which deploy refuses without --allow-data-loss.
	DataLoss bool `json:"dataLoss"`
}

// Summary counts the plan's resource changes.
type Summary struct {
	Changes  int `json:"changes"`
	DataLoss int `json:"dataLoss"`
	// Errors is the number of regions that could not be planned.
	Errors int `json:"errors"`
}

// HasChanges reports whether any stack of any region would change.
func (r *Result) HasChanges() bool {
	for _, reg := range r.Regions {
		if reg.HasChanges() {
			return true
		}
	}
	return false
}

// HasChanges reports whether any stack of the region would change.
func (r Region) HasChanges() bool {
	return slices.ContainsFunc(r.Stacks, func(s Stack) bool { return s.Action != ActionUnchanged })
}

func (r *Result) summarize() {
	r.Summary = Summary{}
	versions := map[string]bool{}
	for _, reg := range r.Regions {
		if reg.Error != "" {
			r.Summary.Errors++
		}
		if reg.Version != "" {
			versions[reg.Version] = true
		}
		for _, s := range reg.Stacks {
			r.Summary.Changes += len(s.Changes)
			for _, c := range s.Changes {
				if c.DataLoss {
					r.Summary.DataLoss++
				}
			}
		}
	}
	if r.Version == "" && len(versions) == 1 {
		for v := range versions {
			r.Version = v
		}
	}
}

// planner plans the regions of one stage.
type planner struct {
	d       *descriptor.Descriptor
	backend *awsbackend.Backend
	version string
	log     *slog.Logger
}

// cleanupTimeout bounds deleting what a plan made, which runs even after
// the command's context has ended.
const cleanupTimeout = 2 * time.Minute

func (p *planner) region(ctx context.Context, step plan.Step) Region {
	out := Region{Region: step.Region, Account: step.Account, Version: p.version, Stacks: []Stack{}}
	stacks, err := p.stacks(ctx, step, &out)
	if err != nil {
		// The SDK's whole chain (retries, request id) is for the log.
		p.log.DebugContext(ctx, "planning a region failed", "stage", step.Stage, "region", step.Region, "err", err.Error())
		out.Error = awsx.Brief(err)
	}
	out.Stacks = append(out.Stacks, stacks...)
	return out
}

func (p *planner) stacks(ctx context.Context, step plan.Step, out *Region) ([]Stack, error) {
	view, err := p.backend.View(ctx, step)
	if err != nil {
		return nil, err
	}
	c := view.CFN()
	appName := p.d.Service + "-" + step.Stage + "-" + deploy.KindApp
	app, err := c.Describe(ctx, appName)
	if err != nil {
		return nil, err
	}
	version := p.version
	if version == "" {
		version = app.Tags[render.TagVersion]
		if !app.Exists || version == "" {
			version = render.DefaultVersion
		}
		out.Version = version
	}
	rendered, err := render.Render(p.d, render.Target{Stage: step.Stage, Region: step.Region, Account: step.Account, Version: version})
	if err != nil {
		return nil, fmt.Errorf("rendering %s/%s: %w", step.Stage, step.Region, err)
	}
	ds, err := deploy.Encode(rendered)
	if err != nil {
		return nil, fmt.Errorf("rendering %s/%s: %w", step.Stage, step.Region, err)
	}
	hash := deploy.HashDeployed(ds)
	base := deploy.BaseTags(p.d, step.Stage)

	var res []Stack
	dataExists := true // true when there is no data stack to wait for
	for _, s := range ds {
		current := app
		if s.Name != appName {
			if current, err = c.Describe(ctx, s.Name); err != nil {
				return res, err
			}
		}
		tags := deploy.StackTags(base, s, version, hash)
		var ps Stack
		if s.Kind == deploy.KindApp && !dataExists {
			ps, err = fromTemplate(s, current, "the data stack does not exist yet, so the app stack's change set (which needs its exports) cannot be made: its resources are listed from the template")
		} else {
			ps, err = p.stack(ctx, view, s, current, tags)
		}
		if err != nil {
			return res, fmt.Errorf("stack %s: %w", s.Name, err)
		}
		if s.Kind == deploy.KindData {
			dataExists = current.Exists && current.Status != "REVIEW_IN_PROGRESS" && current.Status != "ROLLBACK_COMPLETE"
		}
		res = append(res, ps)
	}
	return res, nil
}

// stack plans one stack with a change set that it then deletes.
func (p *planner) stack(ctx context.Context, view *awsbackend.RegionView, s deploy.DeployedStack, current *cfn.Stack, tags map[string]string) (Stack, error) {
	ps := Stack{Name: s.Name, Kind: s.Kind, Changes: []Change{}}
	switch {
	case current.Status == "ROLLBACK_COMPLETE":
		return fromTemplate(s, current, "the stack is ROLLBACK_COMPLETE after a failed create: deploy deletes it and creates it again")
	case strings.HasSuffix(current.Status, "_IN_PROGRESS") && current.Status != "REVIEW_IN_PROGRESS":
		return ps, fmt.Errorf("the stack is busy (%s), a rollout may be in flight; plan again when it ends", current.Status)
	}
	params := maps.Clone(s.Parameters)
	if params == nil {
		params = map[string]string{}
	}
	tmpl, err := resources(s.Template)
	if err != nil {
		return ps, err
	}
	if tmpl.hasParam(awsbackend.ListenerRulePriorityParam) {
		value, kept, err := view.ListenerRulePriority(ctx, s.Template, current)
		if err != nil {
			return ps, err
		}
		params[awsbackend.ListenerRulePriorityParam] = value
		if !kept {
			ps.Notes = append(ps.Notes, awsbackend.ListenerRulePriorityParam+": allocated at deploy")
		}
	}

	c := view.CFN()
	existed := current.Exists
	cs, err := c.CreateChangeSet(ctx, cfn.ChangeSetInput{
		StackName:   s.Name,
		Template:    s.Template,
		Parameters:  params,
		Tags:        tags,
		Description: "gantry plan: a preview, deleted after reading",
	})
	if cerr := p.cleanup(ctx, c, s.Name, cs, existed); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return ps, err
	}
	switch {
	case cs.Empty:
		ps.Action = ActionUnchanged
	case cs.Type == "CREATE":
		ps.Action = ActionCreate
	default:
		ps.Action = ActionUpdate
	}
	for _, ch := range cs.Changes {
		causes := ch.Causes
		if causes == nil {
			causes = []string{}
		}
		ps.Changes = append(ps.Changes, Change{
			Action: ch.Action, LogicalID: ch.LogicalID, Type: ch.ResourceType,
			Replacement: ch.Replacement, Causes: causes, DataLoss: awsbackend.LosesData(ch),
		})
	}
	sortChanges(ps.Changes)
	if ps.Action == ActionUpdate && len(ps.Changes) == 0 {
		ps.Notes = append(ps.Notes, "no resource changes: only the stack's tags or parameters change")
	}
	return ps, nil
}

// cleanup deletes the change set and, when the stack did not exist before,
// the REVIEW_IN_PROGRESS stack CloudFormation made for it. It runs even
// when ctx has ended (Ctrl-C), and never deletes a stack in any other state.
func (p *planner) cleanup(ctx context.Context, c *cfn.Client, name string, cs *cfn.ChangeSet, existed bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var errs []error
	if cs != nil && !cs.Empty {
		if err := c.DeleteChangeSet(ctx, cs); err != nil {
			errs = append(errs, err)
		}
	}
	if !existed {
		st, err := c.Describe(ctx, name)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("checking that the plan left no stack %s: %w", name, err))
		case st.Exists && st.Status == "REVIEW_IN_PROGRESS":
			p.log.Debug("deleting the stack the plan's change set made", "stack", name)
			if err := c.Delete(ctx, name); err != nil {
				errs = append(errs, fmt.Errorf("deleting the empty stack %s the plan's change set made (delete it by hand: aws cloudformation delete-stack --stack-name %s): %w", name, name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// fromTemplate is the plan of a stack whose change set cannot be made: a
// create of every resource in its template.
func fromTemplate(s deploy.DeployedStack, current *cfn.Stack, note string) (Stack, error) {
	ps := Stack{Name: s.Name, Kind: s.Kind, Action: ActionCreate, Changes: []Change{}, Notes: []string{note}}
	if current.Exists && current.Status != "REVIEW_IN_PROGRESS" && current.Status != "ROLLBACK_COMPLETE" {
		// The stack exists but what changes cannot be known yet.
		ps.Action = ActionUpdate
		ps.Notes = []string{"the data stack does not exist yet and the app stack's change set needs its exports: its changes are known once the data stack is created"}
		return ps, nil
	}
	tmpl, err := resources(s.Template)
	if err != nil {
		return ps, err
	}
	if tmpl.hasParam(awsbackend.ListenerRulePriorityParam) {
		ps.Notes = append(ps.Notes, awsbackend.ListenerRulePriorityParam+": allocated at deploy")
	}
	for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
		ps.Changes = append(ps.Changes, Change{Action: "Add", LogicalID: id, Type: tmpl.Resources[id].Type, Causes: []string{}})
	}
	return ps, nil
}

// template is what the plan reads of a template.
type template struct {
	Parameters map[string]json.RawMessage `json:"Parameters"`
	Resources  map[string]struct {
		Type string `json:"Type"`
	} `json:"Resources"`
}

func (t *template) hasParam(name string) bool { _, ok := t.Parameters[name]; return ok }

func resources(b []byte) (*template, error) {
	var t template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("reading the template: %w", err)
	}
	return &t, nil
}

// sortChanges puts data loss first, then by logical id.
func sortChanges(cs []Change) {
	slices.SortStableFunc(cs, func(a, b Change) int {
		if a.DataLoss != b.DataLoss {
			if a.DataLoss {
				return -1
			}
			return 1
		}
		return strings.Compare(a.LogicalID, b.LogicalID)
	})
}
