package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gantryhq/gantry/pkg/rollout"
)

// journal writes a stage's journal and rollout record through its lock,
// in order, from one goroutine of its own: a region never waits for a
// write (eight regions starting at once would otherwise queue behind each
// other's writes). close waits for everything queued. A failed write is
// logged and shown once, never fatal: the journal is a record, the stacks
// are the truth. Deploy and rollback both write through it.
type journal struct {
	lock    Lock
	stage   string
	clock   Clock
	obs     rollout.Observer
	log     *slog.Logger
	started time.Time

	ch   chan journalWrite
	done chan struct{}

	mu      sync.Mutex
	warned  bool
	rollout *RolloutRecord // the newest record not yet written
}

// journalWrite is one queued write: an entry, or the newest rollout
// record.
type journalWrite struct {
	entry   *JournalEntry
	rollout bool
}

// journalTimeout bounds one write.
const journalTimeout = 30 * time.Second

func newJournal(lock Lock, stage string, clock Clock, obs rollout.Observer, log *slog.Logger) *journal {
	j := &journal{lock: lock, stage: stage, clock: clock, obs: obs, log: log, started: clock.Now(),
		ch: make(chan journalWrite, 256), done: make(chan struct{})}
	go j.write()
	return j
}

func (j *journal) write() {
	defer close(j.done)
	for w := range j.ch {
		ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
		switch {
		case w.entry != nil:
			j.check(j.lock.Journal(ctx, *w.entry), "journal")
		case w.rollout:
			j.mu.Lock()
			rec := j.rollout
			j.rollout = nil
			j.mu.Unlock()
			if rec != nil { // else a newer record was already written
				j.check(j.lock.SaveRollout(ctx, *rec), "rollout record")
			}
		}
		cancel()
	}
}

// close writes everything queued, then stops the writer.
func (j *journal) close() {
	close(j.ch)
	<-j.done
}

// region queues an entry about one region.
func (j *journal) region(ref rollout.Ref, step, status, msg string, attrs map[string]string) {
	j.entry(JournalEntry{Region: ref.Region, Wave: ref.Wave, Step: step, Status: status, Message: msg, Attrs: attrs})
}

// entry queues an entry, stamped with the stage and the time.
func (j *journal) entry(e JournalEntry) {
	e.Stage = j.stage
	e.Time = j.clock.Now()
	j.ch <- journalWrite{entry: &e}
}

// saveRollout queues the rollout record; queued records not yet written
// when a newer one comes are skipped.
func (j *journal) saveRollout(rec RolloutRecord) {
	j.mu.Lock()
	j.rollout = &rec
	j.mu.Unlock()
	j.ch <- journalWrite{rollout: true}
}

func (j *journal) check(err error, what string) {
	if err == nil {
		return
	}
	j.log.Warn("writing the "+what+" failed", "err", err)
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.warned {
		j.warned = true
		j.obs.Message(rollout.Ref{Stage: j.stage}, slog.LevelWarn, fmt.Sprintf("writing the %s failed (the rollout goes on): %v", what, err))
	}
}
