// Package preflight checks, once and before any rollout work, that gantry
// can reach AWS the way a command on a descriptor needs: who the caller is
// (one GetCallerIdentity per process), then the state table of every
// selected stage, in the stage's account and state region, reached as the
// rollout backend reaches it (assuming the deploy role).
//
// What it finds is a set-up problem that every region would hit alike (no
// credentials, an expired SSO session, an unknown profile, an unreachable
// endpoint, a role that cannot be assumed, a missing state table): it is
// reported once, in a line with the next step, exit 2.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gantryhq/gantry/internal/crash"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/awsbackend"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/state"
)

// Identity finds who the caller is; *awsx.Provider is one (it caches the
// answer, so the backend's later calls reuse it).
type Identity interface {
	CallerIdentity(ctx context.Context, region string) (*awsx.Identity, error)
}

// Stores reaches a stage's state table; *awsbackend.Backend is one (it
// caches the store, so the command's later calls reuse it).
type Stores interface {
	Store(ctx context.Context, st plan.Stage) (*state.Store, error)
}

// Check is what to check.
type Check struct {
	// File is the descriptor's path, named in the bootstrap hint.
	File string
	// Stages are the stages the command acts on.
	Stages   []plan.Stage
	Identity Identity
	Stores   Stores
	// SomeTablesMayBeMissing lets stages without a state table through as
	// long as one selected stage has its table (gantry status shows the
	// others as never bootstrapped). Otherwise any missing table refuses.
	SomeTablesMayBeMissing bool
}

// Result is what the check found that is not an error.
type Result struct {
	// Identity is the caller.
	Identity *awsx.Identity
	// Missing are the stages whose state table does not exist (only with
	// SomeTablesMayBeMissing).
	Missing []plan.Stage
}

// Run checks c and returns a set-up problem (exit 2, with the next step)
// or an AWS failure (exit 1) as the command's error.
func Run(ctx context.Context, f *cmdutil.Factory, c Check) (Result, error) {
	var res Result
	if len(c.Stages) == 0 {
		return res, nil
	}
	id, err := c.Identity.CallerIdentity(ctx, c.Stages[0].StateRegion)
	if err != nil {
		return res, cmdutil.AWSError(err, f.AWS.Setting())
	}
	res.Identity = id
	f.Log().DebugContext(ctx, "preflight: caller identity", "account", id.Account, "arn", id.ARN)

	found := make([]tableCheck, len(c.Stages))
	var wg crash.Group
	for i, st := range c.Stages {
		wg.Go(func() { found[i] = checkTable(ctx, c.Stores, st) })
	}
	wg.Wait()
	if err := firstError(ctx, f, found); err != nil {
		return res, err
	}
	for i, fc := range found {
		if !fc.exists {
			res.Missing = append(res.Missing, c.Stages[i])
		}
	}
	if len(res.Missing) == 0 || (c.SomeTablesMayBeMissing && len(res.Missing) < len(c.Stages)) {
		return res, nil
	}
	return res, missingTables(f, c.File, res.Missing)
}

// tableCheck is what was found of one stage's state table.
type tableCheck struct {
	stage  plan.Stage
	exists bool
	err    error
}

func checkTable(ctx context.Context, stores Stores, st plan.Stage) tableCheck {
	out := tableCheck{stage: st}
	store, err := stores.Store(ctx, st)
	if err != nil {
		out.err = err
		return out
	}
	out.exists, out.err = store.TableExists(ctx)
	if out.err != nil {
		out.err = fmt.Errorf("stage %s: %w", st.Name, out.err)
	}
	return out
}

// firstError reports the first stage's error: the others fail alike, and
// one line is enough to act on (they go to the debug log).
func firstError(ctx context.Context, f *cmdutil.Factory, found []tableCheck) error {
	var first error
	for _, fc := range found {
		switch {
		case fc.err == nil:
		case first == nil:
			first = fc.err
		default:
			f.Log().DebugContext(ctx, "preflight: stage failed too", "stage", fc.stage.Name, "err", fc.err.Error())
		}
	}
	if first == nil {
		return nil
	}
	return cmdutil.AWSError(first, f.AWS.Setting())
}

// missingTables is the set-up problem of stages never bootstrapped, with
// the bootstrap command that fixes it.
func missingTables(f *cmdutil.Factory, file string, missing []plan.Stage) error {
	table := f.AWS.StateTable
	if table == "" {
		table = state.DefaultTable
	}
	var names, where []string
	cmd := "gantry bootstrap " + file
	for _, st := range missing {
		names = append(names, st.Name)
		where = append(where, fmt.Sprintf("%s in %s", st.Account, st.StateRegion))
		cmd += " --stage " + st.Name
	}
	cmd += globalFlags(f)
	msg := fmt.Sprintf("stage %s has no state table %q (account %s): it was never bootstrapped", names[0], table, where[0])
	if len(missing) > 1 {
		msg = fmt.Sprintf("stages %s have no state table %q (accounts %s): they were never bootstrapped",
			strings.Join(names, ", "), table, strings.Join(where, ", "))
	}
	return cmdutil.SetupProblem(errors.New(msg), "run "+cmd+" (it creates the table), then run this command again")
}

// globalFlags repeats the AWS flags this run was given, so that the hint
// reaches the same accounts.
func globalFlags(f *cmdutil.Factory) string {
	var s string
	if f.AWS.Profile != "" {
		s += " --profile " + f.AWS.Profile
	}
	if f.AWS.EndpointURL != "" {
		s += " --endpoint-url " + f.AWS.EndpointURL
	}
	if f.AWS.RoleName != "" && f.AWS.RoleName != awsx.DefaultRoleName {
		s += " --role-name " + f.AWS.RoleName
	}
	if f.AWS.StateTable != "" && f.AWS.StateTable != state.DefaultTable {
		s += " --state-table " + f.AWS.StateTable
	}
	return s
}

// Backend returns the rollout backend for p and, when it is the AWS one,
// runs the check on it first (c.Identity and c.Stores are filled in): what
// every command on a descriptor does before it talks to AWS any further.
// A backend handed in through the Factory (tests' fakes) is not checked.
func Backend(ctx context.Context, f *cmdutil.Factory, p *plan.Plan, c Check) (deploy.Backend, Result, error) {
	if f.NewBackend != nil {
		be, err := f.NewBackend(ctx, p, c.File)
		if err != nil {
			return nil, Result{}, cmdutil.Failure(err)
		}
		return be, Result{}, nil
	}
	provider, err := f.AWS.Provider(ctx, f.Log())
	if err != nil {
		return nil, Result{}, err
	}
	be := awsbackend.New(awsbackend.Options{Configs: provider, Plan: p, Table: f.AWS.Table(), Logger: f.Log(), File: c.File})
	c.Identity, c.Stores = provider, be
	res, err := Run(ctx, f, c)
	if err != nil {
		return nil, res, err
	}
	return be, res, nil
}
