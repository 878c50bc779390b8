package sqs_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/internal/kindtest"
	"github.com/gantryhq/gantry/pkg/kind/sqs"
)

const queue = "resources:\n  work:\n    type: sqs\n"

func TestDefaults(t *testing.T) {
	s := kindtest.Load(t, queue).Resources["work"].Settings.(*sqs.Settings)
	if s.VisibilityTimeout.Duration != 30*time.Second || s.Retention.Duration != 96*time.Hour || s.DeadLetter.MaxReceives != 5 || s.Fifo {
		t.Errorf("defaults = %+v, dead letter %+v", s, s.DeadLetter)
	}
	s = kindtest.Load(t, queue+"    deadLetter: {}\n").Resources["work"].Settings.(*sqs.Settings)
	if s.DeadLetter.MaxReceives != 5 {
		t.Errorf("deadLetter: {} gives maxReceives %d", s.DeadLetter.MaxReceives)
	}
}

func TestRender(t *testing.T) {
	tpl := kindtest.Template(t, queue+"    visibilityTimeout: 2m\n    deadLetter: {maxReceives: 7}\n", "data")
	q, dlq := kindtest.Props(t, tpl, "WorkQueue"), kindtest.Props(t, tpl, "WorkDeadLetterQueue")
	for key, want := range map[string]string{
		"QueueName":              `"shop-dev-work"`,
		"VisibilityTimeout":      `120`,
		"MessageRetentionPeriod": `345600`,
		"RedrivePolicy":          `{"deadLetterTargetArn":{"Fn::GetAtt":["WorkDeadLetterQueue","Arn"]},"maxReceiveCount":7}`,
		"KmsMasterKeyId":         `{"Fn::GetAtt":["DataKey","Arn"]}`,
	} {
		if got := kindtest.JSON(q[key]); got != want {
			t.Errorf("queue %s = %s, want %s", key, got, want)
		}
	}
	if dlq["QueueName"] != "shop-dev-work-dlq" || dlq["MessageRetentionPeriod"] != float64(1209600) || q["FifoQueue"] != nil {
		t.Errorf("dead-letter queue = %s", kindtest.JSON(dlq))
	}
	pol := kindtest.JSON(kindtest.Props(t, tpl, "WorkQueuePolicy"))
	if !strings.Contains(pol, `"aws:SecureTransport":"false"`) || strings.Contains(pol, "sns.amazonaws.com") {
		t.Errorf("queue policy without subscribers = %s", pol)
	}
	fifo := kindtest.Template(t, queue+"    fifo: true\n", "data")
	if p := kindtest.Props(t, fifo, "WorkQueue"); p["QueueName"] != "shop-dev-work.fifo" || p["FifoQueue"] != true {
		t.Errorf("fifo queue = %s", kindtest.JSON(p))
	}
	if p := kindtest.Props(t, fifo, "WorkDeadLetterQueue"); p["QueueName"] != "shop-dev-work-dlq.fifo" {
		t.Errorf("fifo dead-letter queue = %s", kindtest.JSON(p))
	}
}

func TestGrants(t *testing.T) {
	pol := func(frag string) string {
		return kindtest.JSON(kindtest.Props(t, kindtest.Template(t, frag, "app"), "TaskRole")["Policies"])
	}
	w := pol(queue)
	for _, want := range []string{`"service-queues"`, `"sqs:SendMessage"`, `"sqs:ReceiveMessage"`, `"sqs.`} {
		if !strings.Contains(w, want) {
			t.Errorf("write policy lacks %s: %s", want, w)
		}
	}
	if r := pol(queue + "    access: read\n"); strings.Contains(r, "sqs:SendMessage") || !strings.Contains(r, "sqs:DeleteMessage") {
		t.Errorf("read policy: %s", r)
	}
}

func TestChecks(t *testing.T) {
	cases := []struct {
		frag string
		want []string
	}{
		{queue + "    visibilityTimeout: 13h\n", []string{"4:24 `resources.work.visibilityTimeout` 13h0m0s is not whole seconds from 0s to 12h, what SQS allows"}},
		{queue + "    retention: 30s\n", []string{"4:16 `resources.work.retention` 30s is not whole seconds from 1m to 336h (14 days), what SQS allows"}},
		{queue + "    retention: 400h\n", []string{"4:16 `resources.work.retention` 400h0m0s is not whole seconds from 1m to 336h (14 days), what SQS allows"}},
		{queue + "    deadLetter: {maxReceives: 1001}\n", []string{"4:31 `resources.work.deadLetter.maxReceives` 1001 is out of range; SQS moves a message after 1 to 1000 receives"}},
		{queue + "    deadLetter: {maxReceives: 0}\n", []string{"4:31 `resources.work.deadLetter.maxReceives` 0 is out of range; SQS moves a message after 1 to 1000 receives"}},
		{queue + "    visibilityTimeout: 12h\n    retention: 1m\n    deadLetter: {maxReceives: 1000}\n", nil},
	}
	for _, c := range cases {
		if got := kindtest.Findings(t, c.frag, "GN503"); !slices.Equal(got, c.want) {
			t.Errorf("%q: GN503 = %q\nwant %q", c.frag, got, c.want)
		}
	}
}

func TestBacklogScaling(t *testing.T) {
	frag := queue + "scaling:\n  min: 1\n  max: 8\n  queue: {resource: work, messagesPerTask: 50}\n"
	tpl := kindtest.Template(t, frag, "app")
	p := kindtest.JSON(kindtest.Props(t, tpl, "BacklogScalingPolicy"))
	for _, want := range []string{`"ApproximateNumberOfMessagesVisible"`, `"RunningTaskCount"`, `"Expression":"visible / tasks"`, `"TargetValue":50`, `"Fn::ImportValue":"shop-dev-data:WorkQueueName"`} {
		if !strings.Contains(p, want) {
			t.Errorf("scaling policy lacks %s: %s", want, p)
		}
	}
	if d := kindtest.Load(t, queue+"scaling:\n  queue: {resource: work}\n"); d.Scaling.Queue.MessagesPerTask != 100 {
		t.Errorf("messagesPerTask default = %d", d.Scaling.Queue.MessagesPerTask)
	}
	cases := []struct{ frag, want string }{
		{"resources:\n  files: {type: s3}\nscaling:\n  queue: {resource: files}\n", "4:21 `scaling.queue.resource` \"files\" is of type s3, not a queue; name an sqs resource of this service"},
		{queue + "scaling:\n  queue: {resource: jobs}\n", "5:21 `scaling.queue.resource` \"jobs\" is not a resource of this service; name one of its sqs resources"},
		{queue + "scaling:\n  queue: {resource: work, messagesPerTask: 0}\n", "5:44 `scaling.queue.messagesPerTask` 0 is below 1; say how many visible messages each task should carry"},
		{queue + "compute: {cpu: 256, memory: 512, port: 8080}\nrouting: {path: /x}\nscaling:\n  queue: {resource: work}\n", "7:3 `scaling.queue` is set on a web service (compute.port is set); a web service scales on CPU: remove `scaling.queue`, or the port for a worker"},
	}
	for _, c := range cases {
		if got := kindtest.Findings(t, c.frag, "GN207"); !slices.Equal(got, []string{c.want}) {
			t.Errorf("%q: GN207 = %q, want %q", c.frag, got, c.want)
		}
	}
}
