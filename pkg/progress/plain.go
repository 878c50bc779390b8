package progress

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gantryhq/gantry/pkg/rollout"
	"github.com/gantryhq/gantry/pkg/safetext"
)

// Plain writes one timestamped line per event that matters, for logs and CI
// (no TTY): a region starting, each stack it deploys, resource failures,
// stack-level status changes, gate and bake decisions, each region's outcome
// and the rollout's.
type Plain struct {
	mu    sync.Mutex
	w     io.Writer
	clock Clock
	// NoSummary leaves out the final "rollout ..." line, for a command
	// that prints the summary on stdout itself.
	NoSummary bool
}

// NewPlain returns a Plain writing to w; a nil clock is the system clock.
func NewPlain(w io.Writer, clock Clock) *Plain {
	if clock == nil {
		clock = SystemClock{}
	}
	return &Plain{w: w, clock: clock}
}

func (p *Plain) line(ref rollout.Ref, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	b.WriteString(p.clock.Now().UTC().Format(time.RFC3339))
	b.WriteByte(' ')
	if s := ref.String(); s != "" {
		b.WriteString(s)
		if ref.Wave > 0 {
			fmt.Fprintf(&b, " (wave %d)", ref.Wave)
		}
		b.WriteString(": ")
	}
	// Errors and stack events may quote the descriptor.
	b.WriteString(safetext.TerminalLines(fmt.Sprintf(format, args...)))
	b.WriteByte('\n')
	// A log line that cannot be written is not worth failing a rollout for.
	_, _ = io.WriteString(p.w, b.String())
}

// RolloutStarted implements Observer.
func (p *Plain) RolloutStarted(s rollout.Start) {
	p.line(rollout.Ref{}, "deploying %s version %s to %d region(s) (rollout %s)", s.Service, s.Version, len(s.Regions), s.RolloutID)
	for _, n := range s.Notes {
		p.line(rollout.Ref{}, "WARNING: %s", n)
	}
}

// RegionStarted implements Observer.
func (p *Plain) RegionStarted(ref rollout.Ref) { p.line(ref, "started") }

// StepChanged implements Observer.
func (p *Plain) StepChanged(ref rollout.Ref, step rollout.Step, resource string) {
	switch step {
	case rollout.StepData, rollout.StepApp:
		p.line(ref, "deploying stack %s", resource)
	case rollout.StepRelease:
		p.line(ref, "running release task %s", resource)
	case rollout.StepRestore:
		p.line(ref, "restoring the previous version")
	case rollout.StepGateWait:
		p.line(ref, "waiting for the gate")
	}
}

// StackEvent implements Observer.
func (p *Plain) StackEvent(ref rollout.Ref, e rollout.StackEvent) {
	switch {
	case e.Failed():
		p.line(ref, "%s %s %s %s: %s", e.Stack, e.LogicalID, e.Type, e.Status, e.Reason)
	case e.StackLevel():
		p.line(ref, "%s %s", e.Stack, e.Status)
	}
}

// RegionDone implements Observer.
func (p *Plain) RegionDone(ref rollout.Ref, r rollout.RegionResult) {
	msg := string(r.Status)
	if s := DescribeStacks(r.Stacks); s != "" {
		msg += " (" + s + ")"
	}
	if r.Error != "" {
		msg += ": " + r.Error
	}
	p.line(ref, "%s", msg)
}

// Message implements Observer.
func (p *Plain) Message(ref rollout.Ref, level slog.Level, text string) {
	p.line(ref, "%s%s", levelPrefix(level), text)
}

// RolloutDone implements Observer.
func (p *Plain) RolloutDone(r *rollout.Result) {
	if p.NoSummary {
		return
	}
	p.line(rollout.Ref{}, "rollout %s", r.Summary())
}

func levelPrefix(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR: "
	case l >= slog.LevelWarn:
		return "WARNING: "
	}
	return ""
}
