package dynamodb

import (
	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/policies"

	"github.com/gantryhq/gantry/pkg/kind"
)

// Render implements kind.Settings.
func (s *Settings) Render(d kind.Data) {
	self := d.Self()
	table := self.Stem + "Table"
	t := &dynamodb.Table{
		TableName:            kind.Ptr(s.TableName(d.Service(), d.Stage(), self.Name)),
		BillingMode:          kind.Ptr("PAY_PER_REQUEST"),
		AttributeDefinitions: s.attributes(),
		KeySchema:            keySchema(s.PartitionKey, s.SortKey),
		PointInTimeRecoverySpecification: &dynamodb.Table_PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: kind.Ptr(s.PointInTimeRecovery == nil || *s.PointInTimeRecovery),
		},
		SSESpecification: &dynamodb.Table_SSESpecification{SSEEnabled: true, SSEType: kind.Ptr("KMS"), KMSMasterKeyId: kind.Ptr(d.DataKey())},
		// A production-like stage's table refuses deletion, as its
		// Postgres does.
		DeletionProtectionEnabled: kind.Ptr(d.Approval()),
		Tags:                      d.Tags(),

		// DynamoDB keeps no snapshot on deletion: keep the table.
		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Retain"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Retain"),
	}
	for _, ix := range s.Indexes {
		t.GlobalSecondaryIndexes = append(t.GlobalSecondaryIndexes, dynamodb.Table_GlobalSecondaryIndex{
			IndexName:  ix.Name,
			KeySchema:  keySchema(ix.PartitionKey, ix.SortKey),
			Projection: &dynamodb.Table_Projection{ProjectionType: kind.Ptr("ALL")},
		})
	}
	if s.TTL != "" {
		t.TimeToLiveSpecification = &dynamodb.Table_TimeToLiveSpecification{AttributeName: kind.Ptr(s.TTL), Enabled: true}
	}
	if s.Stream != "" {
		t.StreamSpecification = &dynamodb.Table_StreamSpecification{StreamViewType: streamViews[s.Stream]}
	}
	d.Add(table, t)
	d.Output("name", d.Ref(table), "DynamoDB "+self.Name+" table name")
	d.Output("arn", d.GetAtt(table, "Arn"), "DynamoDB "+self.Name+" table ARN")
	if s.Stream != "" {
		d.Output("streamArn", d.GetAtt(table, "StreamArn"), "DynamoDB "+self.Name+" stream ARN")
	}
}

// attributes defines each key attribute once, in the order the keys come.
func (s *Settings) attributes() []dynamodb.Table_AttributeDefinition {
	var out []dynamodb.Table_AttributeDefinition
	seen := map[string]bool{}
	add := func(k *TableKey) {
		if k != nil && !seen[k.Name] {
			seen[k.Name] = true
			out = append(out, dynamodb.Table_AttributeDefinition{AttributeName: k.Name, AttributeType: keyTypes[k.Type]})
		}
	}
	add(s.PartitionKey)
	add(s.SortKey)
	for _, ix := range s.Indexes {
		add(ix.PartitionKey)
		add(ix.SortKey)
	}
	return out
}

func keySchema(hash, rng *TableKey) []dynamodb.Table_KeySchema {
	var out []dynamodb.Table_KeySchema
	if hash != nil {
		out = append(out, dynamodb.Table_KeySchema{AttributeName: hash.Name, KeyType: "HASH"})
	}
	if rng != nil {
		out = append(out, dynamodb.Table_KeySchema{AttributeName: rng.Name, KeyType: "RANGE"})
	}
	return out
}

// Grants implements kind.Settings: item and query actions on the table and
// its indexes, reading the stream with read access too, and the data key
// as DynamoDB uses it for the app.
func (s *Settings) Grants(a kind.App) []kind.Statement {
	const policy = "service-tables"
	arn := a.Import("arn")
	res := []string{arn, a.Join("", arn, "/index/*")}
	read := []string{"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}
	out := []kind.Statement{{Policy: policy, Sid: "ReadTables", Actions: read, Resources: res}}
	if a.Access() == kind.AccessWrite {
		out = append(out, kind.Statement{Policy: policy, Sid: "WriteTables", Resources: []string{arn},
			Actions: []string{"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}})
	}
	if s.Stream != "" {
		out = append(out, kind.Statement{Policy: policy, Sid: "ReadStreams", Resources: []string{a.Join("", arn, "/stream/*")},
			Actions: []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}})
	}
	return append(out, kind.DataKeyUse(a, policy, "UseDataKey", "dynamodb"))
}
