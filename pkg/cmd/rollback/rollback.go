// Package rollback implements `gantry rollback`: redeploy the exact
// templates and parameters of an earlier version in one (stage, region).
package rollback

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/preflight"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/awsbackend"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/progress"
	"github.com/gantryhq/gantry/pkg/state"
)

// Options are rollback's flags and arguments.
type Options struct {
	File          string
	Stage         string
	Region        string
	To            string
	AllowDataLoss bool
	Yes           bool
	Output        string
}

// NewCmd builds the rollback command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "rollback FILE --stage S --region R [--to V] [flags]",
		Short: "Redeploy an earlier version's exact templates in one region",
		Long: `Redeploy the exact templates and parameters, byte for byte, that an
earlier version was deployed with in one (stage, region), as recorded in the
stage's state table: --to VERSION, or by default the latest recorded
deployment of a version other than the one the app stack runs now (so two
rollbacks in a row go back and forth, like kubectl rollout undo).

The data stack goes first (unchanged unless the versions differ there),
then the app stack. The stage's rollout lock is held meanwhile, as for a
deploy, and the rollback is written to the stage's journal. A rollback that
would replace or delete a database, cache or bucket is refused unless
--allow-data-loss.

On a terminal gantry asks before it starts (--yes skips the question);
without one it does not ask: the command already names what to do.

The descriptor is read for the service, the stage's account and regions
and its tags; the templates come from the state table, not from rendering
the descriptor again. A later "gantry deploy" of a newer version deploys it
again as usual.

Exit status: 0 rolled back (or already at that version), 1 failed, the
lock is held, or the question was declined, 2 bad usage, an invalid
descriptor, no such version recorded (the recorded ones are listed), or a
set-up problem (no credentials, an unreachable endpoint, no state table).`,
		Example: `  # back to whatever ran before the current version
  $ gantry rollback payments.sd.yaml --stage prod --region us-east-1

  # back to a named version, from CI
  $ gantry rollback payments.sd.yaml --stage prod --region eu-west-1 --to 1.4.1 --output json`,
		Args: cmdutil.ExactArgs(1, "one descriptor FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Stage, "stage", "", "stage to roll back (required)")
	fl.StringVar(&opts.Region, "region", "", "region of the stage to roll back (required)")
	fl.StringVar(&opts.To, "to", "", "version to go back to (default: the one deployed before the current one)")
	fl.BoolVar(&opts.AllowDataLoss, "allow-data-loss", false, "allow changes that replace or delete databases, caches or buckets")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation on a terminal")
	fl.StringVarP(&opts.Output, "output", "o", "text", "final result: text or json")
	return cmd
}

// target is what a rollback goes from and to.
type target struct {
	where   string // service/stage/region
	current deploy.Current
	dep     *deploy.Deployment
}

// from names what the app stack runs now.
func (t target) from() string {
	switch {
	case !t.current.Exists:
		return "nothing (no app stack)"
	case t.current.Version == "":
		return "an untagged stack"
	}
	return t.current.Version
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	ios := f.IOStreams
	switch {
	case opts.Stage == "":
		return cmdutil.UsageErrorf("--stage is required: the stage to roll back")
	case opts.Region == "":
		return cmdutil.UsageErrorf("--region is required: a rollback acts on one region of a stage")
	}
	if err := cmdutil.OneOf("output", opts.Output, "text", "json"); err != nil {
		return err
	}
	d, err := cmdutil.LoadDescriptor(ctx, f, opts.File)
	if err != nil {
		return err
	}
	if err := cmdutil.CheckSelection(d, []string{opts.Stage}, []string{opts.Region}); err != nil {
		return err
	}
	p, err := plan.Build(d, []string{opts.Stage})
	if err != nil {
		return cmdutil.InputError(err)
	}
	st, _ := p.Stage(opts.Stage)
	var step plan.Step
	for _, s := range st.Steps() {
		if s.Region == opts.Region {
			step = s
		}
	}
	be, _, err := preflight.Backend(ctx, f, p, preflight.Check{File: opts.File, Stages: []plan.Stage{st}})
	if err != nil {
		return err
	}
	store, err := be.Store(ctx, st)
	if err != nil {
		return cmdutil.Failure(err)
	}
	reg, err := be.Region(ctx, step)
	if err != nil {
		return cmdutil.Failure(err)
	}

	t := target{where: d.Service + "/" + step.Stage + "/" + step.Region}
	if t.current, err = reg.Current(ctx); err != nil {
		return cmdutil.Failure(err)
	}
	if t.dep, err = resolve(ctx, store, d.Service, step, t.current, opts.To); err != nil {
		return err
	}
	ref := progress.Ref{Stage: step.Stage, Region: step.Region, Wave: step.Wave}
	res := &progress.Result{Service: d.Service, Version: t.dep.Version}
	if t.current.Complete() && t.current.Version == t.dep.Version && t.current.Hash == t.dep.Hash {
		fmt.Fprintf(ios.ErrOut, "%s already runs version %s, with the recorded templates: nothing to do\n", t.where, t.dep.Version)
		res.Result = progress.Succeeded
		res.Regions = []progress.RegionResult{{Stage: ref.Stage, Region: ref.Region, Wave: ref.Wave, Status: progress.StatusUnchanged}}
		return report(f, opts, t, res)
	}

	// A held lock fails now, before anyone is asked anything.
	if info, err := store.Lock(ctx, d.Service, st.Name); err != nil {
		return cmdutil.Failure(err)
	} else if info != nil && !info.Expired {
		return cmdutil.Failure(fmt.Errorf("cannot roll back %s: %w", t.where, lockedError(info)))
	}
	if err := confirm(f, opts, t); err != nil {
		return err
	}

	rolloutID := state.NewRolloutID(time.Now())
	lock, err := be.Lock(ctx, st, rolloutID, t.dep.Version)
	if err != nil {
		return cmdutil.Failure(fmt.Errorf("cannot roll back %s: %w", t.where, err))
	}
	res.RolloutID = rolloutID
	obs, stop := observer(f)
	defer stop()
	j := &journal{lock: lock, stage: st.Name, obs: obs, log: f.Log()}
	started := time.Now()
	record := func(ctx context.Context, status string, regionStatus progress.Status, reason string) {
		j.saveRollout(ctx, deploy.RolloutRecord{
			RolloutID: rolloutID, Service: d.Service, Stage: st.Name, Version: t.dep.Version, Status: status,
			StartedAt: started, UpdatedAt: time.Now(), Regions: map[string]deploy.Status{step.Region: regionStatus}, Reason: reason,
		})
	}
	defer func() {
		bg, cancel := detached(ctx)
		defer cancel()
		if err := lock.Release(bg); err != nil {
			obs.Message(progress.Ref{Stage: st.Name}, slog.LevelWarn,
				fmt.Sprintf("releasing the rollout lock failed (it expires on its own; `gantry unlock` breaks it): %v", err))
		}
	}()
	// What was decided (and perhaps confirmed) must still hold under the lock.
	if now, err := reg.Current(ctx); err != nil {
		return cmdutil.Failure(err)
	} else if now.Exists != t.current.Exists || now.Version != t.current.Version || now.Hash != t.current.Hash {
		return cmdutil.Failure(fmt.Errorf("the app stack of %s changed (now %q) since the rollback was decided; nothing was done: run the rollback again",
			t.where, now.Version))
	}
	j.entry(ctx, deploy.JournalEntry{Step: "lock", Status: "taken", Attrs: map[string]string{"version": t.dep.Version, "command": "rollback"}})
	reason := fmt.Sprintf("rollback of %s from %s to %s", step.Region, t.from(), t.dep.Version)
	record(ctx, deploy.RolloutRunning, progress.StatusPending, reason)

	obs.Message(progress.Ref{}, slog.LevelInfo, fmt.Sprintf("rolling back %s from %s to %s (recorded %s, rollout %s)",
		t.where, t.from(), t.dep.Version, t.dep.DeployedAt.Format(time.RFC3339), rolloutID))
	obs.RegionStarted(ref)
	rr, restoreErr := restore(ctx, d.Service, deploy.BaseTags(d, st.Name), reg, t, ref, opts, j, obs)
	if restoreErr != nil {
		res.Result = progress.Failed
		record(ctx, deploy.RolloutFailed, rr.Status, rr.Error)
		j.entry(ctx, deploy.JournalEntry{Step: "stage", Status: deploy.RolloutFailed, Message: rr.Error})
	} else {
		res.Result = progress.Succeeded
		record(ctx, deploy.RolloutSucceeded, rr.Status, "")
		j.entry(ctx, deploy.JournalEntry{Step: "stage", Status: deploy.RolloutSucceeded, Message: reason})
	}
	res.Regions = []progress.RegionResult{rr}
	obs.RegionDone(ref, rr)
	obs.RolloutDone(res)
	stop()
	if err := report(f, opts, t, res); err != nil {
		return err
	}
	if restoreErr != nil {
		return cmdutil.SilentExit(cmdutil.ExitError) // the progress view showed why
	}
	return nil
}

// resolve finds the deployment to go back to: --to's, or the latest of a
// version other than the one running now.
func resolve(ctx context.Context, store *state.Store, service string, step plan.Step, cur deploy.Current, to string) (*deploy.Deployment, error) {
	where := service + "/" + step.Stage + "/" + step.Region
	if to != "" {
		sd, err := store.GetDeployment(ctx, service, step.Stage, step.Region, to)
		if err != nil {
			return nil, cmdutil.Failure(err)
		}
		if sd == nil {
			return nil, notRecorded(ctx, store, service, step, fmt.Sprintf("version %s was never deployed to %s", to, where))
		}
		return awsbackend.FromState(sd), nil
	}
	if !cur.Exists {
		return nil, notRecorded(ctx, store, service, step,
			fmt.Sprintf("%s has no app stack (%s-%s-app), so there is no current version to go back from; name one with --to", where, service, step.Stage))
	}
	sd, err := store.PreviousDeployment(ctx, service, step.Stage, step.Region, cur.Version)
	if err != nil {
		return nil, cmdutil.Failure(err)
	}
	if sd == nil {
		now := cur.Version
		if now == "" {
			now = "an untagged app stack"
		}
		return nil, notRecorded(ctx, store, service, step,
			fmt.Sprintf("no version other than the current one (%s) was ever deployed to %s: nothing to roll back to", now, where))
	}
	return awsbackend.FromState(sd), nil
}

// maxListed bounds the versions an error message lists.
const maxListed = 15

// notRecorded is the exit-2 error for a version that is not there, with
// the versions that are.
func notRecorded(ctx context.Context, store *state.Store, service string, step plan.Step, msg string) error {
	list, err := store.ListDeployments(ctx, service, step.Stage, step.Region)
	if err != nil {
		return cmdutil.InputError(fmt.Errorf("%s (and listing the recorded versions failed: %w)", msg, err))
	}
	if len(list) == 0 {
		return cmdutil.InputError(fmt.Errorf("%s; no deployment at all is recorded for %s/%s/%s in state table %s of account %s",
			msg, service, step.Stage, step.Region, store.Table(), step.Account))
	}
	seen := map[string]bool{}
	var lines []string
	more := 0
	for _, s := range list {
		if seen[s.Version] {
			continue
		}
		seen[s.Version] = true
		if len(lines) == maxListed {
			more++
			continue
		}
		lines = append(lines, fmt.Sprintf("  %-20s last deployed %s", s.Version, s.DeployedAt.Format(time.RFC3339)))
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("  ... and %d older", more))
	}
	return cmdutil.InputError(fmt.Errorf("%s; recorded versions, newest first:\n%s", msg, strings.Join(lines, "\n")))
}

// lockedError describes a held lock as Acquire would.
func lockedError(info *state.LockInfo) error {
	return &state.LockedError{
		Service: info.Service, Stage: info.Stage, Holder: info.Owner, RolloutID: info.RolloutID,
		Version: info.Version, Expires: info.ExpiresAt, Remaining: max(time.Until(info.ExpiresAt), 0),
	}
}

// confirm asks on a terminal unless --yes; without one it says that it
// does not ask.
func confirm(f *cmdutil.Factory, opts *Options, t target) error {
	ios := f.IOStreams
	if opts.Yes {
		return nil
	}
	if !ios.IsStdinTTY() || !ios.IsStderrTTY() {
		fmt.Fprintf(ios.ErrOut, "no terminal: rolling back without asking (the command names what to do)\n")
		return nil
	}
	fmt.Fprintf(ios.ErrOut, "Roll %s back from %s to %s? [y/N] ", t.where, t.from(), t.dep.Version)
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	if (err != nil && line == "") || (answer != "y" && answer != "yes") {
		return cmdutil.Failure(errors.New("rollback cancelled: nothing was changed"))
	}
	return nil
}

// restore runs deploy.Restore on the region and gives the region's result.
func restore(ctx context.Context, service string, tags map[string]string, reg deploy.Region, t target, ref progress.Ref,
	opts *Options, j *journal, obs progress.Observer) (progress.RegionResult, error) {
	rr := progress.RegionResult{Stage: ref.Stage, Region: ref.Region, Wave: ref.Wave}
	j.entry(ctx, deploy.JournalEntry{Region: ref.Region, Wave: ref.Wave, Step: "rollback", Status: "started",
		Message: fmt.Sprintf("from %s to %s", t.from(), t.dep.Version),
		Attrs: map[string]string{
			"fromVersion": t.current.Version, "fromHash": t.current.Hash,
			"version": t.dep.Version, "hash": t.dep.Hash, "recordedRollout": t.dep.RolloutID,
			"allowDataLoss": fmt.Sprint(opts.AllowDataLoss),
		}})
	tracked := &trackedRegion{Region: reg, ref: ref, obs: obs, j: j}
	outs, err := deploy.Restore(ctx, tracked, t.dep, deploy.RestoreOptions{
		Tags: tags, AllowDataLoss: opts.AllowDataLoss, Observer: stackObserver{obs, ref},
	})
	for _, o := range outs {
		sr := progress.StackResult{Name: o.Name, Kind: o.Kind, Action: progress.ActionRestore, Status: o.Status, Changes: o.Changes}
		if o.Action == deploy.ActionUnchanged {
			sr.Action = progress.ActionUnchanged
		}
		rr.Stacks = append(rr.Stacks, sr)
	}
	if err != nil {
		rr.Status = progress.StatusFailed
		rr.Error = fmt.Sprintf("rolling back from %s to %s failed: %v", t.from(), t.dep.Version, err)
		obs.Message(ref, slog.LevelError, rr.Error)
		j.entry(ctx, deploy.JournalEntry{Region: ref.Region, Wave: ref.Wave, Step: "rollback", Status: "failed", Message: err.Error()})
		return rr, err
	}
	rr.Status = progress.StatusRolledBack
	rr.Error = fmt.Sprintf("rolled back from %s to %s", t.from(), t.dep.Version)
	j.entry(ctx, deploy.JournalEntry{Region: ref.Region, Wave: ref.Wave, Step: "rollback", Status: string(progress.StatusRolledBack),
		Message: rr.Error, Attrs: map[string]string{"version": t.dep.Version, "hash": t.dep.Hash}})
	return rr, nil
}

// trackedRegion shows and journals each stack Restore applies.
type trackedRegion struct {
	deploy.Region
	ref progress.Ref
	obs progress.Observer
	j   *journal
}

func (r *trackedRegion) Apply(ctx context.Context, a deploy.StackApply, so deploy.StackObserver) (deploy.StackOutcome, error) {
	step := progress.StepApp
	if a.Kind == deploy.KindData {
		step = progress.StepData
	}
	r.obs.StepChanged(r.ref, step, a.Name)
	r.j.entry(ctx, deploy.JournalEntry{Region: r.ref.Region, Wave: r.ref.Wave, Step: string(step), Status: "started", Message: a.Name})
	out, err := r.Region.Apply(ctx, a, so)
	status := out.Action
	msg := a.Name
	if err != nil {
		status, msg = "failed", err.Error()
	}
	r.j.entry(ctx, deploy.JournalEntry{Region: r.ref.Region, Wave: r.ref.Wave, Step: string(step), Status: status, Message: msg,
		Attrs: map[string]string{"stack": a.Name, "stackStatus": out.Status, "changes": fmt.Sprint(out.Changes)}})
	return out, err
}

// stackObserver binds stack events to the region.
type stackObserver struct {
	obs progress.Observer
	ref progress.Ref
}

func (s stackObserver) StackEvent(e deploy.StackEvent) { s.obs.StackEvent(s.ref, e) }

// journal writes the stage's journal and rollout record through the lock.
// A failed write is a warning, never fatal: the stacks are the truth.
type journal struct {
	lock   deploy.Lock
	stage  string
	obs    progress.Observer
	log    *slog.Logger
	warned bool
}

func (j *journal) entry(ctx context.Context, e deploy.JournalEntry) {
	e.Stage = j.stage
	wctx, cancel := detached(ctx)
	defer cancel()
	j.check(j.lock.Journal(wctx, e), "journal")
}

func (j *journal) saveRollout(ctx context.Context, r deploy.RolloutRecord) {
	wctx, cancel := detached(ctx)
	defer cancel()
	j.check(j.lock.SaveRollout(wctx, r), "rollout record")
}

func (j *journal) check(err error, what string) {
	if err == nil {
		return
	}
	j.log.Warn("writing the "+what+" failed", "err", err)
	if !j.warned {
		j.warned = true
		j.obs.Message(progress.Ref{Stage: j.stage}, slog.LevelWarn, fmt.Sprintf("writing the %s failed (the rollback goes on): %v", what, err))
	}
}

// detached is a context for bookkeeping that must happen even when ctx is
// cancelled (the last journal entries, releasing the lock).
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// observer is the live view on a terminal and plain lines elsewhere, both
// on stderr so that stdout stays for the result.
func observer(f *cmdutil.Factory) (progress.Observer, func()) {
	ios := f.IOStreams
	if !ios.IsStderrTTY() {
		return progress.NewPlain(ios.ErrOut, nil), func() {}
	}
	tty := progress.NewTTY(ios.ErrOut, progress.TTYOptions{Color: ios.ColorEnabledStderr(), Width: ios.TerminalWidth()})
	tty.Start()
	return tty, tty.Stop
}

// report prints the result: one line of text, or the deploy result's JSON.
func report(f *cmdutil.Factory, opts *Options, t target, res *progress.Result) error {
	ios := f.IOStreams
	if opts.Output == "json" {
		b, err := json.Marshal(res)
		if err != nil {
			return fmt.Errorf("encoding the result: %w", err)
		}
		fmt.Fprintln(ios.Out, string(b))
		return nil
	}
	rr := res.Regions[0]
	var line string
	switch rr.Status {
	case progress.StatusUnchanged:
		line = fmt.Sprintf("unchanged: %s already runs %s", t.where, t.dep.Version)
	case progress.StatusRolledBack:
		line = fmt.Sprintf("rolled back: %s from %s to %s", t.where, t.from(), t.dep.Version)
	default:
		line = fmt.Sprintf("failed: %s not rolled back to %s (the error is above)", t.where, t.dep.Version)
	}
	if s := describeStacks(rr.Stacks); s != "" && rr.Status != progress.StatusFailed {
		line += " (" + s + ")"
	}
	fmt.Fprintln(ios.Out, line)
	return nil
}

// describeStacks is "data: unchanged; app: restore (3 changes)".
func describeStacks(ss []progress.StackResult) string {
	var parts []string
	for _, s := range ss {
		p := s.Kind + ": " + s.Action
		switch {
		case s.Changes == 1:
			p += " (1 change)"
		case s.Changes > 1:
			p += fmt.Sprintf(" (%d changes)", s.Changes)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}
