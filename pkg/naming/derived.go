package naming

// Kind is what a derived name names: its AWS term, how lint words it, and
// AWS's rule for it. The stage's own names are the constants below; each
// resource kind brings its own (a small type of its package).
type Kind interface {
	// String is the AWS term, e.g. "target group name".
	String() string
	// Noun is how a finding words it, e.g. "RDS instance id".
	Noun() string
	// Validate reports why AWS would refuse name.
	Validate(name string) error
}

// builtin is a kind of name gantry sets for every service.
type builtin int

// The kinds of names gantry sets explicitly for every service, and those of
// the first resource kinds.
const (
	KindStack builtin = iota
	KindLogGroup
	KindTargetGroup
	KindAlarm
	KindDBInstance
	KindReplicationGroup
	KindBucket
)

var builtins = [...]struct {
	term, noun string
	validate   func(string) error
}{
	KindStack:            {"stack name", "stack name", ValidateStack},
	KindLogGroup:         {"log group name", "log group name", ValidateLogGroup},
	KindTargetGroup:      {"target group name", "target group name", ValidateTargetGroup},
	KindAlarm:            {"alarm name", "alarm name", ValidateAlarm},
	KindDBInstance:       {"DB instance identifier", "RDS instance id", ValidateDBInstance},
	KindReplicationGroup: {"replication group id", "ElastiCache replication group id", ValidateReplicationGroup},
	KindBucket:           {"bucket name", "S3 bucket name", ValidateBucket},
}

func (k builtin) String() string             { return builtins[k].term }
func (k builtin) Noun() string               { return builtins[k].noun }
func (k builtin) Validate(name string) error { return builtins[k].validate(name) }

// Derived is one explicit name the stacks of a stage set.
type Derived struct {
	Kind    Kind
	Value   string
	Pattern string // how Value is built, e.g. "service-stage-resource"
	// Resource is the resource the name is built from; "" for the names of
	// the stage itself.
	Resource string
}

// Validate reports why AWS would refuse the name.
func (n Derived) Validate() error { return n.Kind.Validate(n.Value) }

// StageNames lists the explicit names of one stage's own (not its resources'):
// the app stack, the log group, the data stack when there are resources,
// the target group of a web service, the alarms.
func StageNames(service, stage string, web, data bool) []Derived {
	out := []Derived{
		{KindStack, Stack(service, stage, App), "service-stage-" + string(App), ""},
		{KindLogGroup, LogGroup(service, stage), "/gantry/service/stage", ""},
	}
	if data {
		out = append(out, Derived{KindStack, Stack(service, stage, Data), "service-stage-" + string(Data), ""})
	}
	if web {
		out = append(out, Derived{KindTargetGroup, TargetGroup(service, stage), "service-stage", ""})
	}
	for _, kind := range AlarmKinds(web) {
		out = append(out, Derived{KindAlarm, Alarm(service, stage, kind), "service-stage-" + kind, ""})
	}
	return out
}
