package awsbackend

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/deploy"
)

// stash keeps the change sets made ahead of a region's turn, by stage,
// region and stack, until the region's Apply of the same input takes
// them, or DiscardPrepared deletes them.
type stash struct {
	mu sync.Mutex
	m  map[string]*preparedSet
}

type preparedSet struct {
	input   string // fingerprint of the StackApply it was made for
	cs      *cfn.ChangeSet
	current *cfn.Stack
	params  map[string]string
	client  *cfn.Client
}

func stashKey(stage, region, stack string) string { return stage + "/" + region + "/" + stack }

func (s *stash) put(key string, p *preparedSet) (replaced *preparedSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	replaced = s.m[key]
	s.m[key] = p
	return replaced
}

func (s *stash) take(key string) *preparedSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.m[key]
	delete(s.m, key)
	return p
}

func (s *stash) drain() []*preparedSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*preparedSet
	for k, p := range s.m {
		out = append(out, p)
		delete(s.m, k)
	}
	return out
}

// fingerprint identifies what a change set was made from.
func fingerprint(a deploy.StackApply) string {
	h := sha256.New()
	b, _ := json.Marshal(struct {
		Name       string
		Template   []byte
		Parameters map[string]string
		Tags       map[string]string
	}{a.Name, a.Template, a.Parameters, a.Tags})
	h.Write(b)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// Prepare makes a's change set now and keeps it for the Apply of the same
// input (deploy.Preparer).
func (r *region) Prepare(ctx context.Context, a deploy.StackApply) (bool, error) {
	tmpl, err := parseTemplate(a.Template)
	if err != nil {
		return false, fmt.Errorf("reading the template of %s: %w", a.Name, err)
	}
	cs, current, params, err := r.changeSet(ctx, a, tmpl)
	if err != nil {
		return false, err
	}
	// The events' boundary too: the region's turn then goes straight to
	// ExecuteChangeSet.
	if err := r.cfn.MarkEvents(ctx, cs); err != nil {
		discard(ctx, &preparedSet{cs: cs, client: r.cfn})
		return false, err
	}
	old := r.stash.put(stashKey(r.stage, r.name, a.Name), &preparedSet{input: fingerprint(a), cs: cs, current: current, params: params, client: r.cfn})
	if old != nil {
		discard(ctx, old)
	}
	return cs.Empty, nil
}

// prepared takes the change set made ahead for a, if it still fits:
// made for the same input and, unless empty, still executable.
func (r *region) prepared(ctx context.Context, a deploy.StackApply) *preparedSet {
	p := r.stash.take(stashKey(r.stage, r.name, a.Name))
	if p == nil {
		return nil
	}
	if p.input != fingerprint(a) {
		discard(ctx, p)
		return nil
	}
	if !p.cs.Empty {
		if ok, err := r.cfn.Executable(ctx, p.cs); err != nil || !ok {
			discard(ctx, p)
			return nil
		}
	}
	return p
}

// DiscardPrepared deletes the change sets made ahead and never applied
// (deploy.PreparedDiscarder).
func (b *Backend) DiscardPrepared(ctx context.Context) {
	for _, p := range b.stash.drain() {
		discard(ctx, p)
	}
}

func discard(ctx context.Context, p *preparedSet) {
	if p.cs.Empty {
		return // deleted when it was made
	}
	if p.cs.Type == "CREATE" {
		// The change set made an empty stack (REVIEW_IN_PROGRESS) to hang
		// on: delete that shell, and the change set with it.
		if st, err := p.client.Describe(ctx, p.cs.StackName); err == nil && st.Exists && st.Status == "REVIEW_IN_PROGRESS" {
			if err := p.client.Delete(ctx, p.cs.StackName); err != nil {
				p.client.Logger.WarnContext(ctx, "deleting the empty stack of a change set made ahead failed", "stack", p.cs.StackName, "err", err)
			}
			return
		}
	}
	if err := p.client.DeleteChangeSet(ctx, p.cs); err != nil {
		p.client.Logger.WarnContext(ctx, "deleting a change set made ahead failed; it is harmless and can be deleted by hand", "stack", p.cs.StackName, "changeSet", p.cs.Name, "err", err)
	}
}
