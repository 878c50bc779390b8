package rollout_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/e2e/proxy"
)

// TestNewKinds rolls out the examples of the table, queue and topic kinds
// (issue 11) through their stages: orders (a web service with a DynamoDB
// table, an SQS queue and an SNS topic delivering to it) and thumbs (a
// worker scaling on its queue's backlog). Each lands as the descriptor
// says — checked on the resources themselves, not only the stacks — and a
// rerun of the same version changes nothing.
func TestNewKinds(t *testing.T) {
	for _, ex := range []struct{ service, file string }{
		{"orders", "examples/orders/orders.sd.yaml"},
		{"thumbs", "examples/thumbs/thumbs.sd.yaml"},
	} {
		t.Run(ex.service, func(t *testing.T) {
			e := newEnv(t)
			e.bootstrap(ex.file)
			c := newCloud(t)
			p := loadPlan(t, ex.file)
			res, _ := e.deploy(0, ex.file, "1.0.0", fullRollout...)
			wantStatuses(t, res, map[string]string{"*": "deployed"})
			for _, s := range p.Steps() {
				for _, name := range []string{dataStack(ex.service, s.Stage), appStack(ex.service, s.Stage)} {
					if st := c.mustStack(s.Account, s.Region, name); st.Status != "CREATE_COMPLETE" {
						t.Errorf("%s in %s/%s: %s", name, s.Account, s.Region, st.Status)
					}
				}
			}
			first := p.Steps()[0]
			if ex.service == "orders" {
				checkOrders(t, c, first.Account, first.Region)
			} else {
				checkThumbs(t, c, first.Account, first.Region)
			}
			e.proxy.ResetCounts()
			res, _ = e.deploy(0, ex.file, "1.0.0", fullRollout...)
			wantStatuses(t, res, map[string]string{"*": "unchanged"})
			if mutating := proxy.Mutating(e.proxy.Counts()); len(mutating) > 0 {
				t.Errorf("an unchanged rerun made mutating calls: %s", formatOps(mutating))
			}
		})
	}
}

// checkOrders looks at the table, the queues and the subscription in one
// region: what the descriptor asked for is on the resources.
func checkOrders(t *testing.T, c *cloud, account, region string) {
	t.Helper()
	data := c.mustStack(account, region, dataStack("orders", "dev"))
	cfg := c.cfg(account, region)
	table := data.Outputs["OrdersTableName"]
	desc, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx(t), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("describing table %q: %v", table, err)
	}
	tb := desc.Table
	if !strings.HasPrefix(table, "orders-dev-orders-") || len(tb.KeySchema) != 2 || len(tb.GlobalSecondaryIndexes) != 1 ||
		aws.ToString(tb.GlobalSecondaryIndexes[0].IndexName) != "by-customer" {
		t.Errorf("table %s: keys %d, indexes %+v", table, len(tb.KeySchema), tb.GlobalSecondaryIndexes)
	}
	if tb.StreamSpecification == nil || !aws.ToBool(tb.StreamSpecification.StreamEnabled) || data.Outputs["OrdersTableStreamArn"] == "" {
		t.Errorf("table %s has no stream (outputs %v)", table, data.Outputs)
	}
	if tb.SSEDescription == nil || tb.SSEDescription.SSEType != "KMS" {
		t.Errorf("table %s is not encrypted with a KMS key: %+v", table, tb.SSEDescription)
	}
	q := sqs.NewFromConfig(cfg)
	attrs, err := q.GetQueueAttributes(ctx(t), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(data.Outputs["WorkQueueUrl"]), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("reading the work queue %q: %v", data.Outputs["WorkQueueUrl"], err)
	}
	a := attrs.Attributes
	if a["VisibilityTimeout"] != "120" || a["KmsMasterKeyId"] == "" || !strings.Contains(a["RedrivePolicy"], data.Outputs["WorkDeadLetterQueueArn"]) ||
		!strings.Contains(a["Policy"], "sns.amazonaws.com") {
		t.Errorf("work queue attributes: %v", a)
	}
	subs, err := sns.NewFromConfig(cfg).ListSubscriptionsByTopic(ctx(t), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(data.Outputs["EventsTopicArn"])})
	if err != nil || len(subs.Subscriptions) != 1 {
		t.Fatalf("subscriptions of %s: %v, %v", data.Outputs["EventsTopicArn"], subs, err)
	}
	sa, err := sns.NewFromConfig(cfg).GetSubscriptionAttributes(ctx(t), &sns.GetSubscriptionAttributesInput{SubscriptionArn: subs.Subscriptions[0].SubscriptionArn})
	if err != nil {
		t.Fatal(err)
	}
	var filter map[string][]string
	_ = json.Unmarshal([]byte(sa.Attributes["FilterPolicy"]), &filter)
	if !slices.Equal(filter["eventType"], []string{"order.created"}) || sa.Attributes["RawMessageDelivery"] != "true" ||
		sa.Attributes["Endpoint"] != data.Outputs["WorkQueueArn"] {
		t.Errorf("subscription attributes: %v", sa.Attributes)
	}
}

// checkThumbs looks at the worker's backlog scaling policy.
func checkThumbs(t *testing.T, c *cloud, account, region string) {
	t.Helper()
	app := c.mustStack(account, region, appStack("thumbs", "dev"))
	if !strings.Contains(app.Template, "BacklogScalingPolicy") || !strings.Contains(app.Template, "ApproximateNumberOfMessagesVisible") {
		t.Errorf("the thumbs app stack has no backlog scaling policy")
	}
}

// TestTableKeyChange changes the orders table's sort key type: DynamoDB can
// only do that with a new table. The deploy is refused without
// --allow-data-loss, naming the table and the property; plan shows it as
// data loss; with --allow-data-loss the new table is made and the old one
// kept (Retain).
func TestTableKeyChange(t *testing.T) {
	e := newEnv(t)
	src, err := os.ReadFile(filepath.Join(e2etest.Repo, "examples/orders/orders.sd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Split(string(src), "\n  - name: prod")[0] + "\nrollout:\n  gate: orders-deploy-gate\n  halt: deploy-halt\n"
	file := e.writeDescriptor("orders", text)
	e.bootstrap(file)
	c := newCloud(t)
	e.deploy(0, file, "1.0.0", "--bake", "0s")
	before := c.mustStack(devAccount, "us-east-1", dataStack("orders", "dev"))

	changed := strings.Replace(text, "sortKey: {name: sk, type: string}", "sortKey: {name: sk, type: number}", 1)
	if changed == text {
		t.Fatal("the example's sort key is not where this test looks for it")
	}
	if err := writeFile(file, changed); err != nil {
		t.Fatal(err)
	}
	res, _ := e.deploy(1, file, "1.0.0", "--bake", "0s")
	refusal := res.Region(t, "dev", "us-east-1").Error
	for _, want := range []string{"OrdersTable", "AWS::DynamoDB::Table", "--allow-data-loss"} {
		if !strings.Contains(refusal, want) {
			t.Errorf("the refusal does not name %q: %s", want, refusal)
		}
	}
	if !strings.Contains(refusal, "KeySchema") && !strings.Contains(refusal, "TableName") {
		t.Errorf("the refusal names no property: %s", refusal)
	}
	if after := c.mustStack(devAccount, "us-east-1", dataStack("orders", "dev")); after.Template != before.Template {
		t.Error("the refused deploy changed the data stack")
	}
	r := gantryAt(t, e.url, "plan", file, "--stage", "dev", "--output", "json")
	if r.Code != 0 || !planHasDataLoss(t, r.Stdout, "OrdersTable", "") {
		t.Errorf("plan does not show OrdersTable's replacement as data loss\n%s", r)
	}
	res, _ = e.deploy(0, file, "1.0.0", "--bake", "0s", "--allow-data-loss=orders")
	wantStatuses(t, res, map[string]string{"dev/us-east-1": "deployed"})
	after := c.mustStack(devAccount, "us-east-1", dataStack("orders", "dev"))
	oldName, newName := before.Outputs["OrdersTableName"], after.Outputs["OrdersTableName"]
	if oldName == newName || after.Status != "UPDATE_COMPLETE" {
		t.Errorf("after --allow-data-loss: %s, table %s -> %s", after.Status, oldName, newName)
	}
	names, err := dynamodb.NewFromConfig(c.cfg(devAccount, "us-east-1")).ListTables(ctx(t), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names.TableNames, oldName) || !slices.Contains(names.TableNames, newName) {
		t.Errorf("tables %v: want the new %s and the old %s kept", names.TableNames, newName, oldName)
	}
}
