package kind

// Severity of a rule's findings.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Rule is one of a kind's lint rules.
type Rule struct {
	// ID is stable and unique among all rules (GNnnn).
	ID, Name string
	Severity Severity
	// Title is one line; Doc a short paragraph on why the rule exists.
	Title, Doc string
	// Example is a descriptor fragment the rule reports, with the message
	// it gives; a test checks it.
	ExampleYAML, ExampleMessage string
	// Approval rules run once per stage that needs approval, on the
	// stage's effective settings; others run on the top level and on every
	// stage with overrides.
	Approval bool
	Check    func(c Check)
}

// Check is what a check sees: one resource of one spec, and a way to report.
type Check interface {
	// Self is the resource checked.
	Self() Resource
	// Peer finds another resource of the same spec by name.
	Peer(name string) (Resource, bool)
	// Stage is the stage whose spec is checked, "" for the top level.
	Stage() string
	// Report reports at the value of key (relative to the resource, e.g.
	// "storage" or "indexes[1].name"), or the nearest written parent.
	Report(key, format string, args ...any)
	// ReportKey reports at the key itself where it was written.
	ReportKey(key, format string, args ...any)
	// Path is key's path in the descriptor, e.g. resources.db.storage, for
	// messages.
	Path(key string) string
}
