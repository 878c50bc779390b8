package unlock_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/unlock"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/deploytest"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/prompt"
)

// fake runs gantry unlock in-process over an in-memory backend holding
// examples/payments' records.
type fake struct {
	f           *cmdutil.Factory
	out, errOut *bytes.Buffer
	b           *deploytest.Backend
}

func newFake() *fake {
	f, out, errOut := cmdutil.TestFactory("v0.0.0-test")
	fk := &fake{f: f, out: out, errOut: errOut, b: deploytest.NewBackend("payments")}
	clock := deploytest.NewClock()
	fk.b.Clock = clock
	f.Now = clock.Now
	f.NewBackend = func(_ context.Context, p *plan.Plan, _ string) (deploy.Backend, error) {
		if p.Service != "payments" {
			return nil, fmt.Errorf("backend for %s", p.Service)
		}
		return fk.b, nil
	}
	return fk
}

func (fk *fake) run(t *testing.T, args ...string) result {
	t.Helper()
	fk.out.Reset()
	fk.errOut.Reset()
	code, err := cmdutil.Execute(context.Background(), unlock.NewCmd(fk.f), args)
	r := result{code, fk.out.String(), fk.errOut.String()}
	if err != nil {
		r.errOut += "error: " + err.Error() + "\n"
	}
	return r
}

func TestUnlockOverFakesNoLock(t *testing.T) {
	t.Parallel()
	fk := newFake()
	fk.f.Prompter = &prompt.Answers{NoTerminal: true}
	r := fk.run(t, payments, "--stage", "prod")
	if r.code != 0 || r.out != "" || !strings.Contains(r.errOut, "No rollout lock is held on payments/prod (state table gantry-state, account 777788889999, us-west-2): nothing to break.") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", r.code, r.out, r.errOut)
	}
	if len(fk.b.CallsOf("break")) != 0 {
		t.Error("broke a lock nobody held")
	}
}

func TestUnlockOverFakesYes(t *testing.T) {
	t.Parallel()
	fk := newFake()
	fk.b.HoldLock("prod", rolloutID)
	answers := &prompt.Answers{}
	fk.f.Prompter = answers
	r := fk.run(t, payments, "--stage", "prod", "--yes")
	if r.code != 0 || !strings.Contains(r.errOut, "Broke the rollout lock of payments/prod (held by test@host pid 1, rollout "+rolloutID+").") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	for _, want := range []string{"Rollout lock of payments/prod", "holder:     test@host pid 1", "rollout:    " + rolloutID, "acquired:   2025-01-01T00:00:00Z (0s ago)", "expires:    2025-01-01T00:05:00Z (in 5m0s)", "state:      held"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.out)
		}
	}
	if fk.b.Locked("prod") || len(answers.Asked) != 0 {
		t.Errorf("locked %v, asked %q", fk.b.Locked("prod"), answers.Asked)
	}
	// The rollout that lost its lock has a journal entry saying so.
	calls := fk.b.CallsOf("journal")
	j := fk.b.Journal()
	if len(calls) != 1 || calls[0].RolloutID != rolloutID || len(j) != 1 || j[0].Step != "lock" || j[0].Status != "broken" || !strings.Contains(j[0].Message, "gantry unlock") {
		t.Errorf("journal calls %+v entries %+v", calls, j)
	}
}

// On a terminal it asks: no leaves the lock (exit 1), yes breaks it.
func TestUnlockOverFakesAsks(t *testing.T) {
	t.Parallel()
	fk := newFake()
	fk.b.HoldLock("prod", rolloutID)
	answers := &prompt.Answers{Replies: []bool{false, true}}
	fk.f.Prompter = answers

	r := fk.run(t, payments, "--stage", "prod")
	if r.code != 1 || !strings.Contains(r.errOut, "left in place") || !fk.b.Locked("prod") {
		t.Errorf("answer no: exit %d, locked %v\nstderr %s", r.code, fk.b.Locked("prod"), r.errOut)
	}
	r = fk.run(t, payments, "--stage", "prod")
	if r.code != 0 || fk.b.Locked("prod") {
		t.Errorf("answer yes: exit %d, locked %v\nstderr %s", r.code, fk.b.Locked("prod"), r.errOut)
	}
	if len(answers.Asked) != 2 || !strings.HasPrefix(answers.Asked[0], "Break this lock?") {
		t.Errorf("asked %q", answers.Asked)
	}
}

// Without a terminal and without --yes: exit 2, the lock shown and kept.
func TestUnlockOverFakesWithoutTerminal(t *testing.T) {
	t.Parallel()
	fk := newFake()
	fk.b.HoldLock("prod", rolloutID)
	fk.f.Prompter = &prompt.Answers{NoTerminal: true}
	r := fk.run(t, payments, "--stage", "prod")
	if r.code != 2 || !strings.Contains(r.errOut, "pass --yes") || !strings.Contains(r.out, rolloutID) || !fk.b.Locked("prod") {
		t.Errorf("exit %d, locked %v\nstdout %s\nstderr %s", r.code, fk.b.Locked("prod"), r.out, r.errOut)
	}
}

// A state table that cannot be read fails (exit 1) and says why.
func TestUnlockOverFakesNoStateTable(t *testing.T) {
	t.Parallel()
	fk := newFake()
	fk.b.RecordsErr = func(string) error {
		return fmt.Errorf("stage prod: %w %q", deploy.ErrNoStateTable, "gantry-state")
	}
	r := fk.run(t, payments, "--stage", "prod", "--yes")
	if r.code != 1 || !strings.Contains(r.errOut, "no state table") {
		t.Errorf("exit %d\nstderr %s", r.code, r.errOut)
	}
}
