package rollout

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// NewID returns a new rollout ID that sorts by start time, as the state
// table needs (the latest rollout is the greatest sort key):
// 20260828T101500.123Z-1a2b3c. Every rollout, deploy or rollback, gets one.
func NewID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}
