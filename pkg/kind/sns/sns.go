// Package sns is the sns resource kind: an SNS topic encrypted with the
// service's data key, delivering to queues of the service.
package sns

import (
	"fmt"
	"regexp"

	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Kind is the sns kind.
type Kind struct{}

// Name implements kind.Kind.
func (Kind) Name() string  { return "sns" }
func (Kind) Title() string { return "SNS" }
func (Kind) Summary() string {
	return "An SNS topic: encrypted with the service's KMS key, TLS only, delivering to the service's own SQS queues."
}
func (Kind) New() kind.Settings { return &Settings{} }
func (Kind) Port() int          { return 0 }
func (Kind) Stateful() []kind.Stateful {
	return []kind.Stateful{{Type: "AWS::SNS::Topic", Loses: "its subscriptions and the messages in flight"}}
}
func (Kind) Rules() []kind.Rule { return []kind.Rule{ruleSubscriptions()} }
func (Kind) SettingsDoc() string {
	return "a subscription's filter names at least one value for each attribute, at most 5 attributes and 150 values."
}

// Settings is an sns resource.
type Settings struct {
	Fifo          bool           `yaml:"fifo" doc:"First-in-first-out topic (default false); its name ends in .fifo, and it delivers only to FIFO queues."`
	Subscriptions []Subscription `yaml:"subscriptions" doc:"The service's queues the topic delivers to."`
}

// Subscription is one queue the topic delivers to.
type Subscription struct {
	Queue string `yaml:"queue" required:"true" doc:"An sqs resource of this service."`
	// Filter is an SNS filter policy of exact matches: a message is
	// delivered when each named attribute has one of the values.
	Filter map[string][]string `yaml:"filter" doc:"Filter policy: message attribute -> the values delivered (exact matches)."`
	Raw    *bool               `yaml:"raw" doc:"Raw message delivery, without SNS's JSON envelope (default true)."`
}

// SNS's limits on a filter policy.
const (
	maxFilterKeys   = 5
	maxFilterValues = 150
)

// Defaults implements kind.Settings.
func (s *Settings) Defaults(func(string) bool) {
	for i := range s.Subscriptions {
		if s.Subscriptions[i].Raw == nil {
			s.Subscriptions[i].Raw = kind.Ptr(true)
		}
	}
}

// Outputs implements kind.Settings.
func (s *Settings) Outputs() []kind.Output {
	return []kind.Output{{Name: "arn", ID: "TopicArn"}, {Name: "name", ID: "TopicName"}}
}

// topicName is the kind of name a topic's is.
type topicName struct{}

func (topicName) String() string { return "topic name" }
func (topicName) Noun() string   { return "SNS topic name" }

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.fifo)?$`)

func (topicName) Validate(name string) error {
	if err := naming.Length(name, 256); err != nil {
		return err
	}
	if !nameRe.MatchString(name) {
		return fmt.Errorf("may hold only letters, digits, '-' and '_' (and end in .fifo for a FIFO topic)")
	}
	return nil
}

// TopicName is the topic's name: <service>-<stage>-<resource>, ending in
// .fifo for a FIFO topic as SNS requires.
func TopicName(service, stage, resource string, fifo bool) string {
	n := service + "-" + stage + "-" + resource
	if fifo {
		n += ".fifo"
	}
	return n
}

// Names implements kind.Settings.
func (s *Settings) Names(n kind.NameInput) []naming.Derived {
	p := "service-stage-resource"
	if s.Fifo {
		p += ".fifo"
	}
	return []naming.Derived{{Kind: topicName{}, Value: TopicName(n.Service, n.Stage, n.Resource, s.Fifo), Pattern: p, Resource: n.Resource}}
}

// Check implements kind.Settings.
func (s *Settings) Check(c kind.Check) {
	for i, sub := range s.Subscriptions {
		at := fmt.Sprintf("subscriptions[%d].filter", i)
		if len(sub.Filter) > maxFilterKeys {
			c.Report(at, "`%s` names %d attributes; an SNS filter policy names at most %d", c.Path(at), len(sub.Filter), maxFilterKeys)
		}
		n := 0
		for k, vals := range sub.Filter {
			n += len(vals)
			if len(vals) == 0 {
				c.Report(at+"."+k, "`%s` lists no values; name at least one, or remove the attribute", c.Path(at+"."+k))
			}
		}
		if n > maxFilterValues {
			c.Report(at, "`%s` lists %d values; an SNS filter policy holds at most %d", c.Path(at), n, maxFilterValues)
		}
	}
}
