package crash

import "sync"

// Group runs functions on goroutines, as a sync.WaitGroup does, and keeps
// the first panic among them: a panic on a goroutine of its own would end
// the process with the runtime's exit code, where a crash must be reported
// as one (exit 70).
type Group struct {
	wg sync.WaitGroup
	mu sync.Mutex
	p  *Panic
}

// Go runs fn on a new goroutine.
func (g *Group) Go(fn func()) {
	g.wg.Go(func() {
		defer g.catch()
		fn()
	})
}

func (g *Group) catch() {
	if v := recover(); v != nil {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.p == nil {
			g.p = New(v)
		}
	}
}

// Wait waits for every function, then panics again with the first panic
// on the calling goroutine, whose own recovery (the root command's)
// reports it with its original stack.
func (g *Group) Wait() {
	g.wg.Wait()
	if g.p != nil {
		panic(g.p)
	}
}
