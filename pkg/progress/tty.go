package progress

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gantryhq/gantry/pkg/iostreams"
	"github.com/gantryhq/gantry/pkg/rollout"
	"github.com/gantryhq/gantry/pkg/safetext"
)

// TTYOptions configure the live view.
type TTYOptions struct {
	// Color allows ANSI colour (false when NO_COLOR is set or TERM=dumb).
	// Cursor movement is used either way.
	Color bool
	// Clock gives elapsed times and throttles redraws; nil is the system clock.
	Clock Clock
	// Width truncates rows to the terminal's width so they never wrap
	// (a wrapped row breaks redrawing in place); 0 never truncates.
	Width int
	// Interval is the least time between two redraws (default 100ms, ~10
	// frames per second).
	Interval time.Duration
	// NoSummary leaves out the final "Rollout ..." line, for a command
	// that prints the summary on stdout itself (said once, not twice).
	NoSummary bool
}

// TTY is the live view for a terminal: one row per region with its wave,
// step or outcome, the resource being worked on and the elapsed time,
// redrawn in place. Messages and resource failures print above the table.
// Call Start to refresh elapsed times while nothing else happens, and Stop
// when done.
type TTY struct {
	mu       sync.Mutex
	w        io.Writer
	opt      TTYOptions
	title    string
	rows     []*row
	byRef    map[rollout.Ref]*row
	drawn    int
	lastDraw time.Time
	dirty    bool
	finished bool
	paused   bool
	queued   []string // lines printed while paused

	stop chan struct{}
	done chan struct{}
}

type row struct {
	ref      rollout.Ref
	step     rollout.Step
	resource string
	started  time.Time
	ended    time.Time
	status   rollout.Status
	err      string
}

// NewTTY returns a live view writing to w.
func NewTTY(w io.Writer, opt TTYOptions) *TTY {
	if opt.Clock == nil {
		opt.Clock = SystemClock{}
	}
	if opt.Interval <= 0 {
		opt.Interval = 100 * time.Millisecond
	}
	return &TTY{w: w, opt: opt, byRef: map[rollout.Ref]*row{}}
}

// Start refreshes the view every Interval (for elapsed times) until Stop.
func (t *TTY) Start() {
	t.mu.Lock()
	if t.stop != nil {
		t.mu.Unlock()
		return
	}
	t.stop, t.done = make(chan struct{}), make(chan struct{})
	stop, done, interval := t.stop, t.done, t.opt.Interval
	t.mu.Unlock()
	go func() {
		defer close(done)
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				t.Tick()
			}
		}
	}()
}

// Stop ends the refresh Start began and waits for it.
func (t *TTY) Stop() {
	t.mu.Lock()
	stop, done := t.stop, t.done
	t.stop = nil
	t.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// Pause clears the table and stops drawing until Resume, so that a prompt
// (a stage approval) has the terminal to itself. Lines that arrive
// meanwhile are printed on Resume.
func (t *TTY) Pause() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.paused {
		return
	}
	if t.drawn > 0 {
		_, _ = fmt.Fprintf(t.w, "\x1b[%dA\r\x1b[J", t.drawn)
		t.drawn = 0
	}
	t.paused = true
}

// Resume prints what arrived while paused and redraws the table.
func (t *TTY) Resume() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.paused {
		return
	}
	t.paused = false
	for _, l := range t.queued {
		_, _ = io.WriteString(t.w, l+"\n")
	}
	t.queued = nil
	if !t.finished {
		t.draw()
	}
}

// Tick redraws the view if the rollout is running (elapsed times move).
func (t *TTY) Tick() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.finished && len(t.rows) > 0 {
		t.draw()
	}
}

func (t *TTY) row(ref rollout.Ref) *row {
	k := rollout.Ref{Stage: ref.Stage, Region: ref.Region}
	r := t.byRef[k]
	if r == nil {
		r = &row{ref: ref, step: rollout.StepPending}
		t.byRef[k] = r
		t.rows = append(t.rows, r)
	}
	return r
}

// RolloutStarted implements Observer.
func (t *TTY) RolloutStarted(s rollout.Start) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.title = fmt.Sprintf("Deploying %s version %s (rollout %s)", s.Service, s.Version, s.RolloutID)
	for _, ref := range s.Regions {
		t.row(ref)
	}
	for _, n := range s.Notes {
		t.above(t.paint(t.wrap("WARNING: "+safetext.Terminal(n)), iostreams.Warning))
	}
	t.draw()
}

// RegionStarted implements Observer.
func (t *TTY) RegionStarted(ref rollout.Ref) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.row(ref)
	r.started = t.opt.Clock.Now()
	r.step = rollout.StepCheck
	t.maybeDraw()
}

// StepChanged implements Observer.
func (t *TTY) StepChanged(ref rollout.Ref, step rollout.Step, resource string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.row(ref)
	if r.started.IsZero() {
		r.started = t.opt.Clock.Now()
	}
	r.step, r.resource = step, resource
	t.maybeDraw()
}

// StackEvent implements Observer.
func (t *TTY) StackEvent(ref rollout.Ref, e rollout.StackEvent) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.row(ref)
	if e.StackLevel() {
		r.resource = e.Stack + " " + e.Status
	} else {
		r.resource = e.LogicalID + " " + e.Status
	}
	if e.Failed() {
		// A stack event's reason may quote the template, and so the descriptor.
		t.above(t.paint(t.wrap(safetext.Terminal(fmt.Sprintf("%s: %s %s %s: %s", ref, e.Stack, e.LogicalID, e.Status, e.Reason))), iostreams.Failure))
		t.draw()
		return
	}
	t.maybeDraw()
}

// RegionDone implements Observer.
func (t *TTY) RegionDone(ref rollout.Ref, res rollout.RegionResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.row(ref)
	r.ended = t.opt.Clock.Now()
	r.step, r.status, r.err, r.resource = rollout.StepDone, res.Status, res.Error, DescribeStacks(res.Stacks)
	t.draw()
}

// Message implements Observer.
func (t *TTY) Message(ref rollout.Ref, level slog.Level, text string) {
	if level <= rollout.LevelHeartbeat {
		return // the table shows the elapsed time
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	line := safetext.TerminalLines(text)
	if s := ref.String(); s != "" {
		line = s + ": " + line
	}
	line = t.wrap(levelPrefix(level) + line)
	switch {
	case level >= slog.LevelError:
		line = t.paint(line, iostreams.Failure)
	case level >= slog.LevelWarn:
		line = t.paint(line, iostreams.Warning)
	}
	t.above(line)
	t.draw()
}

// RolloutDone implements Observer: the final table, then the summary.
func (t *TTY) RolloutDone(res *rollout.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.opt.Clock.Now()
	for _, rr := range res.Regions {
		r := t.row(rr.Ref())
		r.status, r.err, r.step = rr.Status, rr.Error, rollout.StepDone
		if !r.started.IsZero() && r.ended.IsZero() {
			r.ended = now
		}
	}
	t.draw()
	color := map[rollout.Outcome]iostreams.Style{rollout.Succeeded: iostreams.Success, rollout.Failed: iostreams.Failure, rollout.Held: iostreams.Warning}[res.Result]
	if !t.opt.NoSummary {
		_, _ = io.WriteString(t.w, t.paint("Rollout "+res.Summary(), color)+"\n")
	}
	t.drawn = 0
	t.finished = true
}

// maybeDraw redraws unless the last redraw was less than Interval ago.
func (t *TTY) maybeDraw() {
	if t.opt.Clock.Now().Sub(t.lastDraw) >= t.opt.Interval {
		t.draw()
		return
	}
	t.dirty = true
}

// above prints a line above the table: clear the table, print, and let the
// next draw put the table back below.
// wrap breaks a message at word boundaries to the terminal's width, the
// lines after the first indented, so a long error never breaks mid-word.
func (t *TTY) wrap(text string) string {
	return wrapWords(text, t.opt.Width-1, "  ")
}

// wrapWords breaks text into lines of at most width runes at spaces;
// a word longer than a line is cut. width <= 0 leaves text as it is.
func wrapWords(text string, width int, indent string) string {
	if width <= len(indent) || utf8.RuneCountInString(text) <= width {
		return text
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		limit := width
		if len(lines) > 0 {
			limit = width - len(indent)
		}
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= limit:
			line += " " + word
		default:
			lines, line = append(lines, line), word
		}
		for r := []rune(line); len(r) > width-len(indent); r = []rune(line) {
			lines, line = append(lines, string(r[:width-len(indent)])), string(r[width-len(indent):])
		}
	}
	lines = append(lines, line)
	return strings.Join(lines, "\n"+indent)
}

func (t *TTY) above(line string) {
	if t.paused {
		t.queued = append(t.queued, line)
		return
	}
	var b strings.Builder
	if t.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", t.drawn)
	}
	b.WriteString("\r\x1b[J")
	b.WriteString(line)
	b.WriteByte('\n')
	_, _ = io.WriteString(t.w, b.String())
	t.drawn = 0
}

func (t *TTY) draw() {
	if t.paused {
		t.dirty = true
		return
	}
	lines := t.lines()
	var b strings.Builder
	if t.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", t.drawn) // back to the table's first line
	}
	for _, l := range lines {
		b.WriteString("\r\x1b[2K")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("\x1b[J") // clear whatever a longer table left below
	_, _ = io.WriteString(t.w, b.String())
	t.drawn = len(lines)
	t.lastDraw = t.opt.Clock.Now()
	t.dirty = false
}

func (t *TTY) lines() []string {
	now := t.opt.Clock.Now()
	head := []string{"STAGE", "REGION", "WAVE", "STATUS", "ELAPSED", "DETAILS"}
	cells := [][]string{head}
	for _, r := range t.rows {
		state := string(r.step)
		if r.status != "" {
			state = string(r.status)
		}
		elapsed := "-"
		if !r.started.IsZero() {
			end := now
			if !r.ended.IsZero() {
				end = r.ended
			}
			elapsed = formatElapsed(end.Sub(r.started))
		}
		detail := r.resource
		if r.err != "" {
			detail = safetext.Terminal(r.err)
		}
		cells = append(cells, []string{r.ref.Stage, r.ref.Region, fmt.Sprint(r.ref.Wave), state, elapsed, detail})
	}
	widths := make([]int, len(head))
	for _, c := range cells {
		for i, s := range c[:len(c)-1] {
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	var out []string
	if t.title != "" {
		out = append(out, t.truncate(t.title))
	}
	for i, c := range cells {
		var prefix strings.Builder
		for j := 0; j < 3; j++ {
			prefix.WriteString(pad(c[j], widths[j]) + "  ")
		}
		state := pad(c[3], widths[3])
		rest := "  " + pad(c[4], widths[4]) + "  " + c[5]
		var color iostreams.Style
		if i > 0 {
			color = t.stateColor(t.rows[i-1])
		}
		out = append(out, t.colored(prefix.String(), state, strings.TrimRight(rest, " "), color))
	}
	return out
}

// colored joins prefix, state and rest, truncated to the width, with the
// state painted when it survives truncation whole.
func (t *TTY) colored(prefix, state, rest string, color iostreams.Style) string {
	plain := prefix + state + rest
	limit := t.opt.Width - 1
	if t.opt.Width <= 0 || utf8.RuneCountInString(plain) <= limit {
		return prefix + t.paint(state, color) + rest
	}
	if utf8.RuneCountInString(prefix+state) > limit {
		return truncateRunes(plain, limit)
	}
	return prefix + t.paint(state, color) + truncateRunes(rest, limit-utf8.RuneCountInString(prefix+state))
}

func (t *TTY) truncate(s string) string {
	if t.opt.Width <= 0 {
		return s
	}
	return truncateRunes(s, t.opt.Width-1)
}

func (t *TTY) stateColor(r *row) iostreams.Style {
	switch r.status {
	case rollout.StatusDeployed, rollout.StatusUnchanged:
		return iostreams.Success
	case rollout.StatusFailed, rollout.StatusRolledBack:
		return iostreams.Failure
	case rollout.StatusHeld:
		return iostreams.Warning
	case rollout.StatusPending:
		return iostreams.Muted
	case "":
		if r.step == rollout.StepPending {
			return iostreams.Muted
		}
		return iostreams.Active
	}
	return ""
}

func (t *TTY) paint(s string, style iostreams.Style) string {
	return iostreams.NewColorScheme(t.opt.Color).Paint(style, s)
}

func pad(s string, w int) string {
	if n := utf8.RuneCountInString(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

func truncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	if n == 1 {
		return "…"
	}
	return string(r[:n-1]) + "…"
}

// formatElapsed is 7s, 1m05s or 1h02m03s.
func formatElapsed(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = 0
	}
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
