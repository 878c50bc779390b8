package deploy

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// BaseTags are the stack tags every stack of a stage carries:
// gantry:service, gantry:stage and gantry:team.
func BaseTags(d *descriptor.Descriptor, stage string) map[string]string {
	return map[string]string{
		render.TagService: d.Service,
		render.TagStage:   stage,
		render.TagTeam:    d.Team,
	}
}

// StackTags are the tags of one stack of a region being deployed: base,
// plus gantry:hash of the stack itself on the data stack, and gantry:version
// and gantry:hash of the whole region (regionHash) on the app stack.
func StackTags(base map[string]string, s DeployedStack, version, regionHash string) map[string]string {
	tags := maps.Clone(base)
	if tags == nil {
		tags = map[string]string{}
	}
	if s.Kind == naming.Data {
		tags[TagHash] = HashDeployed([]DeployedStack{s})
	} else {
		tags[render.TagVersion] = version
		tags[TagHash] = regionHash
	}
	return tags
}

// RestoreOptions steer Restore.
type RestoreOptions struct {
	// Tags are the base tags (BaseTags).
	Tags map[string]string
	// AllowDataLoss is what the restore may replace or delete.
	AllowDataLoss DataLossConsent
	// Observer receives the stacks' events; nil drops them.
	Observer StackObserver
	// Now is recorded as the restored deployment's time; zero is time.Now().
	Now time.Time
	// Running is the deployment being replaced, when known: it decides
	// whether the app stack must go back before the data stack.
	Running *Deployment
}

// Restore redeploys a recorded deployment's exact templates and parameters
// (data stack first, unless the running app stack imports an export the
// restored data stack lacks; an unchanged one costs an empty change set and
// no update), tags the stacks with that deployment's version and hash, and
// records it again as the latest deployment of the region. The bake's
// alarm restore and `gantry rollback` both use it.
func Restore(ctx context.Context, reg Region, dep *Deployment, opt RestoreOptions) ([]StackOutcome, error) {
	if dep == nil || len(dep.Stacks) == 0 {
		return nil, fmt.Errorf("restoring: the deployment records no stacks")
	}
	obs := opt.Observer
	if obs == nil {
		obs = discardStack{}
	}
	var applies []StackApply
	for _, s := range restoreOrder(dep, opt.Running) {
		applies = append(applies, StackApply{
			Name: s.Name, Kind: s.Kind, Template: s.Template, Parameters: maps.Clone(s.Parameters),
			Tags:          StackTags(opt.Tags, s, dep.Version, dep.Hash),
			AllowDataLoss: opt.AllowDataLoss, Protect: s.Kind == naming.Data,
		})
	}
	if err := refuseLateDataLoss(ctx, reg, applies); err != nil {
		return nil, err
	}
	var outs []StackOutcome
	for _, a := range applies {
		out, err := reg.Apply(ctx, a, obs)
		outs = append(outs, fillOutcome(out, a))
		if err != nil {
			return outs, fmt.Errorf("restoring stack %s to version %s: %w", a.Name, dep.Version, err)
		}
	}
	again := *dep
	again.DeployedAt = opt.Now
	if again.DeployedAt.IsZero() {
		again.DeployedAt = time.Now()
	}
	if err := reg.SaveDeployment(ctx, again); err != nil {
		return outs, fmt.Errorf("restored version %s, but recording it failed: %w", dep.Version, err)
	}
	return outs, nil
}

// refuseLateDataLoss previews the data stack when it goes back after the
// app stack, so that a replacement or deletion the consent does not allow
// is refused before anything changes, not with the app stack already back.
func refuseLateDataLoss(ctx context.Context, reg Region, applies []StackApply) error {
	if len(applies) < 2 || applies[0].Kind != naming.App {
		return nil
	}
	for _, a := range applies[1:] {
		p, err := reg.Preview(ctx, a)
		if err != nil {
			return fmt.Errorf("previewing %s before the app stack goes back: %w", a.Name, err)
		}
		var lossy []DataLossChange
		for _, c := range p.Changes {
			if c.DataLoss {
				action := "replace"
				if c.Action == "Remove" {
					action = "delete"
				}
				lossy = append(lossy, DataLossChange{Stack: a.Name, LogicalID: c.LogicalID, Type: c.Type, Action: action, Causes: c.Causes})
			}
		}
		if err := RefuseDataLoss(a.Name, lossy, a.AllowDataLoss); err != nil {
			return err
		}
	}
	return nil
}

// fillOutcome names an outcome the backend left anonymous.
func fillOutcome(out StackOutcome, a StackApply) StackOutcome {
	if out.Name == "" {
		out.Name = a.Name
	}
	if out.Kind == "" {
		out.Kind = a.Kind
	}
	return out
}

type discardStack struct{}

func (discardStack) StackEvent(rollout.StackEvent) {}
