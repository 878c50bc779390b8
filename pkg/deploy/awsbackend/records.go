package awsbackend

import (
	"context"
	"errors"
	"fmt"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/rollout"
	"github.com/gantryhq/gantry/pkg/state"
)

// Records returns the stage's records in its state table
// (deploy.Backend).
func (b *Backend) Records(ctx context.Context, st plan.Stage) (deploy.Records, error) {
	store, err := b.Store(ctx, st)
	if err != nil {
		return nil, err
	}
	return records{store: store, service: b.o.Plan.Service, stage: st.Name}, nil
}

type records struct {
	store          *state.Store
	service, stage string
}

func (r records) LockHolder(ctx context.Context) (*deploy.LockInfo, error) {
	info, err := r.store.Lock(ctx, r.service, r.stage)
	return lockInfo(info), r.wrap(err)
}

func (r records) BreakLock(ctx context.Context) (*deploy.LockInfo, error) {
	info, err := r.store.BreakLock(ctx, r.service, r.stage)
	return lockInfo(info), r.wrap(err)
}

func (r records) LatestRollout(ctx context.Context) (*deploy.RolloutRecord, error) {
	ro, err := r.store.LatestRollout(ctx, r.service, r.stage)
	if err != nil || ro == nil {
		return nil, r.wrap(err)
	}
	rec := &deploy.RolloutRecord{
		RolloutID: ro.ID, Service: ro.Service, Stage: ro.Stage, Version: ro.Version, Status: ro.Status,
		StartedAt: ro.StartedAt, UpdatedAt: ro.UpdatedAt, Reason: ro.HeldReason, RegionErrors: ro.RegionErrors,
		Owner: ro.Owner, Regions: map[string]rollout.Status{},
	}
	for k, v := range ro.Regions {
		rec.Regions[k] = rollout.Status(v)
	}
	return rec, nil
}

func (r records) Journal(ctx context.Context, rolloutID string, e deploy.JournalEntry) error {
	err := r.store.Append(ctx, state.Entry{
		Service: r.service, Stage: r.stage, RolloutID: rolloutID, Time: e.Time,
		Region: e.Region, Step: e.Step, Status: e.Status, Message: e.Message, Attrs: e.Attrs,
	})
	return r.wrap(err)
}

// wrap marks a missing table as deploy.ErrNoStateTable.
func (r records) wrap(err error) error {
	var nf *ddbtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("stage %s: %w %q (%w)", r.stage, deploy.ErrNoStateTable, r.store.Table(), err)
	}
	return err
}

func lockInfo(i *state.LockInfo) *deploy.LockInfo {
	if i == nil {
		return nil
	}
	return &deploy.LockInfo{
		Service: i.Service, Stage: i.Stage, Owner: i.Owner, RolloutID: i.RolloutID, Version: i.Version,
		AcquiredAt: i.AcquiredAt, HeartbeatAt: i.HeartbeatAt, ExpiresAt: i.ExpiresAt, Expired: i.Expired,
	}
}
