// Package awsbackend is the rollout engine's Backend on AWS: CloudFormation
// change sets through pkg/cfn, the state table through pkg/state, alarms
// through CloudWatch, and the platform listener's rule priorities through
// ELBv2 and SSM. Each stage's account is reached through awsx.
package awsbackend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/state"
)

// Configs hands out AWS configs per (account, region); *awsx.Provider is
// one.
type Configs interface {
	Config(ctx context.Context, account, region string) (aws.Config, error)
}

// Options configure a Backend.
type Options struct {
	Configs Configs
	Plan    *plan.Plan
	// Table is the state table's name (state.DefaultTable when empty).
	Table string
	// LeaseTTL is how long a lock lasts without a heartbeat.
	LeaseTTL time.Duration
	// Owner names who holds the lock ("user@host pid N" when empty).
	Owner  string
	Logger *slog.Logger
	// Poll overrides cfn's polling back-off (tests).
	Poll *cfn.Backoff
	// File is the descriptor's path, named in lock messages.
	File string
}

// Backend implements deploy.Backend on AWS.
type Backend struct {
	o Options

	mu     sync.Mutex
	stores map[string]*state.Store // by stage

	took    durations
	stash   stash
	times   opTimes
	views   appViews
	limiter *cfn.Limiter // one process's CloudFormation clients share it
}

// New returns a Backend.
func New(o Options) *Backend {
	if o.Table == "" {
		o.Table = state.DefaultTable
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = state.DefaultLeaseTTL
	}
	if o.Owner == "" {
		o.Owner = state.Owner()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Backend{o: o, stores: map[string]*state.Store{}, took: durations{m: map[string]time.Duration{}}, stash: stash{m: map[string]*preparedSet{}},
		times: opTimes{stages: map[string]map[string]time.Duration{}}, views: appViews{m: map[string]appView{}}, limiter: cfn.NewLimiter()}
}

// durations remembers how long each kind of stack operation took in this
// rollout (data or app stack, create or update). A wave's regions deploy
// the same templates, so what the first wave took is what the next one
// will: its waits poll densely around that time instead of backing off
// past it.
type durations struct {
	mu sync.Mutex
	m  map[string]time.Duration
}

func durationKey(kind, changeSetType string) string { return kind + "/" + changeSetType }

func (d *durations) get(key string) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[key]
}

func (d *durations) put(key string, took time.Duration) {
	if took <= 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[key] = took
}

// Store returns the state store of a stage: the table in the stage's
// account and first region.
func (b *Backend) Store(ctx context.Context, st plan.Stage) (*state.Store, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.stores[st.Name]; ok {
		return s, nil
	}
	cfg, err := b.o.Configs.Config(ctx, st.Account, st.StateRegion)
	if err != nil {
		return nil, fmt.Errorf("reaching the state table of stage %s: %w", st.Name, err)
	}
	s := state.New(dynamodb.NewFromConfig(cfg), b.o.Table)
	s.Logger = b.o.Logger
	b.stores[st.Name] = s
	return s, nil
}

func (b *Backend) stage(name string) (plan.Stage, error) {
	st, ok := b.o.Plan.Stage(name)
	if !ok {
		return plan.Stage{}, fmt.Errorf("stage %q is not in the plan", name)
	}
	return st, nil
}

// Lock takes the stage's rollout lock and keeps it alive until Release.
func (b *Backend) Lock(ctx context.Context, st plan.Stage, rolloutID, version string) (deploy.Lock, error) {
	store, err := b.Store(ctx, st)
	if err != nil {
		return nil, err
	}
	lease, err := store.Acquire(ctx, state.LockRequest{
		Service: b.o.Plan.Service, Stage: st.Name, Owner: b.o.Owner,
		RolloutID: rolloutID, Version: version, TTL: b.o.LeaseTTL,
	})
	if le := (*state.LockedError)(nil); errors.As(err, &le) {
		le.File = b.o.File
	}
	if err != nil {
		return nil, err
	}
	// The heartbeat outlives the caller's ctx only until Release.
	hbCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	lost := state.KeepAlive(hbCtx, lease, b.o.LeaseTTL/3)
	l := &lock{store: store, lease: lease, stop: stop, service: b.o.Plan.Service, stage: st.Name, rolloutID: rolloutID, log: b.o.Logger}
	go func() {
		for err := range lost {
			if err != nil {
				l.log.Warn("rollout lock heartbeat failed", "stage", st.Name, "err", err)
			}
		}
	}()
	return l, nil
}

type lock struct {
	store     *state.Store
	lease     *state.Lease
	stop      context.CancelFunc
	service   string
	stage     string
	rolloutID string
	log       *slog.Logger
}

func (l *lock) Release(ctx context.Context) error {
	l.stop()
	if err := l.lease.Release(ctx); err != nil {
		return fmt.Errorf("releasing the lock of %s/%s: %w", l.service, l.stage, err)
	}
	return nil
}

func (l *lock) Journal(ctx context.Context, e deploy.JournalEntry) error {
	attrs := maps.Clone(e.Attrs)
	if e.Wave > 0 {
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs["wave"] = fmt.Sprint(e.Wave)
	}
	return l.store.Append(ctx, state.Entry{
		Service: l.service, Stage: l.stage, RolloutID: l.rolloutID, Time: e.Time,
		Region: e.Region, Step: e.Step, Status: e.Status, Message: e.Message, Attrs: attrs,
	})
}

func (l *lock) SaveRollout(ctx context.Context, r deploy.RolloutRecord) error {
	regions := make(map[string]string, len(r.Regions))
	for k, v := range r.Regions {
		regions[k] = string(v)
	}
	return l.store.PutRollout(ctx, state.Rollout{
		Service: r.Service, Stage: r.Stage, ID: r.RolloutID, Version: r.Version, Status: r.Status,
		Owner: l.lease.Owner, StartedAt: r.StartedAt, UpdatedAt: r.UpdatedAt, Regions: regions, HeldReason: r.Reason,
		RegionErrors: r.RegionErrors,
	})
}

// Interrupted reports whether the stage's latest rollout record says
// running while no live lock holds that rollout (deploy.InterruptionChecker).
func (b *Backend) Interrupted(ctx context.Context, st plan.Stage) (bool, error) {
	store, err := b.Store(ctx, st)
	if err != nil {
		return false, err
	}
	ro, err := store.LatestRollout(ctx, b.o.Plan.Service, st.Name)
	if err != nil || ro == nil || ro.Status != deploy.RolloutRunning {
		return false, err
	}
	lock, err := store.Lock(ctx, b.o.Plan.Service, st.Name)
	if err != nil {
		return false, err
	}
	return lock == nil || lock.Expired || lock.RolloutID != ro.ID, nil
}

// Region returns the handle of one (stage, region).
func (b *Backend) Region(ctx context.Context, step plan.Step) (deploy.Region, error) {
	st, err := b.stage(step.Stage)
	if err != nil {
		return nil, err
	}
	store, err := b.Store(ctx, st)
	if err != nil {
		return nil, err
	}
	cfg, err := b.o.Configs.Config(ctx, step.Account, step.Region)
	if err != nil {
		return nil, fmt.Errorf("reaching account %s in %s: %w", step.Account, step.Region, err)
	}
	// Every CloudFormation client of the process in this account and
	// region draws on one client-side rate limit, as their calls draw on
	// one quota.
	c := cfn.New(cloudformation.NewFromConfig(cfg, b.limiter.ClientOptions(step.Account, step.Region)))
	b.limiter.Attach(c, step.Account, step.Region)
	c.Logger = b.o.Logger
	if b.o.Poll != nil {
		c.Poll = *b.o.Poll
	}
	return &region{
		stack:   naming.Stack(b.o.Plan.Service, step.Stage, naming.App),
		data:    naming.Stack(b.o.Plan.Service, step.Stage, naming.Data),
		release: naming.Stack(b.o.Plan.Service, step.Stage, naming.Release),
		cfn:     c,
		cw:      cloudwatch.NewFromConfig(cfg),
		elb:     elbv2.NewFromConfig(cfg),
		ssm:     ssm.NewFromConfig(cfg),
		s3:      awsx.NewS3(cfg),
		account: step.Account,
		ecs:     ecs.NewFromConfig(cfg),
		logs:    cloudwatchlogs.NewFromConfig(cfg),
		history: storeHistory{store: store, service: b.o.Plan.Service, stage: step.Stage, region: step.Region},
		took:    &b.took,
		times:   &b.times,
		views:   &b.views,
		stash:   &b.stash,
		stage:   step.Stage,
		name:    step.Region,
	}, nil
}

// storeHistory keeps a region's deployments in the stage's state table.
type storeHistory struct {
	store                  *state.Store
	service, stage, region string
}

func (h storeHistory) save(ctx context.Context, d deploy.Deployment) error {
	sd := state.Deployment{
		Service: d.Service, Stage: d.Stage, Region: d.Region, Version: d.Version,
		Hash: d.Hash, RolloutID: d.RolloutID, DeployedAt: d.DeployedAt, BakedAt: d.BakedAt,
	}
	for _, s := range d.Stacks {
		sd.Stacks = append(sd.Stacks, state.DeployedStack{Name: s.Name, Kind: string(s.Kind), Template: s.Template, Parameters: s.Parameters})
	}
	return h.store.SaveDeployment(ctx, sd)
}

func (h storeHistory) previous(ctx context.Context, notVersion string) (*deploy.Deployment, error) {
	sd, err := h.store.PreviousDeployment(ctx, h.service, h.stage, h.region, notVersion)
	if err != nil || sd == nil {
		return nil, err
	}
	return fromState(sd), nil
}

// fromState converts a stored deployment to the engine's type.
func fromState(sd *state.Deployment) *deploy.Deployment {
	d := &deploy.Deployment{
		Service: sd.Service, Stage: sd.Stage, Region: sd.Region, Version: sd.Version,
		Hash: sd.Hash, RolloutID: sd.RolloutID, DeployedAt: sd.DeployedAt, BakedAt: sd.BakedAt,
	}
	for _, s := range sd.Stacks {
		d.Stacks = append(d.Stacks, deploy.DeployedStack{Name: s.Name, Kind: naming.StackKind(s.Kind), Template: s.Template, Parameters: s.Parameters})
	}
	return d
}
