package awsbackend

// What `gantry plan` and `gantry status` reuse of the backend, so that a
// plan judges data loss and passes the listener rule priority exactly as a
// deploy would, and both reach each (stage, region) the same way.

import (
	"context"
	"fmt"
	"slices"

	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/plan"
)

// ListenerRulePriorityParam is the app stack parameter holding the listener
// rule's priority, unique on the shared platform listener.
const ListenerRulePriorityParam = priorityParam

// StatefulTypes lists the resource types whose replacement or deletion
// loses data (RDS, ElastiCache replication groups, S3 buckets, Secrets
// Manager secrets, DynamoDB tables).
func StatefulTypes() []string { return slices.Clone(statefulTypes) }

// IsStateful reports whether resources of this type hold data.
func IsStateful(resourceType string) bool { return slices.Contains(statefulTypes, resourceType) }

// LosesData reports whether a change set entry replaces (or may replace) or
// deletes a stateful resource: what deploy refuses without
// --allow-data-loss.
func LosesData(c cfn.Change) bool { return dataLoss("", []cfn.Change{c}) != nil }

// RegionView is read-only access to one (stage, region) as the backend
// reaches it: the stage's account (assuming its deploy role) in the step's
// region.
type RegionView struct{ r *region }

// View returns the view of one (stage, region).
func (b *Backend) View(ctx context.Context, step plan.Step) (*RegionView, error) {
	reg, err := b.Region(ctx, step)
	if err != nil {
		return nil, err
	}
	r, ok := reg.(*region)
	if !ok {
		return nil, fmt.Errorf("awsbackend: unexpected region handle %T", reg)
	}
	return &RegionView{r: r}, nil
}

// CFN is the region's CloudFormation driver.
func (v *RegionView) CFN() *cfn.Client { return v.r.cfn }

// ListenerRulePriority is the priority a deploy of template would pass:
// the stack's current value when it has one (kept is true), otherwise the
// lowest priority free on the platform listener now, which a deploy
// allocates again when it runs. current is the stack as described (Exists
// false for a new stack).
func (v *RegionView) ListenerRulePriority(ctx context.Context, template []byte, current *cfn.Stack) (value string, kept bool, err error) {
	tmpl, err := parseTemplate(template)
	if err != nil {
		return "", false, fmt.Errorf("reading the template of %s: %w", current.Name, err)
	}
	value, err = v.r.priority(ctx, tmpl, current)
	if err != nil {
		return "", false, err
	}
	return value, current.Exists && current.Parameters[priorityParam] != "", nil
}
