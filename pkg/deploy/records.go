package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNoStateTable is Records' error (wrapped) when the stage's account has
// no state table: the stage was never bootstrapped.
var ErrNoStateTable = errors.New("no state table")

// Records are one stage's records in its state table, as `gantry status`
// shows them and `gantry unlock` breaks them.
type Records interface {
	// LockHolder returns the stage's rollout lock, nil when nobody holds it.
	LockHolder(ctx context.Context) (*LockInfo, error)
	// BreakLock deletes the lock whoever holds it and returns what it was
	// (nil when there was none).
	BreakLock(ctx context.Context) (*LockInfo, error)
	// LatestRollout returns the stage's newest rollout record, nil when
	// there is none.
	LatestRollout(ctx context.Context) (*RolloutRecord, error)
	// Journal appends e to the journal of rollout rolloutID: unlock leaves
	// a trace there that it broke that rollout's lock.
	Journal(ctx context.Context, rolloutID string, e JournalEntry) error
}

// LockInfo describes a held (or expired) stage lock.
type LockInfo struct {
	Service, Stage string
	Owner          string
	RolloutID      string
	Version        string
	AcquiredAt     time.Time
	HeartbeatAt    time.Time
	ExpiresAt      time.Time
	// Expired means the lease ran out: anyone may take the lock.
	Expired bool
}

// DeploymentSummary is a recorded deployment without its templates.
type DeploymentSummary struct {
	Version    string
	Hash       string
	RolloutID  string
	DeployedAt time.Time
}

// MissingAlarmsError says that alarms a bake must watch do not exist: a
// typo in rollout.alarms, or an alarm deleted, must never read as healthy.
type MissingAlarmsError struct {
	// Where is stage/region, or "" when the names say it.
	Where string
	Names []string
}

func (e *MissingAlarmsError) Error() string {
	noun, verb := "alarm", "does"
	if len(e.Names) > 1 {
		noun, verb = "alarms", "do"
	}
	msg := fmt.Sprintf("%s %s %s not exist", noun, joinNames(e.Names), verb)
	if e.Where != "" {
		msg = e.Where + ": " + msg
	}
	return msg + ", so the bake cannot watch it: create it, or fix its name in rollout.alarms"
}
