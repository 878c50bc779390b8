// Package kind says what a resource kind is: everything gantry knows about
// one type of data store, in one unit. A kind has its descriptor fields
// (with defaults, validation and docs), its outputs, the AWS names it
// derives, the CloudFormation it adds to the data stack, what it grants the
// task role, which of its types hold data, and its lint rules. The kinds
// themselves live one per package under pkg/kind/; pkg/kinds lists them.
//
// This package sits below the descriptor: it knows nothing of descriptors,
// templates or deploys, only the seams (Data, App, Check) through which the
// packages that do call a kind.
package kind

import (
	"time"

	"github.com/gantryhq/gantry/pkg/naming"
)

// Kind is one type of resource a descriptor may declare.
type Kind interface {
	// Name is the descriptor's `type`, e.g. "postgres".
	Name() string
	// Title names the kind in prose, e.g. "Postgres".
	Title() string
	// Summary is one sentence on what gantry makes of it, for the docs and
	// the schema.
	Summary() string
	// New gives empty settings for the loader to decode the resource's
	// keys into: a pointer to a struct whose fields carry yaml, doc and
	// required tags, as the descriptor's own do.
	New() Settings
	// Port is the port the app's tasks reach the store on through the VPC;
	// 0 for a store reached through its AWS API.
	Port() int
	// Stateful lists the kind's CloudFormation types whose replacement or
	// deletion loses data; plan shows such changes and deploy refuses them
	// without --allow-data-loss.
	Stateful() []Stateful
	// Rules are the kind's own lint rules; its settings' plain validity is
	// checked by Settings.Check under the shared resource-settings rule.
	Rules() []Rule
	// SettingsDoc says in a sentence or two what Settings.Check enforces,
	// for the resource-settings rule's docs.
	SettingsDoc() string
}

// Settings is one resource's kind-specific fields, as written with the
// defaults applied.
type Settings interface {
	// Defaults fills what the descriptor left out; set reports whether a
	// key (relative to the resource, e.g. "storage") was written.
	Defaults(set func(key string) bool)
	// Outputs lists what ${resources.NAME.OUTPUT} may name.
	Outputs() []Output
	// Names lists the explicit AWS names the resource sets, with their
	// limits, one per region when the name holds the region.
	Names(n NameInput) []naming.Derived
	// Check reports settings AWS would refuse.
	Check(c Check)
	// Render adds the resource to the data stack.
	Render(d Data)
	// Grants is what the task role may do with the resource, at the
	// resource's access level.
	Grants(a App) []Statement
}

// Access levels of the task role on a resource.
const (
	AccessRead  = "read"
	AccessWrite = "write"
)

// Output is one value a resource offers to placeholders.
type Output struct {
	// Name is what ${resources.NAME.OUTPUT} says, e.g. "host".
	Name string
	// ID is the suffix of the data stack output behind it, after the
	// resource's logical stem, e.g. "Host".
	ID string
	// Secret outputs are ARNs of Secrets Manager secrets, whose JSON key
	// Name holds the value; they may appear only under `secrets:`.
	Secret bool
	// OwnKey marks a secret encrypted with the data stack's secrets key
	// (the app's execution role must decrypt with it).
	OwnKey bool
}

// Stateful is a CloudFormation type that holds data.
type Stateful struct {
	Type string
	// Loses says what a replacement or deletion loses, for messages.
	Loses string
}

// NameInput is what derived names are built from.
type NameInput struct {
	Service, Stage, Resource, Account string
	Regions                           []string
}

// Duration is a Go duration string such as 90s, 10m or 1h30m.
type Duration struct {
	time.Duration
	// Set is true when the key was present in the descriptor.
	Set bool
}
