package sns

import (
	"github.com/awslabs/goformation/v7/cloudformation/sns"

	"github.com/gantryhq/gantry/pkg/kind"
)

// principal is the service that delivers to the queues.
const principal = "sns.amazonaws.com"

// Render implements kind.Settings.
func (s *Settings) Render(d kind.Data) {
	self := d.Self()
	topic := self.Stem + "Topic"
	t := &sns.Topic{
		TopicName:      kind.Ptr(TopicName(d.Service(), d.Stage(), self.Name, s.Fifo)),
		KmsMasterKeyId: kind.Ptr(d.DataKey()),
		Tags:           d.Tags(),
	}
	if s.Fifo {
		t.FifoTopic = kind.Ptr(true)
	}
	d.Add(topic, t)
	arn := d.Ref(topic)
	d.Add(self.Stem+"TopicPolicy", &sns.TopicPolicy{
		Topics:         []string{arn},
		PolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": []any{kind.DenyInsecureTransport("sns:Publish", arn)}},
	})
	for i, sub := range s.Subscriptions {
		q, ok := d.Peer(sub.Queue)
		queue, isQueue := q.Settings.(kind.Queue)
		if !ok || !isQueue {
			d.Fail("subscriptions[%d].queue %q is not an sqs resource of the service", i, sub.Queue)
			continue
		}
		subscription := &sns.Subscription{
			TopicArn:           arn,
			Protocol:           "sqs",
			Endpoint:           kind.Ptr(queue.QueueArn(d, q)),
			RawMessageDelivery: sub.Raw,
		}
		if len(sub.Filter) > 0 {
			subscription.FilterPolicy = sub.Filter
		}
		d.Add(self.Stem+"To"+q.Stem, subscription)
	}
	d.Output("arn", arn, "SNS "+self.Name+" topic ARN")
	d.Output("name", d.GetAtt(topic, "TopicName"), "SNS "+self.Name+" topic name")
}

// Sends implements kind.Sender: the topic delivers to each subscribed
// queue, which must let SNS in for this topic only.
func (s *Settings) Sends(f kind.Fn, service, stage string, self kind.Resource) []kind.Send {
	var out []kind.Send
	arn := f.Arn("sns", TopicName(service, stage, self.Name, s.Fifo))
	for _, sub := range s.Subscriptions {
		out = append(out, kind.Send{To: sub.Queue, Inbound: kind.Inbound{
			From: self.Name, Service: principal, Actions: []string{"sqs:SendMessage"}, SourceArn: arn,
		}})
	}
	return out
}

// Grants implements kind.Settings: read sees the topic, write publishes to
// it, using the data key as SNS does.
func (s *Settings) Grants(a kind.App) []kind.Statement {
	const policy = "service-topics"
	arn := a.Import("arn")
	out := []kind.Statement{{Policy: policy, Sid: "ReadTopics", Resources: []string{arn}, Actions: []string{"sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"}}}
	if a.Access() == kind.AccessWrite {
		out = append(out, kind.Statement{Policy: policy, Sid: "PublishToTopics", Resources: []string{arn}, Actions: []string{"sns:Publish"}})
	}
	return append(out, kind.DataKeyUse(a, policy, "UseDataKey", "sns"))
}
