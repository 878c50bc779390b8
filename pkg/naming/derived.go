package naming

import (
	"maps"
	"slices"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// Kind is what a derived name names.
type Kind int

// The kinds of names gantry sets explicitly.
const (
	KindStack Kind = iota
	KindLogGroup
	KindTargetGroup
	KindAlarm
	KindDBInstance
	KindReplicationGroup
	KindBucket
)

var kinds = [...]struct {
	term     string
	validate func(string) error
}{
	KindStack:            {"stack name", ValidateStack},
	KindLogGroup:         {"log group name", ValidateLogGroup},
	KindTargetGroup:      {"target group name", ValidateTargetGroup},
	KindAlarm:            {"alarm name", ValidateAlarm},
	KindDBInstance:       {"DB instance identifier", ValidateDBInstance},
	KindReplicationGroup: {"replication group id", ValidateReplicationGroup},
	KindBucket:           {"bucket name", ValidateBucket},
}

// String is the AWS term for the name, e.g. "target group name".
func (k Kind) String() string { return kinds[k].term }

// Validate reports why name is not a valid name of kind k.
func (k Kind) Validate(name string) error { return kinds[k].validate(name) }

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

// Derive lists the explicit names the stacks of one stage set, for spec (the
// stage's effective spec): the app stack, the log group, the data stack when
// there are resources, the target group of a web service, the alarms, then
// each resource's by resource name, a bucket once for each of regions.
// Render checks them in this order and stops at the first bad one; lint
// reports them all.
func Derive(service, stage string, spec *descriptor.Spec, account string, regions []string) []Derived {
	web := spec.Compute.Port != nil
	out := []Derived{
		{KindStack, Stack(service, stage, App), "service-stage-" + string(App), ""},
		{KindLogGroup, LogGroup(service, stage), "/gantry/service/stage", ""},
	}
	if len(spec.Resources) > 0 {
		out = append(out, Derived{KindStack, Stack(service, stage, Data), "service-stage-" + string(Data), ""})
	}
	if web {
		out = append(out, Derived{KindTargetGroup, TargetGroup(service, stage), "service-stage", ""})
	}
	for _, kind := range AlarmKinds(web) {
		out = append(out, Derived{KindAlarm, Alarm(service, stage, kind), "service-stage-" + kind, ""})
	}
	for _, name := range slices.Sorted(maps.Keys(spec.Resources)) {
		r := spec.Resources[name]
		switch {
		case r == nil:
		case r.Postgres != nil:
			out = append(out, Derived{KindDBInstance, DBInstance(service, stage, name), "service-stage-resource", name})
		case r.Redis != nil:
			out = append(out, Derived{KindReplicationGroup, ReplicationGroup(service, stage, name), "service-stage-resource", name})
		case r.S3 != nil:
			for _, region := range regions {
				out = append(out, Derived{KindBucket, Bucket(service, stage, name, account, region), "service-stage-resource-account-region", name})
			}
		}
	}
	return out
}
