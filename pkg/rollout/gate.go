package rollout

// GateRequest is what the gate and halt flags are evaluated with.
type GateRequest struct {
	Service   string
	Team      string
	Stage     string
	Region    string
	Account   string
	Version   string
	RolloutID string
	Wave      int
}

// TargetingKey is <service>/<stage>/<region>, the flags' targeting key.
func (g GateRequest) TargetingKey() string { return g.Service + "/" + g.Stage + "/" + g.Region }

// Decision is the gate's answer for one region.
type Decision struct {
	Open   bool
	Reason string
	// Attrs describe the evaluation (flag, context, value, variant,
	// reason) for the journal.
	Attrs map[string]string
}
