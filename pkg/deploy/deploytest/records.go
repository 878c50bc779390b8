package deploytest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

func (b *Backend) now() time.Time {
	if b.Clock == nil {
		return time.Now()
	}
	return b.Clock.Now()
}

// Records implements deploy.Backend: the lock is the fake's, the latest
// rollout the last record a lock of the stage saved.
func (b *Backend) Records(_ context.Context, st plan.Stage) (deploy.Records, error) {
	b.record(Call{Op: "records", Stage: st.Name})
	if b.RecordsErr != nil {
		if err := b.RecordsErr(st.Name); err != nil {
			return nil, err
		}
	}
	return records{b: b, stage: st.Name}, nil
}

type records struct {
	b     *Backend
	stage string
}

func (r records) LockHolder(context.Context) (*deploy.LockInfo, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.b.lockInfo(r.stage), nil
}

func (r records) BreakLock(context.Context) (*deploy.LockInfo, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	info := r.b.lockInfo(r.stage)
	delete(r.b.locked, r.stage)
	r.b.calls = append(r.b.calls, Call{Op: "break", Stage: r.stage})
	return info, nil
}

func (r records) LatestRollout(context.Context) (*deploy.RolloutRecord, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	for i := len(r.b.rollouts) - 1; i >= 0; i-- {
		if rec := r.b.rollouts[i]; rec.Stage == r.stage {
			rec.Regions = maps.Clone(rec.Regions)
			return &rec, nil
		}
	}
	return nil, nil
}

func (r records) Journal(_ context.Context, rolloutID string, e deploy.JournalEntry) error {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	if e.Stage == "" {
		e.Stage = r.stage
	}
	r.b.journal = append(r.b.journal, e)
	r.b.calls = append(r.b.calls, Call{Op: "journal", Stage: r.stage, RolloutID: rolloutID})
	return nil
}

// lockInfo describes the stage's lock, nil when free; b.mu is held.
func (b *Backend) lockInfo(stage string) *deploy.LockInfo {
	id, ok := b.locked[stage]
	if !ok {
		return nil
	}
	now := b.now()
	return &deploy.LockInfo{
		Service: b.Service, Stage: stage, Owner: "test@host pid 1", RolloutID: id,
		AcquiredAt: now, HeartbeatAt: now, ExpiresAt: now.Add(5 * time.Minute),
	}
}

// HoldLock takes a stage's lock for rolloutID, as another rollout would.
func (b *Backend) HoldLock(stage, rolloutID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.locked[stage] = rolloutID
}

// Describe implements deploy.Region.
func (r *Region) Describe(_ context.Context, kind naming.StackKind) (deploy.Current, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	s := r.stacks[naming.Stack(r.b.Service, r.step.Stage, kind)]
	if s == nil {
		return deploy.Current{}, nil
	}
	return deploy.Current{Exists: true, Status: s.Status, Version: s.Tags[render.TagVersion], Hash: s.Tags[deploy.TagHash], Updated: s.Updated}, nil
}

// MarkBaked implements deploy.Region.
func (r *Region) MarkBaked(_ context.Context, d deploy.Deployment, at time.Time) error {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.b.calls = append(r.b.calls, Call{Op: "baked", Stage: r.step.Stage, Region: r.step.Region, Version: d.Version})
	for i := range r.deployments {
		if x := &r.deployments[i]; x.Version == d.Version && x.DeployedAt.Equal(d.DeployedAt) {
			x.BakedAt = at
			return nil
		}
	}
	return fmt.Errorf("no deployment of %s at %s to mark baked", d.Version, d.DeployedAt)
}

// Deployment implements deploy.Region.
func (r *Region) Deployment(_ context.Context, version string) (*deploy.Deployment, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	for i := len(r.deployments) - 1; i >= 0; i-- {
		if d := r.deployments[i]; d.Version == version {
			return &d, nil
		}
	}
	return nil, nil
}

// Deployments implements deploy.Region: newest first.
func (r *Region) Deployments(context.Context) ([]deploy.DeploymentSummary, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	var out []deploy.DeploymentSummary
	for _, d := range slices.Backward(r.deployments) {
		out = append(out, deploy.DeploymentSummary{Version: d.Version, Hash: d.Hash, RolloutID: d.RolloutID, DeployedAt: d.DeployedAt})
	}
	return out, nil
}

// Preview implements deploy.Region: the action Apply would take, one
// Modify change per changed stack, nothing changed.
func (r *Region) Preview(_ context.Context, a deploy.StackApply) (deploy.StackPreview, error) {
	b := r.b
	b.record(Call{Op: "preview", Stage: r.step.Stage, Region: r.step.Region, Stack: a.Name, Version: a.Tags[render.TagVersion]})
	if b.PreviewErr != nil {
		if err := b.PreviewErr(r.step, a); err != nil {
			return deploy.StackPreview{Name: a.Name}, err
		}
	}
	params := maps.Clone(a.Parameters)
	if b.RulePriority != "" && a.Kind == naming.App {
		params["ListenerRulePriority"] = b.RulePriority
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p := deploy.StackPreview{Name: a.Name, Changes: []deploy.Change{}}
	s := r.stacks[a.Name]
	switch {
	case s == nil || s.Status == "ROLLBACK_COMPLETE":
		p.Action = rollout.ActionCreate
		p.Changes = append(p.Changes, deploy.Change{Action: "Add", LogicalID: "Stack", Type: "AWS::CloudFormation::Stack", Causes: []string{}})
	case bytes.Equal(s.Template, a.Template) && maps.Equal(s.Parameters, params):
		p.Action = rollout.ActionUnchanged
	default:
		p.Action = rollout.ActionUpdate
		p.Changes = append(p.Changes, deploy.Change{Action: "Modify", LogicalID: "Stack", Type: "AWS::CloudFormation::Stack", Replacement: "False", Causes: []string{}})
	}
	return p, nil
}
