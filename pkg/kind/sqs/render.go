package sqs

import (
	"fmt"

	"github.com/awslabs/goformation/v7/cloudformation/policies"
	"github.com/awslabs/goformation/v7/cloudformation/sqs"

	"github.com/gantryhq/gantry/pkg/kind"
)

// Render implements kind.Settings.
func (s *Settings) Render(d kind.Data) {
	self := d.Self()
	q, dlq := self.Stem+"Queue", self.Stem+"DeadLetterQueue"
	key := d.DataKey()
	var fifo *bool
	if s.Fifo {
		fifo = kind.Ptr(true)
	}
	maxReceives := 5
	if s.DeadLetter != nil {
		maxReceives = s.DeadLetter.MaxReceives
	}
	d.Add(dlq, &sqs.Queue{
		QueueName:              kind.Ptr(QueueName(d.Service(), d.Stage(), self.Name, true, s.Fifo)),
		FifoQueue:              fifo,
		MessageRetentionPeriod: kind.Ptr(int(dlqRetention.Seconds())),
		KmsMasterKeyId:         kind.Ptr(key),
		Tags:                   d.Tags(),

		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Retain"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Retain"),
	})
	d.Add(q, &sqs.Queue{
		QueueName:              kind.Ptr(QueueName(d.Service(), d.Stage(), self.Name, false, s.Fifo)),
		FifoQueue:              fifo,
		VisibilityTimeout:      kind.Ptr(int(s.VisibilityTimeout.Seconds())),
		MessageRetentionPeriod: kind.Ptr(int(s.Retention.Seconds())),
		RedrivePolicy:          map[string]any{"deadLetterTargetArn": d.GetAtt(dlq, "Arn"), "maxReceiveCount": maxReceives},
		KmsMasterKeyId:         kind.Ptr(key),
		Tags:                   d.Tags(),

		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Retain"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Retain"),
	})
	arn, dlqArn := d.GetAtt(q, "Arn"), d.GetAtt(dlq, "Arn")
	stmts := []any{kind.DenyInsecureTransport("sqs:*", arn, dlqArn)}
	for _, in := range d.Inbound() {
		stmts = append(stmts, map[string]any{
			"Sid": "From" + kind.Stem(in.From), "Effect": "Allow",
			"Principal": map[string]any{"Service": in.Service},
			"Action":    in.Actions, "Resource": arn,
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": in.SourceArn}},
		})
		// The sender's service encrypts what it delivers with the queue's key.
		d.AllowDataKey(map[string]any{
			"Sid": fmt.Sprintf("%sTo%s", kind.Stem(in.From), self.Stem), "Effect": "Allow",
			"Principal": map[string]any{"Service": in.Service},
			"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey"}, "Resource": "*",
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": in.SourceArn}},
		})
	}
	d.Add(self.Stem+"QueuePolicy", &sqs.QueuePolicy{
		Queues:         []string{d.Ref(q), d.Ref(dlq)},
		PolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": stmts},
	})
	rn := self.Name
	d.Output("url", d.Ref(q), "SQS "+rn+" queue URL")
	d.Output("arn", arn, "SQS "+rn+" queue ARN")
	d.Output("name", d.GetAtt(q, "QueueName"), "SQS "+rn+" queue name")
	d.Output("dlqUrl", d.Ref(dlq), "SQS "+rn+" dead-letter queue URL")
	d.Output("dlqArn", dlqArn, "SQS "+rn+" dead-letter queue ARN")
}

// Grants implements kind.Settings: read consumes the queue (receive,
// delete, extend), write also sends; both read the dead-letter queue's
// attributes, and use the data key as SQS does for them.
func (s *Settings) Grants(a kind.App) []kind.Statement {
	const policy = "service-queues"
	arn, dlq := a.Import("arn"), a.Import("dlqArn")
	out := []kind.Statement{{Policy: policy, Sid: "ConsumeQueues", Resources: []string{arn},
		Actions: []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"}},
		{Policy: policy, Sid: "InspectDeadLetters", Resources: []string{dlq}, Actions: []string{"sqs:GetQueueAttributes", "sqs:GetQueueUrl"}}}
	if a.Access() == kind.AccessWrite {
		out = append(out, kind.Statement{Policy: policy, Sid: "SendToQueues", Resources: []string{arn}, Actions: []string{"sqs:SendMessage"}})
	}
	return append(out, kind.DataKeyUse(a, policy, "UseDataKey", "sqs"))
}
