package deploy

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode"

	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// DataLossConsent is what --allow-data-loss allows a change set to replace
// or delete: nothing (the zero value), everything, or only the named
// resources — descriptor resource names (db) or logical IDs (DbInstance).
type DataLossConsent struct {
	All       bool
	Resources []string
}

// AllDataLoss allows every replacement and deletion.
func AllDataLoss() DataLossConsent { return DataLossConsent{All: true} }

// ParseDataLossConsent reads --allow-data-loss's value: "" none, "*" or
// "true" all, else a comma-separated list of resources.
func ParseDataLossConsent(v string) DataLossConsent {
	switch strings.TrimSpace(v) {
	case "", "false":
		return DataLossConsent{}
	case "*", "true":
		return AllDataLoss()
	}
	var out DataLossConsent
	for _, r := range strings.Split(v, ",") {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(out.Resources, r) {
			out.Resources = append(out.Resources, r)
		}
	}
	return out
}

// Any reports whether anything is allowed.
func (c DataLossConsent) Any() bool { return c.All || len(c.Resources) > 0 }

// Allows reports whether the resource with this logical ID may be replaced
// or deleted: it is named, or it is one of a named descriptor resource's
// (its logical ID starts with the resource's stem at a word boundary, so
// db covers DbInstance but not DbxInstance).
func (c DataLossConsent) Allows(logicalID string) bool {
	if c.All {
		return true
	}
	for _, r := range c.Resources {
		if r == logicalID {
			return true
		}
		stem := naming.LogicalStem(r)
		rest, ok := strings.CutPrefix(logicalID, stem)
		if ok && stem != "" && (rest == "" || unicode.IsUpper(rune(rest[0]))) {
			return true
		}
	}
	return false
}

// String is the flag's value: "", "*", or the list.
func (c DataLossConsent) String() string {
	if c.All {
		return "*"
	}
	return strings.Join(c.Resources, ",")
}

// consentNote is the note a run with --allow-data-loss starts with.
func consentNote(c DataLossConsent) string {
	what := "any database, cache, bucket or secret"
	if !c.All {
		what = strings.Join(c.Resources, ", ")
	}
	return fmt.Sprintf("--allow-data-loss: change sets may replace or delete %s in every stage of this run; each one is listed", what)
}

// reportDataLoss says, loudly, each replacement or deletion a stack's
// change made with consent: a warning in every view, a journal entry, and
// a note in the result (so the JSON and the step summary carry it too).
func reportDataLoss(obs rollout.Observer, j *journal, ref rollout.Ref, changes []DataLossChange) []string {
	var notes []string
	for _, d := range changes {
		msg := fmt.Sprintf("%s: data loss allowed by --allow-data-loss: %s", ref, d)
		obs.Message(ref, slog.LevelWarn, msg)
		j.region(ref, "data-loss", d.Action, d.String(), map[string]string{
			"stack": d.Stack, "logicalId": d.LogicalID, "type": d.Type, "causes": strings.Join(d.Causes, ","),
		})
		notes = append(notes, msg)
	}
	return notes
}

// DataLossError is a change refused because it would replace or delete
// stateful resources the consent does not cover.
type DataLossError struct {
	Stack   string
	Changes []DataLossChange
}

func (e *DataLossError) Error() string {
	var parts, ids []string
	for _, c := range e.Changes {
		p := fmt.Sprintf("%s %s (%s)", c.Action, c.LogicalID, c.Type)
		if len(c.Causes) > 0 && c.Action == "replace" {
			p += " because " + strings.Join(c.Causes, ", ") + " changed"
		}
		parts = append(parts, p)
		ids = append(ids, c.LogicalID)
	}
	return fmt.Sprintf("refusing to %s in %s: that loses data; restore the old value, or run again with --allow-data-loss=%s if you mean it",
		strings.Join(parts, "; "), e.Stack, strings.Join(ids, ","))
}

// RefuseDataLoss is the error for the changes of stack that consent does
// not allow, nil when it allows them all.
func RefuseDataLoss(stack string, changes []DataLossChange, consent DataLossConsent) error {
	var bad []DataLossChange
	for _, c := range changes {
		if !consent.Allows(c.LogicalID) {
			bad = append(bad, c)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &DataLossError{Stack: stack, Changes: bad}
}

// DataLossChange is one resource a deploy replaced or deleted with consent.
type DataLossChange struct {
	Stack     string
	LogicalID string
	Type      string
	// Action is replace or delete.
	Action string
	// Causes are the properties whose change forces the replacement.
	Causes []string
}

// String is "replace DbInstance (AWS::RDS::DBInstance) because
// DBInstanceIdentifier changed, in stack payments-prod-data".
func (d DataLossChange) String() string {
	s := fmt.Sprintf("%s %s (%s)", d.Action, d.LogicalID, d.Type)
	if len(d.Causes) > 0 && d.Action == "replace" {
		s += " because " + strings.Join(d.Causes, ", ") + " changed"
	}
	return s + " in stack " + d.Stack
}
