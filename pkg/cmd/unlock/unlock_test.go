package unlock_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gantryhq/gantry/internal/cmdtest"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/root"
	"github.com/gantryhq/gantry/pkg/cmd/unlock"
	"github.com/gantryhq/gantry/pkg/state"
)

const (
	payments = "../../../examples/payments/payments.sd.yaml"
	// examples/payments' dev stage keeps its state in this account and region.
	devAccount = "111122223333"
	devRegion  = "us-east-1"
)

func TestMain(m *testing.M) { cmdtest.Main(m) }

func testContext(t *testing.T) context.Context {
	t.Helper()
	return cmdtest.ContextFor(t, 2*time.Minute)
}

type result struct {
	code        int
	out, errOut string
}

// runUnlock runs gantry unlock in-process; a non-empty typed makes stdin
// and stderr terminals with typed as the user's input.
func runUnlock(t *testing.T, typed string, args ...string) result {
	t.Helper()
	f, out, errOut := cmdtest.Factory()
	if typed != "" {
		f.IOStreams.In = strings.NewReader(typed)
		f.IOStreams.SetStdinTTY(true)
		f.IOStreams.SetStderrTTY(true)
	}
	r := cmdtest.Run(testContext(t), f, out, errOut, unlock.NewCmd, args...)
	if r.Err != nil {
		r.Stderr += "error: " + r.Err.Error() + "\n"
	}
	return result{r.Code, r.Stdout, r.Stderr}
}

var bootstrapOnce cmdtest.Once

// bootstrapDev makes the dev stage's state table with gantry bootstrap,
// once for the package.
func bootstrapDev(t *testing.T) {
	t.Helper()
	bootstrapOnce.Bootstrap(t, testContext(t), payments, "--stage", "dev")
}

// descriptor writes examples/payments as service name (its own lock).
func descriptor(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(payments)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "service: payments ", "service: "+name+" ", 1)
	path := filepath.Join(t.TempDir(), name+".sd.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// devStore is the dev stage's state table, reached as gantry reaches it.
func devStore(t *testing.T) *state.Store {
	t.Helper()
	return state.New(dynamodb.NewFromConfig(cmdtest.InAccount(t, testContext(t), devAccount, devRegion)), "")
}

const (
	holder    = "alice@ci-runner-7 pid 4242"
	rolloutID = "20260101T000000.000Z-abcdef"
)

// hold takes service's dev lock as another rollout would; at moves the
// clock the lease is taken by.
func hold(t *testing.T, service string, at time.Time) *state.Store {
	t.Helper()
	store := devStore(t)
	if !at.IsZero() {
		store.Now = func() time.Time { return at }
	}
	if _, err := store.Acquire(testContext(t), state.LockRequest{
		Service: service, Stage: "dev", Owner: holder, RolloutID: rolloutID, Version: "1.4.2", TTL: 5 * time.Minute,
	}); err != nil {
		t.Fatal(err)
	}
	return devStore(t)
}

func lockOf(t *testing.T, store *state.Store, service string) *state.LockInfo {
	t.Helper()
	info, err := store.Lock(testContext(t), service, "dev")
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// --yes breaks a held lock: the lock is shown on stdout, then gone, and
// the broken rollout's journal says so.
func TestUnlockYesBreaksTheLock(t *testing.T) {
	t.Parallel()
	bootstrapDev(t)
	const svc = "ul-yes"
	store := hold(t, svc, time.Time{})

	r := runUnlock(t, "", descriptor(t, svc), "--stage", "dev", "--yes")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	for _, want := range []string{"Rollout lock of " + svc + "/dev", "holder:", holder, "rollout:", rolloutID, "version:", "1.4.2", "acquired:", "expires:", " (in ", "state:", "held"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.out)
		}
	}
	if !strings.Contains(r.errOut, "Broke the rollout lock of "+svc+"/dev") {
		t.Errorf("stderr %q", r.errOut)
	}
	if info := lockOf(t, store, svc); info != nil {
		t.Errorf("lock still there: %+v", info)
	}
	entries, err := store.Journal(testContext(t), svc, "dev", rolloutID)
	if err != nil || len(entries) != 1 || entries[0].Step != "lock" || entries[0].Status != "broken" {
		t.Errorf("journal of the broken rollout: %+v, %v", entries, err)
	}
	// A new rollout can take the lock now.
	if _, err := store.Acquire(testContext(t), state.LockRequest{Service: svc, Stage: "dev", Owner: "bob", RolloutID: "20260101T000100.000Z-123456"}); err != nil {
		t.Errorf("taking the lock after unlock: %v", err)
	}
}

// Without a terminal and without --yes nothing is broken: exit 2, pointing
// at --yes.
func TestUnlockWithoutTerminalNeedsYes(t *testing.T) {
	t.Parallel()
	bootstrapDev(t)
	const svc = "ul-no-tty"
	store := hold(t, svc, time.Time{})

	r := runUnlock(t, "", descriptor(t, svc), "--stage", "dev")
	if r.code != 2 || !strings.Contains(r.errOut, "pass --yes") {
		t.Errorf("exit %d, want 2 with a pointer to --yes\nstderr %s", r.code, r.errOut)
	}
	if !strings.Contains(r.out, holder) {
		t.Errorf("the lock should still be shown:\n%s", r.out)
	}
	if info := lockOf(t, store, svc); info == nil || info.RolloutID != rolloutID {
		t.Errorf("lock after the refusal: %+v", info)
	}
}

// On a terminal it asks: no keeps the lock (exit 1), yes breaks it.
func TestUnlockAsksOnATerminal(t *testing.T) {
	t.Parallel()
	bootstrapDev(t)
	const svc = "ul-tty"
	file := descriptor(t, svc)
	store := hold(t, svc, time.Time{})

	r := runUnlock(t, "\n", file, "--stage", "dev")
	if r.code != 1 || !strings.Contains(r.errOut, "Break this lock?") || !strings.Contains(r.errOut, "[y/N]") || !strings.Contains(r.errOut, "left in place") {
		t.Errorf("answer no: exit %d\nstderr %s", r.code, r.errOut)
	}
	if lockOf(t, store, svc) == nil {
		t.Fatal("the lock was broken without a yes")
	}
	r = runUnlock(t, "y\n", file, "--stage", "dev")
	if r.code != 0 || lockOf(t, store, svc) != nil {
		t.Errorf("answer yes: exit %d, lock %+v\nstderr %s", r.code, lockOf(t, store, svc), r.errOut)
	}
}

// An expired lock is shown as expired, and can be broken too.
func TestUnlockExpiredLock(t *testing.T) {
	t.Parallel()
	bootstrapDev(t)
	const svc = "ul-expired"
	store := hold(t, svc, time.Now().Add(-time.Hour))

	r := runUnlock(t, "", descriptor(t, svc), "--stage", "dev", "--yes")
	if r.code != 0 || !strings.Contains(r.out, "expired (no longer blocks a rollout)") || !strings.Contains(r.out, " ago)") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	if lockOf(t, store, svc) != nil {
		t.Error("expired lock not broken")
	}
}

// No lock: it says so and succeeds, with or without --yes or a terminal.
func TestUnlockNoLock(t *testing.T) {
	t.Parallel()
	bootstrapDev(t)
	file := descriptor(t, "ul-none")
	for _, args := range [][]string{{file, "--stage", "dev"}, {file, "--stage", "dev", "--yes"}} {
		r := runUnlock(t, "", args...)
		if r.code != 0 || r.out != "" || !strings.Contains(r.errOut, "No rollout lock is held on ul-none/dev") {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q", args, r.code, r.out, r.errOut)
		}
	}
}

func TestUnlockUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"--stage", "dev"}, "needs one descriptor FILE"},
		{"no stage", []string{payments}, "--stage is required"},
		{"unknown stage", []string{payments, "--stage", "prd"}, `did you mean "prod"`},
		{"missing file", []string{"nope.sd.yaml", "--stage", "dev"}, "nope.sd.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runUnlock(t, "", tt.args...)
			if r.code != 2 || !strings.Contains(r.errOut, tt.want) || r.out != "" {
				t.Errorf("exit %d, want 2 with %q\nstdout %q\nstderr %q", r.code, tt.want, r.out, r.errOut)
			}
		})
	}
}

// Registered on the root, with an example in its help.
func TestUnlockHelp(t *testing.T) {
	t.Parallel()
	f, out, _ := cmdutil.TestFactory(cmdtest.Version)
	if code := root.Run(testContext(t), f, []string{"unlock", "--help"}); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	if !strings.Contains(out.String(), "Examples:") || !strings.Contains(out.String(), "gantry unlock payments.sd.yaml --stage prod --yes") {
		t.Errorf("--help has no example:\n%s", out)
	}
}
