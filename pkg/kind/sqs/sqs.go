// Package sqs is the sqs resource kind: an SQS queue with its dead-letter
// queue, encrypted with the service's data key, TLS only.
package sqs

import (
	"fmt"
	"regexp"
	"time"

	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Kind is the sqs kind.
type Kind struct{}

// Name implements kind.Kind.
func (Kind) Name() string  { return "sqs" }
func (Kind) Title() string { return "SQS" }
func (Kind) Summary() string {
	return "An SQS queue and its dead-letter queue: encrypted with the service's KMS key, TLS only."
}
func (Kind) New() kind.Settings { return &Settings{} }
func (Kind) Port() int          { return 0 }
func (Kind) Stateful() []kind.Stateful {
	return []kind.Stateful{{Type: "AWS::SQS::Queue", Loses: "every message in the queue"}}
}
func (Kind) Rules() []kind.Rule { return nil }
func (Kind) SettingsDoc() string {
	return "visibilityTimeout 0s to 12h and retention 1m to 336h, both in whole seconds; deadLetter.maxReceives 1 to 1000."
}

// Settings is an sqs resource.
type Settings struct {
	Fifo              bool          `yaml:"fifo" doc:"First-in-first-out, exactly-once queue (default false); its name ends in .fifo."`
	VisibilityTimeout kind.Duration `yaml:"visibilityTimeout" doc:"How long a received message stays hidden from other consumers (default 30s, at most 12h)."`
	Retention         kind.Duration `yaml:"retention" doc:"How long a message is kept (default 96h, 1m to 336h)."`
	DeadLetter        *DeadLetter   `yaml:"deadLetter" doc:"Where messages go after too many receives (default maxReceives 5)."`
}

// DeadLetter configures the queue's dead-letter queue.
type DeadLetter struct {
	MaxReceives int `yaml:"maxReceives" min:"1" max:"1000" doc:"Receives before a message moves to the dead-letter queue (default 5, 1 to 1000)."`
}

// Limits SQS puts on what a descriptor sets.
const (
	maxVisibility  = 12 * time.Hour
	minRetention   = time.Minute
	maxRetention   = 336 * time.Hour // 14 days
	maxMaxReceives = 1000
	// dlqRetention keeps dead letters as long as SQS allows, to inspect.
	dlqRetention = maxRetention
)

// Defaults implements kind.Settings.
func (s *Settings) Defaults(set func(string) bool) {
	if !s.VisibilityTimeout.Set {
		s.VisibilityTimeout = kind.Duration{Duration: 30 * time.Second}
	}
	if !s.Retention.Set {
		s.Retention = kind.Duration{Duration: 96 * time.Hour}
	}
	if s.DeadLetter == nil {
		s.DeadLetter = &DeadLetter{}
	}
	if !set("deadLetter.maxReceives") {
		s.DeadLetter.MaxReceives = 5
	}
}

// Outputs implements kind.Settings.
func (s *Settings) Outputs() []kind.Output {
	return []kind.Output{
		{Name: "url", ID: "QueueUrl"},
		{Name: "arn", ID: "QueueArn"},
		{Name: "name", ID: "QueueName"},
		{Name: "dlqUrl", ID: "DeadLetterQueueUrl"},
		{Name: "dlqArn", ID: "DeadLetterQueueArn"},
	}
}

// FIFO implements kind.Queue.
func (s *Settings) FIFO() bool { return s.Fifo }

// QueueArn implements kind.Queue.
func (s *Settings) QueueArn(f kind.Fn, self kind.Resource) string {
	return f.GetAtt(self.Stem+"Queue", "Arn")
}

// BacklogOutput implements kind.Queue.
func (s *Settings) BacklogOutput() string { return "name" }

// queueName is the kind of name a queue's is.
type queueName struct{}

func (queueName) String() string { return "queue name" }
func (queueName) Noun() string   { return "SQS queue name" }

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.fifo)?$`)

func (queueName) Validate(name string) error {
	if err := naming.Length(name, 80); err != nil {
		return err
	}
	if !nameRe.MatchString(name) {
		return fmt.Errorf("may hold only letters, digits, '-' and '_' (and end in .fifo for a FIFO queue)")
	}
	return nil
}

// QueueName is the queue's name: <service>-<stage>-<resource>, and -dlq
// for its dead-letter queue; a FIFO queue's ends in .fifo, as SQS requires.
func QueueName(service, stage, resource string, dlq, fifo bool) string {
	n := service + "-" + stage + "-" + resource
	if dlq {
		n += "-dlq"
	}
	if fifo {
		n += ".fifo"
	}
	return n
}

// Names implements kind.Settings.
func (s *Settings) Names(n kind.NameInput) []naming.Derived {
	sfx := ""
	if s.Fifo {
		sfx = ".fifo"
	}
	return []naming.Derived{
		{Kind: queueName{}, Value: QueueName(n.Service, n.Stage, n.Resource, false, s.Fifo), Pattern: "service-stage-resource" + sfx, Resource: n.Resource},
		{Kind: queueName{}, Value: QueueName(n.Service, n.Stage, n.Resource, true, s.Fifo), Pattern: "service-stage-resource-dlq" + sfx, Resource: n.Resource},
	}
}

// Check implements kind.Settings.
func (s *Settings) Check(c kind.Check) {
	if v := s.VisibilityTimeout.Duration; v > maxVisibility || v%time.Second != 0 {
		c.Report("visibilityTimeout", "`%s` %s is not whole seconds from 0s to 12h, what SQS allows", c.Path("visibilityTimeout"), v)
	}
	if r := s.Retention.Duration; r < minRetention || r > maxRetention || r%time.Second != 0 {
		c.Report("retention", "`%s` %s is not whole seconds from 1m to 336h (14 days), what SQS allows", c.Path("retention"), r)
	}
	if dl := s.DeadLetter; dl != nil && (dl.MaxReceives < 1 || dl.MaxReceives > maxMaxReceives) {
		c.Report("deadLetter.maxReceives", "`%s` %d is out of range; SQS moves a message after 1 to %d receives", c.Path("deadLetter.maxReceives"), dl.MaxReceives, maxMaxReceives)
	}
}
