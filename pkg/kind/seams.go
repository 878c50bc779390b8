package kind

import (
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/tags"
)

// Fn makes CloudFormation intrinsic functions as strings, which goformation's
// typed fields can hold; the renderer turns them back into functions.
type Fn interface {
	Ref(id string) string
	GetAtt(id, attr string) string
	// Join concatenates parts with sep; with sep "" literals merge.
	Join(sep string, parts ...string) string
	// Partition, Region and Account are the stack's pseudo parameters.
	Partition() string
	Region() string
	Account() string
	// Arn is arn:<partition>:<service>:<region>:<account>:<rest...>.
	Arn(service string, rest ...string) string
}

// Resource is one resource of the service, as another resource sees it.
type Resource struct {
	Name     string
	Kind     Kind
	Settings Settings
	// Stem is the CamelCase stem of its logical IDs, e.g. UserDb.
	Stem string
	// Access is the task role's level on it: read or write.
	Access string
}

// Data is what a resource's Render sees of the data stack being built.
type Data interface {
	Fn
	// Service, Stage, AccountID and RegionName are the literal values.
	Service() string
	Stage() string
	AccountID() string
	RegionName() string
	// Approval reports whether the stage needs approval (production-like).
	Approval() bool
	// Self is the resource being rendered.
	Self() Resource
	// Peer finds another resource of the service by name.
	Peer(name string) (Resource, bool)
	// Add adds a resource under a logical ID; the kind builds IDs from
	// Self().Stem.
	Add(id string, r cloudformation.Resource)
	// Once runs add the first time id is asked for in the stack, for what
	// the kind's resources share (a role, say).
	Once(id string, add func())
	// Output exports the value behind ${resources.NAME.OUTPUT}.
	Output(output, value, description string)
	// Tags are the tags every taggable resource carries.
	Tags() []tags.Tag
	// Subnets is the platform's private subnets (a list); StoreSecurityGroup
	// the group the stores of kinds with a Port sit in.
	Subnets() string
	StoreSecurityGroup() string
	// SecretsKey is the ARN of the key of the secrets the stack creates;
	// DataKey that of the key stores encrypt their data with. Asking adds
	// the key to the stack.
	SecretsKey() string
	DataKey() string
	// AllowDataKey adds a statement to the data key's policy (an AWS
	// service that must encrypt for a store, say).
	AllowDataKey(statement map[string]any)
	// Fail makes the rendering fail: for input lint refuses, which render
	// must not turn into a broken template.
	Fail(format string, args ...any)
	// Inbound lists what other resources asked this one to let in (an SNS
	// topic sending to a queue), in resource-name order.
	Inbound() []Inbound
}

// Inbound is an AWS service acting on a resource for another resource.
type Inbound struct {
	// From is the resource asking.
	From string
	// Service is the principal, e.g. sns.amazonaws.com.
	Service string
	Actions []string
	// SourceArn is the asking resource's ARN, the condition of the grant.
	SourceArn string
}

// Sender is a resource whose AWS service acts on other resources of the
// service (an SNS topic delivering to queues). The renderer asks every
// sender before rendering, so the targets can let it in.
type Sender interface {
	// Sends lists the targets. A SourceArn is built from names, not
	// referenced: the data key's policy names it, and the sender's
	// resource uses the key.
	Sends(f Fn, service, stage string, self Resource) []Send
}

// Send is one target of a Sender.
type Send struct {
	To string
	Inbound
}

// Queue is a resource that holds messages: SNS can deliver to it and a
// worker can scale on its backlog.
type Queue interface {
	FIFO() bool
	// QueueArn is the queue's ARN inside the data stack.
	QueueArn(f Fn, self Resource) string
	// BacklogOutput is the output holding the queue's name, the dimension
	// of its AWS/SQS metrics.
	BacklogOutput() string
}

// App is what a resource's Grants sees of the app stack.
type App interface {
	Fn
	// Import reads one of the resource's own outputs from the data stack.
	Import(output string) string
	// Access is the resource's access level, read or write.
	Access() string
	// DataKey reads the ARN of the data stack's data key.
	DataKey() string
}

// Statement is one statement of the task role's policy on a kind. The
// renderer merges statements with the same Sid across resources of the
// kind, in order, and writes one policy per kind.
type Statement struct {
	// Policy names the task role's inline policy, e.g. service-buckets.
	Policy    string
	Sid       string
	Actions   []string
	Resources []string
	Condition map[string]any
	// Once keeps the first statement of this Sid in the policy and drops
	// later ones rather than merging: for a grant on something the kind's
	// resources share (the data key).
	Once bool
}
