package sns

import (
	"fmt"

	"github.com/gantryhq/gantry/pkg/kind"
)

// ruleSubscriptions: a subscription names a queue of the service that SNS
// can deliver to.
func ruleSubscriptions() kind.Rule {
	return kind.Rule{
		ID: "GN505", Name: "topic-subscriptions", Severity: kind.Error,
		Title: "a topic's subscriptions name queues of the service it can deliver to",
		Doc: "A subscription names an sqs resource of the same service, once. SNS delivers to a FIFO queue only " +
			"from a FIFO topic, and a FIFO topic only to FIFO queues: make both FIFO or neither.",
		ExampleYAML: "resources:\n  events:\n    type: sns\n    subscriptions:\n      - queue: work\n" +
			"  work:\n    type: sqs\n    fifo: true\n",
		ExampleMessage: "`resources.events.subscriptions[0].queue` \"work\" is a FIFO queue, but topic \"events\" is standard; SNS delivers to FIFO queues only from FIFO topics: set `fifo` the same on both",
		Check: func(c kind.Check) {
			s, ok := c.Self().Settings.(*Settings)
			if !ok {
				return
			}
			seen := map[string]bool{}
			for i, sub := range s.Subscriptions {
				checkSubscription(c, s, fmt.Sprintf("subscriptions[%d].queue", i), sub.Queue, seen)
			}
		},
	}
}

func checkSubscription(c kind.Check, s *Settings, at, name string, seen map[string]bool) {
	if name == "" {
		return
	}
	if seen[name] {
		c.Report(at, "`%s` %q is subscribed twice; one subscription a queue", c.Path(at), name)
		return
	}
	seen[name] = true
	q, ok := c.Peer(name)
	if !ok {
		c.Report(at, "`%s` %q is not a resource of this service; name one of its sqs resources", c.Path(at), name)
		return
	}
	queue, ok := q.Settings.(kind.Queue)
	if !ok {
		c.Report(at, "`%s` %q is of type %s, not a queue; a topic delivers to sqs resources", c.Path(at), name, q.Kind.Name())
		return
	}
	topic := c.Self().Name
	switch {
	case queue.FIFO() && !s.Fifo:
		c.Report(at, "`%s` %q is a FIFO queue, but topic %q is standard; SNS delivers to FIFO queues only from FIFO topics: set `fifo` the same on both", c.Path(at), name, topic)
	case !queue.FIFO() && s.Fifo:
		c.Report(at, "`%s` %q is a standard queue, but topic %q is FIFO; a FIFO topic delivers only to FIFO queues: set `fifo` the same on both", c.Path(at), name, topic)
	}
}
