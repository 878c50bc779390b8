package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gantryhq/gantry/internal/crash"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// Preview is the plan of one stage: what a deploy would change in each
// region. `gantry plan --output json` prints it.
type Preview struct {
	Service string `json:"service"`
	Stage   string `json:"stage"`
	// Version is the version asked for, or when none was, the version every
	// region defaulted to ("" when they differ: see each region's).
	Version string          `json:"version"`
	Regions []RegionPreview `json:"regions"`
	Summary PreviewSummary  `json:"summary"`
}

// RegionPreview is the plan of one region.
type RegionPreview struct {
	Region  string `json:"region"`
	Account string `json:"account"`
	// Version is the version planned for this region.
	Version string         `json:"version"`
	Stacks  []StackPreview `json:"stacks"`
	// Alarms are what the region's bakes will watch.
	Alarms AlarmsPreview `json:"alarms"`
	// Canary says whether a deploy would run the stage's canary here, and
	// why not; omitted for a stage without one.
	Canary *CanaryPreview `json:"canary,omitempty"`
	// Error says why the region could not be planned.
	Error string `json:"error,omitempty"`
}

// AlarmsPreview is what a region's bakes will watch, and which of those
// alarms do not exist: a deploy refuses to start while one of
// rollout.alarms is missing (the rendered ones the app stack makes).
type AlarmsPreview struct {
	Watched []string `json:"watched"`
	Missing []string `json:"missing"`
}

// StackPreview is what a deploy of one stack would do: Region.Preview's
// answer.
type StackPreview struct {
	Name string           `json:"name"`
	Kind naming.StackKind `json:"kind"`
	// Action is rollout.ActionCreate, ActionUpdate or ActionUnchanged.
	Action string `json:"action"`
	// Changes are the change set's resource changes, data loss first.
	Changes []Change `json:"changes"`
	// Notes say what the preview could not show exactly (a listener
	// priority allocated at deploy, a stack that must be recreated).
	Notes []string `json:"notes,omitempty"`
	// ExportsInUse are exports the change removes while other stacks
	// import them: CloudFormation refuses that, so the deploy would fail.
	ExportsInUse []ExportInUse `json:"exportsInUse,omitempty"`
}

// ExportInUse is an export a change removes and the stacks importing it.
type ExportInUse struct {
	Export     string   `json:"export"`
	ImportedBy []string `json:"importedBy"`
}

// PreviewSummary counts a preview's resource changes.
type PreviewSummary struct {
	Changes  int `json:"changes"`
	DataLoss int `json:"dataLoss"`
	// Errors is the number of regions that could not be planned.
	Errors int `json:"errors"`
	// MissingAlarms is how many of rollout.alarms are missing somewhere:
	// a deploy refuses to start until they exist.
	MissingAlarms int `json:"missingAlarms"`
}

// HasChanges reports whether any stack of any region would change.
func (p *Preview) HasChanges() bool {
	return slices.ContainsFunc(p.Regions, RegionPreview.HasChanges)
}

// HasChanges reports whether any stack of the region would change.
func (r RegionPreview) HasChanges() bool {
	return slices.ContainsFunc(r.Stacks, func(s StackPreview) bool { return s.Action != rollout.ActionUnchanged })
}

// summarize counts the changes and settles the version every region
// defaulted to.
func (p *Preview) summarize() {
	p.Summary = PreviewSummary{}
	missing := map[string]bool{}
	versions := map[string]bool{}
	for _, reg := range p.Regions {
		if reg.Error != "" {
			p.Summary.Errors++
		}
		for _, a := range reg.Alarms.Missing {
			missing[a] = true
		}
		if reg.Version != "" {
			versions[reg.Version] = true
		}
		for _, s := range reg.Stacks {
			p.Summary.Changes += len(s.Changes)
			for _, c := range s.Changes {
				if c.DataLoss {
					p.Summary.DataLoss++
				}
			}
		}
	}
	p.Summary.MissingAlarms = len(missing)
	if p.Version == "" && len(versions) == 1 {
		for v := range versions {
			p.Version = v
		}
	}
}

// Change is one resource change of a change set.
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

// PreviewRequest asks what a deploy of one stage would change.
type PreviewRequest struct {
	Descriptor *descriptor.Descriptor
	Plan       *plan.Plan
	Stage      string
	// Version is the version to preview; "" previews, in each region, the
	// version its app stack runs now (else render.DefaultVersion), so that
	// the preview shows what changed in the descriptor.
	Version string
}

// previewParallel bounds how many regions are previewed at once.
const previewParallel = 8

// Preview makes, reads and deletes the change sets a deploy of the stage
// would make, through the backend's Preview, so a plan never drifts from a
// deploy. It returns an error, having called nothing, for an invalid
// request or (with a Version) a region that cannot render; a region that
// cannot be previewed has its Error set instead.
func (e *Engine) Preview(ctx context.Context, req PreviewRequest) (*Preview, error) {
	if e.Backend == nil || req.Descriptor == nil || req.Plan == nil {
		return nil, errors.New("deploy: preview needs a backend, a descriptor and a plan")
	}
	st, ok := req.Plan.Stage(req.Stage)
	if !ok {
		return nil, fmt.Errorf("deploy: stage %q is not in the plan", req.Stage)
	}
	steps := st.Steps()
	if err := e.CheckRenders(req.Descriptor, st, req.Version); err != nil {
		return nil, err
	}
	out := &Preview{Service: req.Descriptor.Service, Stage: st.Name, Version: req.Version, Regions: make([]RegionPreview, len(steps))}
	var wg sync.WaitGroup
	sem := make(chan struct{}, previewParallel)
	crashes := make([]error, len(steps))
	for i, s := range steps {
		wg.Go(func() {
			defer crash.Catch(&crashes[i])
			sem <- struct{}{}
			defer func() { <-sem }()
			out.Regions[i] = e.previewRegion(ctx, req, s)
		})
	}
	wg.Wait()
	out.summarize()
	// A crash is a bug, never a region's verdict: it is the error.
	return out, errors.Join(crashes...)
}

// CheckRenders renders every region of a stage for version, so that bad
// input is refused before anything talks to AWS. With no version it
// checks nothing: each region's version is known only from its stack.
func (e *Engine) CheckRenders(d *descriptor.Descriptor, st plan.Stage, version string) error {
	if version == "" {
		return nil
	}
	for _, s := range st.Steps() {
		if _, err := e.prepare(d, s, version); err != nil {
			return err
		}
	}
	return nil
}

// previewRegion previews one region's stacks in deploy order.
func (e *Engine) previewRegion(ctx context.Context, req PreviewRequest, step plan.Step) RegionPreview {
	out := RegionPreview{Region: step.Region, Account: step.Account, Version: req.Version, Stacks: []StackPreview{},
		Alarms: AlarmsPreview{Watched: watchedAlarms(req.Descriptor, step.Stage), Missing: []string{}}}
	fail := func(err error) RegionPreview { out.Error = e.errorText(ctx, err); return out }
	reg, err := e.Backend.Region(ctx, step)
	if err != nil {
		return fail(err)
	}
	if names := req.Descriptor.Rollout.Alarms; len(names) > 0 {
		missing, err := reg.MissingAlarms(ctx, names)
		if err != nil {
			return fail(fmt.Errorf("reading the rollout alarms: %w", err))
		}
		out.Alarms.Missing = append(out.Alarms.Missing, missing...)
	}
	var cur Current
	if out.Version == "" || req.Descriptor.CanaryFor(step.Stage) != nil {
		if cur, err = reg.Current(ctx); err != nil {
			return fail(err)
		}
	}
	if out.Version == "" {
		out.Version = render.DefaultVersion
		if cur.Exists && cur.Version != "" {
			out.Version = cur.Version
		}
	}
	if out.Canary, err = previewCanary(ctx, reg, req.Descriptor, step, out.Version, cur); err != nil {
		return fail(err)
	}
	pre, err := e.prepare(req.Descriptor, step, out.Version)
	if err != nil {
		return fail(err)
	}
	base := BaseTags(req.Descriptor, step.Stage)
	for _, s := range pre.stacks {
		a := StackApply{
			Name: s.Name, Kind: s.Kind, Template: s.Template, Parameters: s.Parameters,
			Tags: StackTags(base, s, out.Version, pre.hash), Protect: s.Kind == naming.Data,
		}
		sp, err := reg.Preview(ctx, a)
		if err != nil {
			return fail(fmt.Errorf("stack %s: %w", s.Name, err))
		}
		sp.Name, sp.Kind = s.Name, s.Kind
		if sp.Changes == nil {
			sp.Changes = []Change{}
		}
		if s.Kind == naming.Release {
			notes, err := releaseNotes(ctx, reg, req.Descriptor.SpecFor(step.Stage), out.Version)
			if err != nil {
				return fail(err)
			}
			sp.Notes = append(sp.Notes, notes...)
		}
		out.Stacks = append(out.Stacks, sp)
	}
	return out
}
