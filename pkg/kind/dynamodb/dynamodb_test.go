package dynamodb_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/internal/kindtest"
	"github.com/gantryhq/gantry/pkg/kind/dynamodb"
)

const table = `resources:
  orders:
    type: dynamodb
    partitionKey: {name: pk, type: string}
    sortKey: {name: sk, type: number}
    ttl: expiresAt
    stream: new-and-old-images
    indexes:
      - name: by-customer
        partitionKey: {name: customerId, type: string}
`

func TestDefaultsAndOutputs(t *testing.T) {
	d := kindtest.Load(t, "resources:\n  t:\n    type: dynamodb\n    partitionKey: {name: pk, type: string}\n")
	r := d.Resources["t"]
	s := r.Settings.(*dynamodb.Settings)
	if s.PointInTimeRecovery == nil || !*s.PointInTimeRecovery || r.Access != "write" {
		t.Errorf("defaults: pitr %v, access %q", s.PointInTimeRecovery, r.Access)
	}
	if got := r.Outputs(); !slices.Equal(got, []string{"name", "arn"}) {
		t.Errorf("outputs without a stream = %v", got)
	}
	d = kindtest.Load(t, table)
	if got := d.Resources["orders"].Outputs(); !slices.Equal(got, []string{"name", "arn", "streamArn"}) {
		t.Errorf("outputs with a stream = %v", got)
	}
}

func TestRender(t *testing.T) {
	tpl := kindtest.Template(t, table, "data")
	p := kindtest.Props(t, tpl, "OrdersTable")
	for key, want := range map[string]string{
		"BillingMode":                      `"PAY_PER_REQUEST"`,
		"KeySchema":                        `[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]`,
		"AttributeDefinitions":             `[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"customerId","AttributeType":"S"}]`,
		"GlobalSecondaryIndexes":           `[{"IndexName":"by-customer","KeySchema":[{"AttributeName":"customerId","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]`,
		"TimeToLiveSpecification":          `{"AttributeName":"expiresAt","Enabled":true}`,
		"StreamSpecification":              `{"StreamViewType":"NEW_AND_OLD_IMAGES"}`,
		"PointInTimeRecoverySpecification": `{"PointInTimeRecoveryEnabled":true}`,
		"SSESpecification":                 `{"KMSMasterKeyId":{"Fn::GetAtt":["DataKey","Arn"]},"SSEEnabled":true,"SSEType":"KMS"}`,
		"DeletionProtectionEnabled":        `false`,
	} {
		if got := kindtest.JSON(p[key]); got != want {
			t.Errorf("%s = %s, want %s", key, got, want)
		}
	}
	name, _ := p["TableName"].(string)
	if !strings.HasPrefix(name, "shop-dev-orders-") || len(name) != len("shop-dev-orders-")+8 {
		t.Errorf("TableName = %q, want shop-dev-orders-<8 hex>", name)
	}
	outs := tpl["Outputs"].(map[string]any)
	for _, id := range []string{"OrdersTableName", "OrdersTableArn", "OrdersTableStreamArn", "DataKeyArn"} {
		if outs[id] == nil {
			t.Errorf("no output %s", id)
		}
	}
	app := kindtest.Template(t, table, "app")
	pol := kindtest.JSON(kindtest.Props(t, app, "TaskRole")["Policies"])
	for _, want := range []string{`"PolicyName":"service-tables"`, `"dynamodb:PutItem"`, `"dynamodb:GetRecords"`, `"kms:ViaService"`} {
		if !strings.Contains(pol, want) {
			t.Errorf("task role policy lacks %s: %s", want, pol)
		}
	}
}

// A key change renames the table, so that CloudFormation can replace it;
// anything else keeps the name.
func TestTableNameFollowsKeys(t *testing.T) {
	name := func(frag string) string {
		return kindtest.Props(t, kindtest.Template(t, frag, "data"), "OrdersTable")["TableName"].(string)
	}
	base := name(table)
	if got := name(strings.Replace(table, "ttl: expiresAt", "ttl: gone", 1)); got != base {
		t.Errorf("a TTL change renamed the table: %s -> %s", base, got)
	}
	if got := name(strings.Replace(table, "{name: sk, type: number}", "{name: sk, type: string}", 1)); got == base {
		t.Error("a sort key change kept the table's name")
	}
	if got := name(strings.Replace(table, "{name: customerId, type: string}", "{name: customer, type: string}", 1)); got == base {
		t.Error("an index key change kept the table's name")
	}
}

func TestReadAccessGrantsNoWrites(t *testing.T) {
	app := kindtest.Template(t, strings.Replace(table, "type: dynamodb", "type: dynamodb\n    access: read", 1), "app")
	pol := kindtest.JSON(kindtest.Props(t, app, "TaskRole")["Policies"])
	if strings.Contains(pol, "dynamodb:PutItem") || !strings.Contains(pol, "dynamodb:Query") {
		t.Errorf("read access policy: %s", pol)
	}
}

func TestChecks(t *testing.T) {
	cases := []struct {
		name, frag string
		want       []string
	}{
		{"clean", table, nil},
		{"bad key type", "resources:\n  t:\n    type: dynamodb\n    partitionKey: {name: pk, type: text}\n",
			[]string{"4:36 `resources.t.partitionKey.type` \"text\" is not a key type; use string, number or binary"}},
		{"duplicate index", "resources:\n  t:\n    type: dynamodb\n    partitionKey: {name: pk, type: string}\n    indexes:\n" +
			"      - {name: by-a, partitionKey: {name: a, type: string}}\n      - {name: by-a, partitionKey: {name: b, type: string}}\n",
			[]string{"7:16 `resources.t.indexes[1].name` \"by-a\" names a second index; index names are unique in a table"}},
		{"attribute with two types", "resources:\n  t:\n    type: dynamodb\n    partitionKey: {name: pk, type: string}\n    indexes:\n" +
			"      - {name: by-pk, partitionKey: {name: pk, type: number}}\n",
			[]string{"6:54 `resources.t.indexes[0].partitionKey.type` says attribute \"pk\" is number, but another key says string; an attribute has one type"}},
		{"bad stream", "resources:\n  t:\n    type: dynamodb\n    partitionKey: {name: pk, type: string}\n    stream: everything\n",
			[]string{"5:13 `resources.t.stream` \"everything\" is not a stream view; use keys-only, new-image, old-image or new-and-old-images"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := kindtest.Findings(t, c.frag, "GN503"); !slices.Equal(got, c.want) {
				t.Errorf("GN503 = %q\nwant %q", got, c.want)
			}
		})
	}
	var many strings.Builder
	many.WriteString("resources:\n  t:\n    type: dynamodb\n    partitionKey: {name: pk, type: string}\n    indexes:\n")
	for i := range 21 {
		many.WriteString("      - {name: ix" + string(rune('a'+i)) + "x, partitionKey: {name: pk, type: string}}\n")
	}
	if got := kindtest.Findings(t, many.String(), "GN503"); len(got) != 1 || !strings.Contains(got[0], "has 21 indexes; DynamoDB allows at most 20") {
		t.Errorf("21 indexes: %q", got)
	}
}

func TestMissingPartitionKeyIsALoaderProblem(t *testing.T) {
	probs := kindtest.Problems("resources:\n  t:\n    type: dynamodb\n")
	if len(probs) != 1 || probs[0].Line != 3 || !strings.Contains(probs[0].Message, `"partitionKey"`) {
		t.Errorf("problems = %v", probs)
	}
	probs = kindtest.Problems("resources:\n  t:\n    type: dynamodb\n    partitionKey: {name: pk, type: string}\n    indexes:\n      - {name: by-a}\n")
	if len(probs) != 1 || probs[0].Line != 6 || !strings.Contains(probs[0].Message, `"partitionKey"`) {
		t.Errorf("index without partition key: %v", probs)
	}
}

func TestApprovalPITR(t *testing.T) {
	prod := "stages:\n  - {name: prod, account: \"777788889999\", approval: true, regions: [us-east-1]}\n"
	frag := "resources:\n  t:\n    type: dynamodb\n    partitionKey: {name: pk, type: string}\n    pointInTimeRecovery: false\n" + prod
	want := []string{"5:26 stage \"prod\" needs approval but DynamoDB table \"t\" has no point-in-time recovery; remove `pointInTimeRecovery: false` for this stage"}
	if got := kindtest.Findings(t, frag, "GN315"); !slices.Equal(got, want) {
		t.Errorf("GN315 = %q, want %q", got, want)
	}
	if got := kindtest.Findings(t, strings.Replace(frag, "approval: true", "approval: false", 1), "GN315"); got != nil {
		t.Errorf("GN315 without approval = %q", got)
	}
}

// streamArn exists only with a stream: GN401 names what the table has.
func TestStreamArnNeedsAStream(t *testing.T) {
	frag := "env:\n  S: ${resources.t.streamArn}\nresources:\n  t:\n    type: dynamodb\n    partitionKey: {name: pk, type: string}\n"
	got := kindtest.Findings(t, frag, "GN401")
	if len(got) != 1 || !strings.HasPrefix(got[0], "2:6 ") || !strings.Contains(got[0], "name or arn") {
		t.Errorf("GN401 = %q", got)
	}
	if got := kindtest.Findings(t, frag+"    stream: keys-only\n", "GN401"); got != nil {
		t.Errorf("with a stream: GN401 = %q", got)
	}
}
