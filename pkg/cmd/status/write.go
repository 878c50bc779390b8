package status

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/gantryhq/gantry/pkg/iostreams"
)

// stackStyle colours a stack status: green when complete, red after a
// failure or rollback, yellow while in progress.
func stackStyle(status string) iostreams.Style {
	switch {
	case status == NotDeployed:
		return iostreams.Muted
	case strings.Contains(status, "ROLLBACK"), strings.HasSuffix(status, "_FAILED"), status == "UNKNOWN":
		return iostreams.Failure
	case strings.HasSuffix(status, "_IN_PROGRESS"):
		return iostreams.Warning
	case strings.HasSuffix(status, "_COMPLETE"):
		return iostreams.Success
	}
	return ""
}

// Text renders the status as a stage × region table, then one line per
// stage with a rollout in flight, held or failed, or a lock.
func Text(s *Status, now time.Time, color bool) string {
	st := iostreams.NewColorScheme(color)
	var b strings.Builder
	b.WriteString(st.Paint(iostreams.Strong, s.Service) + "\n\n")
	rows := [][]string{{"STAGE", "ACCOUNT", "REGION", "WAVE", "VERSION", "STATUS", "LAST DEPLOY"}}
	styles := []iostreams.Style{iostreams.Strong}
	for _, stage := range s.Stages {
		for _, r := range stage.Regions {
			version, status, when := "-", "not deployed", "-"
			if r.Version != nil && *r.Version != "" {
				version = *r.Version
			}
			if c := r.Canary; c != nil {
				version = fmt.Sprintf("%s + %s at %d%%", c.StableVersion, c.Version, c.Weight)
			}
			if r.Status != NotDeployed {
				status = r.Status
			} else if r.DataStack != "" {
				status = "data stack " + r.DataStack
			}
			if r.UpdatedAt != nil {
				when = stamp(*r.UpdatedAt) + " (" + ago(now, *r.UpdatedAt) + ")"
			}
			if r.Error != "" {
				// Said once, grouped, in the command's error.
				status, when = "UNKNOWN", "could not read (see the error)"
			}
			rows = append(rows, []string{stage.Stage, stage.Account, r.Region, fmt.Sprint(r.Wave), version, status, when})
			styles = append(styles, stackStyle(cmp.Or(r.DataStack, r.Status)))
		}
	}
	st.Table(&b, "", rows, styles)

	var notes []string
	for _, stage := range s.Stages {
		for _, line := range stageNotes(stage, now) {
			notes = append(notes, st.Paint(noteStyle(stage), stage.Stage+": "+line))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	return b.String()
}

func noteStyle(s Stage) iostreams.Style {
	switch {
	case s.Error != "":
		return iostreams.Failure
	case s.Rollout != nil && s.Rollout.Status == "failed":
		return iostreams.Failure
	case s.Rollout != nil && (s.Rollout.Status == "held" || s.Rollout.Status == "running"):
		return iostreams.Warning
	case s.Lock != nil && !s.Lock.Expired:
		return iostreams.Warning
	}
	return ""
}

// stageNotes says what is in flight, held or locked in a stage.
// rolledBack says which regions the stage's latest rollout rolled back (a
// gantry rollback, or an alarm's restore), "" when none.
func rolledBack(s Stage) string {
	var regions []string
	for _, r := range s.Regions {
		if r.Rollout == "rolled-back" {
			regions = append(regions, r.Region)
		}
	}
	if len(regions) == 0 {
		return ""
	}
	return "; rolled back in " + strings.Join(regions, ", ")
}

func stageNotes(s Stage, now time.Time) []string {
	var out []string
	if s.Error != "" {
		out = append(out, "could not read the state table (see the error)")
	}
	liveLock := s.Lock != nil && !s.Lock.Expired
	if ro := s.Rollout; ro != nil {
		head := fmt.Sprintf("rollout %s (version %s", ro.ID, orDash(ro.Version))
		if ro.Owner != "" {
			head += ", by " + ro.Owner
		}
		head += ") "
		switch ro.Status {
		case "running":
			line := head + "in flight since " + stamp(ro.StartedAt)
			if !liveLock || s.Lock.RolloutID != ro.ID {
				line = head + "stopped while running (last update " + stamp(ro.UpdatedAt) + ", no live lock): run the same deploy again to resume"
			}
			out = append(out, line)
		case "held":
			line := head + "held since " + stamp(ro.UpdatedAt)
			if ro.Reason != "" {
				line += ": " + ro.Reason
			}
			out = append(out, line+" (run the deploy again to resume)")
		case "failed":
			line := head + "failed at " + stamp(ro.UpdatedAt)
			if ro.Reason != "" {
				line += ": " + ro.Reason
			}
			out = append(out, line)
		case "succeeded":
			out = append(out, head+"succeeded at "+stamp(ro.UpdatedAt)+rolledBack(s))
		}
	}
	if ro := s.Rollout; ro != nil && ro.Status != "succeeded" {
		for _, r := range s.Regions {
			if r.RolloutReason != "" {
				out = append(out, fmt.Sprintf("  %s %s: %s", r.Region, r.Rollout, r.RolloutReason))
			}
		}
	}
	out = append(out, splitNotes(s)...)
	if l := s.Lock; l != nil {
		if l.Expired {
			out = append(out, fmt.Sprintf("stale lock of %s (rollout %s) expired at %s; it blocks nothing", l.Owner, l.RolloutID, stamp(l.ExpiresAt)))
		} else {
			out = append(out, fmt.Sprintf("locked by %s (rollout %s, version %s) until %s (in %s)",
				l.Owner, l.RolloutID, orDash(l.Version), stamp(l.ExpiresAt), l.ExpiresAt.Sub(now).Round(time.Second)))
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// stamp is a time in UTC, to the second.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// ago is a short relative age: 42s ago, 5m ago, 3h ago, 2d ago.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// splitNotes says, for each region whose traffic a canary splits, the
// weights, the rollout in charge and how to end it.
func splitNotes(s Stage) []string {
	var out []string
	for _, r := range s.Regions {
		c := r.Canary
		if c == nil {
			continue
		}
		step := ""
		if c.Step > 0 {
			step = fmt.Sprintf(", canary step %d of %d", c.Step, c.Steps)
		}
		out = append(out, fmt.Sprintf("%s: traffic split: %d%% on %s%s, %d%% on %s, by rollout %s; the same deploy resumes it, gantry rollback --stage %s --region %s puts it all on %s",
			r.Region, c.Weight, c.Version, step, 100-c.Weight, c.StableVersion, orDash(c.RolloutID), s.Stage, r.Region, c.StableVersion))
	}
	return out
}
