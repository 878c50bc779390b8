package awsbackend

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/state"
)

// opTimes are the operation times kept in the state table (per service,
// stage and kind of operation), read once per stage and kept current with
// what this rollout measures. They give a wait its expectation where
// neither this rollout nor the stack's own history has one: the first
// wave of a stack that was never deployed in its region, say a new region
// of a known service.
type opTimes struct {
	mu     sync.Mutex
	stages map[string]map[string]time.Duration // stage -> kind -> took
}

// recordedChange is how far a measured time must be from the recorded one
// to be written: the table keeps an estimate, not every run's noise.
const recordedChange = 0.1

// load returns the stage's recorded times, reading them the first time.
// The caller holds o.mu. A failed read is logged and taken as none: an
// expectation only saves calls.
func (o *opTimes) load(ctx context.Context, h storeHistory, log *slog.Logger) map[string]time.Duration {
	if m, ok := o.stages[h.stage]; ok {
		return m
	}
	m := map[string]time.Duration{}
	got, err := h.store.OperationTimes(ctx, h.service, h.stage)
	if err != nil {
		log.WarnContext(ctx, "could not read the recorded stack operation times; waiting without them", "stage", h.stage, "err", err)
	}
	for k, t := range got {
		m[k] = t.Took
	}
	o.stages[h.stage] = m
	return m
}

// expected is the recorded time of kind in h's stage (0 when none).
func (o *opTimes) expected(ctx context.Context, h storeHistory, kind string, log *slog.Logger) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.load(ctx, h, log)[kind]
}

// record keeps took as kind's time when none is recorded or it differs by
// more than recordedChange from the recorded one.
func (o *opTimes) record(ctx context.Context, h storeHistory, kind string, took time.Duration, log *slog.Logger) {
	if took <= 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.load(ctx, h, log)
	if old := m[kind]; old > 0 && absDuration(took-old) <= time.Duration(recordedChange*float64(old)) {
		return
	}
	if err := h.store.PutOperationTime(ctx, h.service, h.stage, state.OperationTime{Kind: kind, Took: took, Region: h.region}); err != nil {
		log.WarnContext(ctx, "could not record a stack operation time", "stage", h.stage, "kind", kind, "err", err)
		return
	}
	m[kind] = took
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// appViews are the app stacks as Current last described them, by stage
// and region, shared by every handle the engine makes of a region (its
// check before the lock, the change set made ahead, its turn): while one
// is recent it stands in for a fresh describe, which under CloudFormation's
// DescribeStacks quota is one call fewer per region for every rollout of
// the account. It is as safe as the describe it replaces: the stage's lock
// keeps other rollouts away, and a change set made from a stale view is
// refused, or found stale (Executable), and made again. An apply drops its
// region's view.
type appViews struct {
	mu sync.Mutex
	m  map[string]appView
}

type appView struct {
	st *cfn.Stack
	at time.Time
}

// seenFor is how long a described app stack may stand in for a fresh
// describe.
const seenFor = 30 * time.Second

func (v *appViews) get(key string) *cfn.Stack {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.m[key]; ok && time.Since(e.at) <= seenFor {
		return e.st
	}
	return nil
}

func (v *appViews) put(key string, st *cfn.Stack) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m[key] = appView{st: st, at: time.Now()}
}

func (v *appViews) drop(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, key)
}
