// Package status implements `gantry status`: what version runs in every
// stage and region, and any rollout in flight or held.
package status

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/internal/crash"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil/preflight"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
)

// MaxParallel bounds how many regions (and state tables) are read at once.
const MaxParallel = 8

// NotDeployed is the status of a region whose app stack does not exist.
const NotDeployed = "NOT_DEPLOYED"

// Options are status's flags and arguments.
type Options struct {
	File   string
	Stages []string
	Output string
}

// NewCmd builds the status command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "status FILE [flags]",
		Short: "Show what version runs where, and any rollout in flight or held",
		Long: `Show, for every stage and region of the descriptor, the version the app
stack runs (its gantry:version tag), the stack's status and when it was last
deployed; and for every stage the latest rollout (in flight, held, failed or
succeeded, with the regions it rolled back) and who holds the stage's
rollout lock, until when. A region whose app stack does not exist is "not
deployed", unless a data stack is there (one a failed create left
ROLLBACK_COMPLETE, say): then it shows "data stack STATUS". Every region and state
table is read in parallel; nothing is changed.

--output json prints one object:
  {"service","stages":[{"stage","account","lock":{"owner","rolloutId",
   "version","acquiredAt","heartbeatAt","expiresAt","expired"}|null,
   "rollout":{"id","version","status","reason","owner","startedAt",
   "updatedAt"}|null,"regions":[{"region","wave","version","status",
   "updatedAt","error","rollout","rolloutReason","dataStack","canary":{
   "version","stableVersion","weight","step","steps","rolloutId"}}],"error"}]}
where a region's status is the CloudFormation stack status, or NOT_DEPLOYED,
and "canary" is there only while a canary holds part of the region's
traffic (see docs/deploying.md).

Before reading, gantry checks once that it can reach AWS (credentials,
profile, endpoint, the deploy roles) and that some selected stage has its
state table; a problem there is one line with what to do, not one per row.

Exit status: 0 when every region and state table could be read; 1 when
some could not (the rest is still shown, each distinct error once); 2 bad
usage, invalid descriptor, or a set-up problem (no credentials, an unknown
profile, an unreachable endpoint, no selected stage bootstrapped).`,
		Example: `  $ gantry status payments.sd.yaml
  $ gantry status payments.sd.yaml --stage prod
  $ gantry status payments.sd.yaml --output json | jq -r '.stages[].regions[] | "\(.region) \(.version)"'`,
		Args: cmdutil.ExactArgs(1, "one descriptor FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(cmd, f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&opts.Stages, "stage", nil, "show only this stage (repeatable; default all)")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output: text or json")
	return cmd
}

// Status is what --output json prints.
type Status struct {
	Service string  `json:"service"`
	Stages  []Stage `json:"stages"`
}

// Stage is one stage's status.
type Stage struct {
	Stage   string   `json:"stage"`
	Account string   `json:"account"`
	Lock    *Lock    `json:"lock"`
	Rollout *Rollout `json:"rollout"`
	Regions []Region `json:"regions"`
	// Error says why the stage's state table could not be read.
	Error string `json:"error,omitempty"`
	// NoStateTable means the stage's state table does not exist (never
	// bootstrapped): no lock and no rollout to show.
	NoStateTable bool `json:"noStateTable,omitempty"`

	// The latest rollout's per-region statuses and reasons, merged into
	// Regions once everything is read.
	rolloutRegions, rolloutErrors map[string]string
}

// Lock is the holder of a stage's rollout lock.
type Lock struct {
	Owner       string    `json:"owner"`
	RolloutID   string    `json:"rolloutId"`
	Version     string    `json:"version"`
	AcquiredAt  time.Time `json:"acquiredAt"`
	HeartbeatAt time.Time `json:"heartbeatAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
	// Expired means the lease ran out: it no longer blocks a rollout.
	Expired bool `json:"expired"`
}

// Rollout is a stage's latest rollout.
type Rollout struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	// Status is running, held, failed or succeeded.
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`
	Owner     string    `json:"owner"`
	StartedAt time.Time `json:"startedAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Region is one region's app stack.
type Region struct {
	Region string `json:"region"`
	Wave   int    `json:"wave"`
	// Version is the app stack's gantry:version tag; nil when not deployed.
	Version *string `json:"version"`
	// Status is the stack status, or NotDeployed.
	Status string `json:"status"`
	// UpdatedAt is the stack's last update (else creation) time.
	UpdatedAt *time.Time `json:"updatedAt"`
	Error     string     `json:"error,omitempty"`
	// Rollout is the region's status in the stage's latest rollout
	// (deployed, held, failed, ...) and RolloutReason why, when it is not
	// simply done.
	Rollout       string `json:"rollout,omitempty"`
	RolloutReason string `json:"rolloutReason,omitempty"`
	// DataStack is the data stack's status when there is no app stack but
	// a data stack (one a failed create left ROLLBACK_COMPLETE, say).
	DataStack string `json:"dataStack,omitempty"`
	// Canary is the region's traffic split while a canary holds part of
	// it; omitted when all traffic is on one version.
	Canary *Canary `json:"canary,omitempty"`
}

// Canary is a region's traffic split between its stable and canary
// services, as the app stack records it.
type Canary struct {
	// Version is the canary's, StableVersion the stable service's.
	Version       string `json:"version"`
	StableVersion string `json:"stableVersion"`
	// Weight is the canary's percent of the traffic.
	Weight int `json:"weight"`
	// Step of Steps is where the canary is (0 when not recorded).
	Step  int `json:"step"`
	Steps int `json:"steps"`
	// RolloutID is the rollout in charge of the split.
	RolloutID string `json:"rolloutId"`
}

func run(cmd *cobra.Command, f *cmdutil.Factory, opts *Options) error {
	ctx := cmd.Context()
	ios := f.IOStreams
	if err := cmdutil.OneOf("output", opts.Output, "text", "json"); err != nil {
		return err
	}
	_, p, err := cmdutil.LoadPlan(ctx, f, opts.File, opts.Stages, nil)
	if err != nil {
		return err
	}
	// Set-up problems are said once here, not in every row; a stage never
	// bootstrapped is shown as such unless none of them was.
	backend, _, err := preflight.Backend(ctx, f, p, preflight.Check{File: opts.File, Stages: p.Stages, SomeTablesMayBeMissing: true})
	if err != nil {
		return err
	}

	out := read(ctx, f.Log(), backend, p)
	if opts.Output == "json" {
		if err := cmdutil.WriteJSON(ios.Out, out); err != nil {
			return cmdutil.Failure(err)
		}
	} else {
		fmt.Fprint(ios.Out, Text(out, f.TimeNow(), ios.ColorEnabled()))
	}
	return problems(f, opts, out)
}

// problems notes the stages never bootstrapped and fails with what could
// not be read: each distinct error once, with the places it hit.
func problems(f *cmdutil.Factory, opts *Options, out *Status) error {
	var errs []cmdutil.Located
	for _, st := range out.Stages {
		if st.NoStateTable {
			fmt.Fprintf(f.IOStreams.ErrOut, "note: stage %s has no state table %q in account %s (gantry bootstrap %s --stage %s creates it): no lock or rollout to show\n",
				st.Stage, f.AWS.Table(), st.Account, opts.File, st.Stage)
		}
		if st.Error != "" {
			errs = append(errs, cmdutil.Located{Where: st.Stage + " state table", Message: st.Error})
		}
		for _, r := range st.Regions {
			if r.Error != "" {
				errs = append(errs, cmdutil.Located{Where: st.Stage + "/" + r.Region, Message: r.Error})
			}
		}
	}
	if len(errs) > 0 {
		return cmdutil.Failure(fmt.Errorf("could not read %s: %s", cmdutil.Plural(len(errs), "place"), cmdutil.GroupErrors(errs)))
	}
	return nil
}

// read reads every stage's records and every region's app stack, at most
// MaxParallel at a time: each is a round trip to another account or region.
func read(ctx context.Context, log *slog.Logger, backend deploy.Backend, p *plan.Plan) *Status {
	out := &Status{Service: p.Service, Stages: make([]Stage, len(p.Stages))}
	var (
		wg  crash.Group
		sem = make(chan struct{}, MaxParallel)
	)
	spawn := func(fn func()) {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			fn()
		})
	}
	for i, st := range p.Stages {
		out.Stages[i] = Stage{Stage: st.Name, Account: st.Account, Regions: make([]Region, len(st.Steps()))}
		sp := &out.Stages[i]
		spawn(func() { readState(ctx, log, backend, st, sp) })
		for j, step := range st.Steps() {
			rp := &sp.Regions[j]
			spawn(func() { *rp = readRegion(ctx, log, backend, step) })
		}
	}
	wg.Wait()
	for i := range out.Stages {
		st := &out.Stages[i]
		for j := range st.Regions {
			r := &st.Regions[j]
			r.Rollout, r.RolloutReason = st.rolloutRegions[r.Region], st.rolloutErrors[r.Region]
		}
	}
	return out
}

// readState fills the stage's lock and latest rollout from its records.
func readState(ctx context.Context, log *slog.Logger, b deploy.Backend, st plan.Stage, out *Stage) {
	fail := func(err error) {
		if errors.Is(err, deploy.ErrNoStateTable) {
			out.NoStateTable = true
			return
		}
		out.Error = brief(ctx, log, err)
	}
	recs, err := b.Records(ctx, st)
	if err != nil {
		fail(err)
		return
	}
	lock, err := recs.LockHolder(ctx)
	if err != nil {
		fail(err)
		return
	}
	if lock != nil {
		out.Lock = &Lock{
			Owner: lock.Owner, RolloutID: lock.RolloutID, Version: lock.Version,
			AcquiredAt: lock.AcquiredAt, HeartbeatAt: lock.HeartbeatAt, ExpiresAt: lock.ExpiresAt, Expired: lock.Expired,
		}
	}
	ro, err := recs.LatestRollout(ctx)
	if err != nil {
		fail(err)
		return
	}
	if ro != nil {
		out.Rollout = &Rollout{
			ID: ro.RolloutID, Version: ro.Version, Status: ro.Status, Reason: ro.Reason, Owner: ro.Owner,
			StartedAt: ro.StartedAt, UpdatedAt: ro.UpdatedAt,
		}
		out.rolloutRegions = make(map[string]string, len(ro.Regions))
		for region, status := range ro.Regions {
			out.rolloutRegions[region] = string(status)
		}
		out.rolloutErrors = ro.RegionErrors
	}
}

// readRegion describes the region's app stack.
func readRegion(ctx context.Context, log *slog.Logger, b deploy.Backend, step plan.Step) Region {
	r := Region{Region: step.Region, Wave: step.Wave, Status: NotDeployed}
	reg, err := b.Region(ctx, step)
	if err != nil {
		r.Status, r.Error = "UNKNOWN", brief(ctx, log, err)
		return r
	}
	cur, err := reg.Current(ctx)
	if err != nil {
		r.Status, r.Error = "UNKNOWN", brief(ctx, log, err)
		return r
	}
	if !cur.Exists {
		// No app stack; a data stack a failed create left behind is not
		// "not deployed".
		if data, err := reg.Describe(ctx, naming.Data); err == nil && data.Exists {
			r.DataStack = data.Status
		}
		return r
	}
	r.Status = cur.Status
	if cur.Version != "" {
		v := cur.Version
		r.Version = &v
	}
	if !cur.Updated.IsZero() {
		t := cur.Updated.UTC()
		r.UpdatedAt = &t
	}
	if sp := deploy.SplitOf(cur); sp != nil {
		r.Canary = &Canary{Version: sp.Canary, StableVersion: sp.Stable, Weight: sp.Weight, Step: sp.Step, Steps: sp.Steps, RolloutID: sp.RolloutID}
	}
	return r
}

// brief is err shortened for a person; the SDK's whole chain goes to the
// debug log.
func brief(ctx context.Context, log *slog.Logger, err error) string {
	log.DebugContext(ctx, "status: read failed", "err", err.Error())
	return awsx.Brief(err)
}
