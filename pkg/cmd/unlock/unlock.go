// Package unlock implements `gantry unlock`: show a stage's rollout lock
// and break it.
package unlock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil/preflight"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/state"
)

// Options are unlock's flags and arguments.
type Options struct {
	File  string
	Stage string
	Yes   bool
}

// NewCmd builds the unlock command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "unlock FILE --stage S [--yes]",
		Short: "Show and break a stage's rollout lock",
		Long: `Show the rollout lock of a stage (who holds it, for which rollout and
version, since when, and when it expires) and break it.

A rollout (deploy or rollback) holds its stage's lock while it runs and
renews it as it goes; a rollout that crashed leaves it until it
expires (5 minutes by default). Break a lock only when you know that its
rollout is no longer running: one that still is would go on without a lock.

On a terminal gantry asks before it breaks the lock; elsewhere pass --yes,
or it refuses. With no lock held, it says so and succeeds.

Exit status: 0 no lock, or the lock was broken; 1 the question was declined
or the state table could not be read; 2 bad usage, an invalid descriptor,
no terminal to ask on and no --yes, or a set-up problem (no credentials, an
unreachable endpoint, the stage's state table missing).`,
		Example: `  # see who holds the lock of prod, and break it after a confirmation
  $ gantry unlock payments.sd.yaml --stage prod

  # in CI, without a question
  $ gantry unlock payments.sd.yaml --stage prod --yes`,
		Args: cmdutil.ExactArgs(1, "one descriptor FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Stage, "stage", "", "stage whose lock to break (required)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "break the lock without asking (needed without a terminal)")
	return cmd
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	ios := f.IOStreams
	if opts.Stage == "" {
		return cmdutil.UsageErrorf("--stage is required: the stage whose lock to break")
	}
	d, p, err := cmdutil.LoadPlan(ctx, f, opts.File, []string{opts.Stage}, nil)
	if err != nil {
		return err
	}
	st, _ := p.Stage(opts.Stage)
	backend, _, err := preflight.Backend(ctx, f, p, preflight.Check{File: opts.File, Stages: []plan.Stage{st}})
	if err != nil {
		return err
	}
	recs, err := backend.Records(ctx, st)
	if err != nil {
		return cmdutil.Failure(err)
	}
	where := d.Service + "/" + st.Name
	table := fmt.Sprintf("state table %s, account %s, %s", f.AWS.Table(), st.Account, st.StateRegion)

	info, err := recs.LockHolder(ctx)
	if err != nil {
		return cmdutil.Failure(err)
	}
	if info == nil {
		fmt.Fprintf(ios.ErrOut, "No rollout lock is held on %s (%s): nothing to break.\n", where, table)
		return nil
	}
	fmt.Fprintf(ios.Out, "Rollout lock of %s (%s):\n", where, table)
	if err := describe(ios.Out, info, f.TimeNow()); err != nil {
		return fmt.Errorf("writing the lock: %w", err)
	}
	if !opts.Yes {
		if err := confirm(f, where, info); err != nil {
			return err
		}
	}
	return breakLock(ctx, f, recs, where, info)
}

// confirm asks before breaking the lock; without a terminal it refuses
// (exit 2), and a no leaves the lock (exit 1).
func confirm(f *cmdutil.Factory, where string, info *deploy.LockInfo) error {
	if !f.Prompt().CanPrompt() {
		return cmdutil.UsageErrorf("not breaking the lock of %s without a confirmation, and there is no terminal to ask on: pass --yes to break it", where)
	}
	question := "Break this lock? If its rollout is still running, it goes on without a lock."
	if info.Expired {
		question = "Break this lock? It has expired already: the next rollout takes it anyway."
	}
	if ok, err := f.Prompt().Confirm(question); err != nil || !ok {
		return cmdutil.Failure(errors.New("unlock cancelled: the lock is left in place"))
	}
	return nil
}

// breakLock breaks the lock and notes it in the journal of the rollout
// that lost it.
func breakLock(ctx context.Context, f *cmdutil.Factory, recs deploy.Records, where string, info *deploy.LockInfo) error {
	ios := f.IOStreams
	broken, err := recs.BreakLock(ctx)
	if err != nil {
		return cmdutil.Failure(err)
	}
	if broken == nil {
		fmt.Fprintf(ios.ErrOut, "The lock of %s was released meanwhile: nothing to break.\n", where)
		return nil
	}
	if broken.RolloutID != info.RolloutID {
		fmt.Fprintf(ios.ErrOut, "warning: the lock changed hands since it was shown: broke the lock of rollout %s (held by %s, version %s) instead\n",
			broken.RolloutID, broken.Owner, orDash(broken.Version))
	}
	by := state.Owner()
	if err := recs.Journal(ctx, broken.RolloutID, deploy.JournalEntry{
		Stage: broken.Stage, Step: "lock", Status: "broken", Message: "broken by gantry unlock (" + by + ")",
		Attrs: map[string]string{"brokenBy": by},
	}); err != nil {
		fmt.Fprintf(ios.ErrOut, "warning: the lock is broken, but writing that to the journal failed: %v\n", err)
	}
	fmt.Fprintf(ios.ErrOut, "Broke the rollout lock of %s (held by %s, rollout %s).\n", where, broken.Owner, broken.RolloutID)
	return nil
}

// describe writes the lock's fields, one a line.
func describe(w io.Writer, info *deploy.LockInfo, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	status := "held"
	if info.Expired {
		status = "expired (no longer blocks a rollout)"
	}
	fmt.Fprintf(tw, "  holder:\t%s\n", orDash(info.Owner))
	fmt.Fprintf(tw, "  rollout:\t%s\n", orDash(info.RolloutID))
	fmt.Fprintf(tw, "  version:\t%s\n", orDash(info.Version))
	fmt.Fprintf(tw, "  acquired:\t%s\n", when(info.AcquiredAt, now))
	fmt.Fprintf(tw, "  heartbeat:\t%s\n", when(info.HeartbeatAt, now))
	fmt.Fprintf(tw, "  expires:\t%s\n", when(info.ExpiresAt, now))
	fmt.Fprintf(tw, "  state:\t%s\n", status)
	return tw.Flush()
}

// when is "2026-08-28T10:15:00Z (3m0s ago)" or "(in 2m0s)".
func when(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now).Round(time.Second)
	rel := "in " + d.String()
	if d <= 0 {
		rel = (-d).String() + " ago"
	}
	return fmt.Sprintf("%s (%s)", t.UTC().Format(time.RFC3339), rel)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
