package deploy

// StackPreview is what Region.Preview found a deploy of one stack would do.
type StackPreview struct {
	Name string
	// Action is rollout.ActionCreate, ActionUpdate or ActionUnchanged.
	Action string
	// Changes are the change set's resource changes.
	Changes []Change
	// Notes say what the preview could not show exactly (a listener
	// priority allocated at deploy, a stack that must be recreated).
	Notes []string
}

// Change is one resource change of a change set.
type Change struct {
	// Action is CloudFormation's: Add, Modify, Remove, Import or Dynamic.
	Action    string `json:"action"`
	LogicalID string `json:"logicalId"`
	Type      string `json:"type"`
	// Replacement is True, False or Conditional for Modify, "" otherwise.
	Replacement string `json:"replacement"`
	// Causes are the properties behind the change: those forcing the
	// replacement when there are any.
	Causes []string `json:"causes"`
	// DataLoss marks a replacement or deletion of a stateful resource,
	// which deploy refuses without --allow-data-loss.
	DataLoss bool `json:"dataLoss"`
}
