package deploy

import (
	"context"
	"sync"

	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/plan"
)

// Preparer is a Region that can make a stack's change set before the
// region's turn, while an earlier wave of its stage deploys, so that its
// turn starts executing at once: on CloudFormation a change set takes
// seconds to make, which would otherwise be added to every wave. Preparing
// executes nothing (for a region never deployed, CloudFormation holds the
// change set on an empty REVIEW_IN_PROGRESS stack, deleted with it if it
// goes unused); the gate is still evaluated when the region's turn comes.
type Preparer interface {
	// Prepare makes a's change set and keeps it for an Apply of the same
	// StackApply (the same template, parameters and tags). It reports
	// whether the stack would be unchanged.
	Prepare(ctx context.Context, a StackApply) (unchanged bool, err error)
}

// PreparedDiscarder is a Backend that can drop the change sets it prepared
// that were never applied (the rollout stopped, a region was held). The
// engine calls it when a stage ends, before releasing the stage's lock.
type PreparedDiscarder interface {
	DiscardPrepared(ctx context.Context)
}

// latch opens when each of a wave's regions has started executing its
// stacks or finished: the next wave is prepared then, not while this one
// is still making its own change sets.
type latch struct {
	mu   sync.Mutex
	left int
	ch   chan struct{}
}

func newLatch(n int) *latch {
	l := &latch{left: n, ch: make(chan struct{})}
	if n <= 0 {
		close(l.ch)
	}
	return l
}

// done counts one region down; each region calls it once.
func (l *latch) done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left > 0 {
		if l.left--; l.left == 0 {
			close(l.ch)
		}
	}
}

// open opens the latch whatever is left (the wave ended).
func (l *latch) open() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left > 0 {
		l.left = 0
		close(l.ch)
	}
}

// ahead is the preparation of a wave's change sets.
type ahead struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// wait waits for the preparation to end.
func (a *ahead) wait() {
	if a != nil {
		a.wg.Wait()
	}
}

// stop cancels the preparation and waits for it.
func (a *ahead) stop() {
	if a != nil {
		a.cancel()
		a.wg.Wait()
	}
}

// prepareAhead prepares next's regions once the current wave has opened
// its latch, at most next's maxParallel at a time. Failures only lose the
// head start: the region's turn makes its change set as usual.
func (r *run) prepareAhead(ctx context.Context, next plan.Wave, current *latch) *ahead {
	pctx, cancel := context.WithCancel(ctx)
	a := &ahead{cancel: cancel}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		select {
		case <-current.ch:
		case <-pctx.Done():
			return
		case <-r.stopCh:
			return
		}
		sem := make(slots, next.Parallel())
		var wg sync.WaitGroup
		for _, step := range next.Steps {
			if !sem.acquire(pctx, r.stopCh) {
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer sem.release()
				r.prepareRegion(pctx, step)
			}()
		}
		wg.Wait()
	}()
	return a
}

// prepareRegion prepares a region's stacks in order while each would be
// unchanged: a stack after a changing one depends on its outputs, so its
// change set waits for the region's turn.
func (r *run) prepareRegion(ctx context.Context, step plan.Step) {
	log := r.log.With("stage", step.Stage, "region", step.Region, "wave", step.Wave)
	reg, err := r.e.Backend.Region(ctx, step)
	if err != nil {
		return
	}
	p, ok := reg.(Preparer)
	if !ok {
		return
	}
	cur, err := reg.Current(ctx)
	if err != nil || r.unchanged(step, cur) {
		return
	}
	// A region its flags would hold now is not prepared: a held region
	// should see no change set at all. (Not journaled: the decision that
	// counts is the one at the region's turn.)
	req := r.gateRequest(step)
	if halted, _, err := r.gate.Halted(ctx, req); err != nil || halted {
		return
	}
	if dec, err := r.gate.Check(ctx, req); err != nil || !dec.Open {
		return
	}
	pre := r.pre[key{step.Stage, step.Region}]
	for _, s := range pre.stacks {
		unchanged, err := p.Prepare(ctx, r.stackApply(step, s, pre))
		if err != nil {
			log.Info("preparing a change set ahead failed; the region's turn makes it", "stack", s.Name, "err", err)
			return
		}
		log.Info("change set prepared ahead", "stack", s.Name, "unchanged", unchanged)
		if !unchanged {
			return
		}
	}
}

// stackApply is what deploying stack s of a region asks of the backend.
func (r *run) stackApply(step plan.Step, s DeployedStack, pre *prepared) StackApply {
	return StackApply{
		Name: s.Name, Kind: s.Kind, Template: s.Template, Parameters: s.Parameters,
		Tags:          StackTags(r.base[step.Stage], s, r.req.Version, pre.hash),
		AllowDataLoss: r.req.AllowDataLoss, Protect: s.Kind == naming.Data,
	}
}
