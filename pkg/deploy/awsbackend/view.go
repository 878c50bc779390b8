package awsbackend

// What `gantry status` reads through the backend, reaching each (stage,
// region) as a deploy does.

import (
	"context"
	"fmt"

	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/plan"
)

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
