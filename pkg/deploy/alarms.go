package deploy

import (
	"context"
	"errors"
	"sync"

	"github.com/gantryhq/gantry/internal/crash"
	"github.com/gantryhq/gantry/pkg/plan"
)

// alarmCheckParallel bounds how many regions' alarms are read at once.
const alarmCheckParallel = 8

// checkAlarms makes sure, before anything changes, that every alarm of
// rollout.alarms exists in every region of the plan: a typo there must stop
// the rollout, not silently remove a protection. The alarms gantry renders
// are not checked: the app stack makes them. A region whose alarms cannot
// be read is let through (logged): its bake reads them again and fails on
// one that is missing.
func (r *run) checkAlarms(ctx context.Context) error {
	names := r.d.Rollout.Alarms
	if len(names) == 0 {
		return nil
	}
	steps := r.req.Plan.Steps()
	errs := make([]error, len(steps))
	sem := make(chan struct{}, alarmCheckParallel)
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Go(func() {
			defer crash.Catch(&errs[i])
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = r.missingAlarms(ctx, step, names)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *run) missingAlarms(ctx context.Context, step plan.Step, names []string) error {
	reg, err := r.e.Backend.Region(ctx, step)
	if err == nil {
		var missing []string
		if missing, err = reg.MissingAlarms(ctx, names); err == nil && len(missing) > 0 {
			return &MissingAlarmsError{Where: step.Stage + "/" + step.Region, Names: missing}
		}
	}
	if err != nil {
		r.log.Warn("checking the rollout alarms failed; the bake checks them again", "stage", step.Stage, "region", step.Region, "err", err)
	}
	return nil
}
