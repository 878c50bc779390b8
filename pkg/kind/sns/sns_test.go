package sns_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/internal/kindtest"
)

const topic = `resources:
  events:
    type: sns
    subscriptions:
      - queue: work
        filter: {eventType: [order.created]}
  work:
    type: sqs
`

func TestRender(t *testing.T) {
	tpl := kindtest.Template(t, topic, "data")
	tp := kindtest.Props(t, tpl, "EventsTopic")
	if tp["TopicName"] != "shop-dev-events" || kindtest.JSON(tp["KmsMasterKeyId"]) != `{"Fn::GetAtt":["DataKey","Arn"]}` || tp["FifoTopic"] != nil {
		t.Errorf("topic = %s", kindtest.JSON(tp))
	}
	sub := kindtest.JSON(kindtest.Props(t, tpl, "EventsToWork"))
	for _, want := range []string{`"Protocol":"sqs"`, `"Endpoint":{"Fn::GetAtt":["WorkQueue","Arn"]}`, `"FilterPolicy":{"eventType":["order.created"]}`, `"RawMessageDelivery":true`, `"TopicArn":{"Ref":"EventsTopic"}`} {
		if !strings.Contains(sub, want) {
			t.Errorf("subscription lacks %s: %s", want, sub)
		}
	}
	// The queue lets SNS in for this topic only, and the data key lets SNS
	// encrypt what it delivers; both name the topic by its ARN, built from
	// its name (a reference would make the key and the topic a cycle).
	arn := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":sns:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":shop-dev-events"]]}`
	qp := kindtest.JSON(kindtest.Props(t, tpl, "WorkQueuePolicy"))
	if !strings.Contains(qp, `"Service":"sns.amazonaws.com"`) || !strings.Contains(qp, `"aws:SourceArn":`+arn) {
		t.Errorf("queue policy = %s", qp)
	}
	kp := kindtest.JSON(kindtest.Props(t, tpl, "DataKey")["KeyPolicy"])
	if !strings.Contains(kp, `"Sid":"EventsToWork"`) || !strings.Contains(kp, `"aws:SourceArn":`+arn) {
		t.Errorf("data key policy = %s", kp)
	}
	pol := kindtest.JSON(kindtest.Props(t, kindtest.Template(t, topic, "app"), "TaskRole")["Policies"])
	if !strings.Contains(pol, `"sns:Publish"`) || !strings.Contains(pol, `"service-topics"`) {
		t.Errorf("task role = %s", pol)
	}
	fifo := strings.Replace(strings.Replace(topic, "type: sns", "type: sns\n    fifo: true", 1), "type: sqs", "type: sqs\n    fifo: true", 1)
	if p := kindtest.Props(t, kindtest.Template(t, fifo, "data"), "EventsTopic"); p["TopicName"] != "shop-dev-events.fifo" || p["FifoTopic"] != true {
		t.Errorf("fifo topic = %s", kindtest.JSON(p))
	}
}

func TestSubscriptionRule(t *testing.T) {
	cases := []struct {
		name, frag string
		want       []string
	}{
		{"clean", topic, nil},
		{"fifo queue, standard topic", strings.Replace(topic, "type: sqs", "type: sqs\n    fifo: true", 1),
			[]string{"5:16 `resources.events.subscriptions[0].queue` \"work\" is a FIFO queue, but topic \"events\" is standard; SNS delivers to FIFO queues only from FIFO topics: set `fifo` the same on both"}},
		{"fifo topic, standard queue", strings.Replace(topic, "type: sns", "type: sns\n    fifo: true", 1),
			[]string{"6:16 `resources.events.subscriptions[0].queue` \"work\" is a standard queue, but topic \"events\" is FIFO; a FIFO topic delivers only to FIFO queues: set `fifo` the same on both"}},
		{"not a queue", "resources:\n  events:\n    type: sns\n    subscriptions:\n      - queue: files\n  files: {type: s3}\n",
			[]string{"5:16 `resources.events.subscriptions[0].queue` \"files\" is of type s3, not a queue; a topic delivers to sqs resources"}},
		{"no such resource", "resources:\n  events:\n    type: sns\n    subscriptions:\n      - queue: nowhere\n",
			[]string{"5:16 `resources.events.subscriptions[0].queue` \"nowhere\" is not a resource of this service; name one of its sqs resources"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := kindtest.Findings(t, c.frag, "GN505"); !slices.Equal(got, c.want) {
				t.Errorf("GN505 = %q\nwant %q", got, c.want)
			}
		})
	}
	twice := "resources:\n  events:\n    type: sns\n    subscriptions:\n      - queue: work\n      - queue: work\n  work: {type: sqs}\n"
	if got := kindtest.Findings(t, twice, "GN505"); !slices.Equal(got, []string{"6:16 `resources.events.subscriptions[1].queue` \"work\" is subscribed twice; one subscription a queue"}) {
		t.Errorf("twice: GN505 = %q", got)
	}
	// Render refuses what lint refuses, rather than write a broken template.
	if err := kindtest.RenderErr(t, "resources:\n  events:\n    type: sns\n    subscriptions:\n      - queue: files\n  files: {type: s3}\n"); err == nil || !strings.Contains(err.Error(), "not an sqs resource") {
		t.Errorf("render of a subscription to a bucket: %v", err)
	}
}

func TestFilterChecks(t *testing.T) {
	frag := "resources:\n  events:\n    type: sns\n    subscriptions:\n      - queue: work\n        filter: {a: [x], b: [x], c: [x], d: [x], e: [x], f: [x]}\n  work: {type: sqs}\n"
	got := kindtest.Findings(t, frag, "GN503")
	if len(got) != 1 || !strings.Contains(got[0], "names 6 attributes; an SNS filter policy names at most 5") {
		t.Errorf("GN503 = %q", got)
	}
}
