// Package dynamodb is the dynamodb resource kind: a DynamoDB table billed on
// demand, encrypted with the service's data key, with point-in-time
// recovery unless turned off.
package dynamodb

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Kind is the dynamodb kind.
type Kind struct{}

// Name implements kind.Kind.
func (Kind) Name() string  { return "dynamodb" }
func (Kind) Title() string { return "DynamoDB" }
func (Kind) Summary() string {
	return "A DynamoDB table: on-demand billing, encrypted with the service's KMS key, point-in-time recovery on by default."
}
func (Kind) New() kind.Settings { return &Settings{} }
func (Kind) Port() int          { return 0 }
func (Kind) Stateful() []kind.Stateful {
	return []kind.Stateful{{Type: "AWS::DynamoDB::Table", Loses: "every item in the table"}}
}
func (Kind) Rules() []kind.Rule { return []kind.Rule{ruleApprovalPITR()} }
func (Kind) SettingsDoc() string {
	return "key types are string, number or binary; index names are unique, 3 to 255 letters, digits, '_', '-' or '.'; at most 20 indexes; an attribute has one type across the table's and its indexes' keys; stream is keys-only, new-image, old-image or new-and-old-images."
}

// Settings is a dynamodb resource.
type Settings struct {
	PartitionKey        *TableKey    `yaml:"partitionKey" required:"true" doc:"The table's partition (hash) key."`
	SortKey             *TableKey    `yaml:"sortKey" doc:"The table's sort (range) key, if any."`
	TTL                 string       `yaml:"ttl" doc:"Attribute holding each item's expiry (epoch seconds); DynamoDB deletes expired items."`
	Stream              string       `yaml:"stream" enum:"keys-only,new-image,old-image,new-and-old-images" doc:"Change stream: keys-only, new-image, old-image or new-and-old-images; none when unset."`
	PointInTimeRecovery *bool        `yaml:"pointInTimeRecovery" doc:"Continuous backups for 35 days (default true)."`
	Indexes             []TableIndex `yaml:"indexes" doc:"Global secondary indexes (at most 20), projecting every attribute."`
}

// TableKey is one key attribute.
type TableKey struct {
	Name string `yaml:"name" required:"true" doc:"Attribute name."`
	Type string `yaml:"type" required:"true" enum:"string,number,binary" doc:"string, number or binary."`
}

// TableIndex is one global secondary index.
type TableIndex struct {
	Name         string    `yaml:"name" required:"true" doc:"Index name, unique in the table."`
	PartitionKey *TableKey `yaml:"partitionKey" required:"true" doc:"The index's partition key."`
	SortKey      *TableKey `yaml:"sortKey" doc:"The index's sort key, if any."`
}

// keyTypes maps a descriptor key type to DynamoDB's attribute type.
var keyTypes = map[string]string{"string": "S", "number": "N", "binary": "B"}

// streamViews maps a descriptor stream to DynamoDB's view type.
var streamViews = map[string]string{
	"keys-only": "KEYS_ONLY", "new-image": "NEW_IMAGE", "old-image": "OLD_IMAGE", "new-and-old-images": "NEW_AND_OLD_IMAGES",
}

// maxIndexes is DynamoDB's default quota of global secondary indexes.
const maxIndexes = 20

// Defaults implements kind.Settings.
func (s *Settings) Defaults(func(string) bool) {
	if s.PointInTimeRecovery == nil {
		on := true
		s.PointInTimeRecovery = &on
	}
}

// Outputs implements kind.Settings: the stream's ARN only with a stream.
func (s *Settings) Outputs() []kind.Output {
	out := []kind.Output{{Name: "name", ID: "TableName"}, {Name: "arn", ID: "TableArn"}}
	if s.Stream != "" {
		out = append(out, kind.Output{Name: "streamArn", ID: "TableStreamArn"})
	}
	return out
}

// AllOutputs lists every output a table may have, for the docs.
func (s *Settings) AllOutputs() []kind.Output {
	return append(s.Outputs()[:2], kind.Output{Name: "streamArn", ID: "TableStreamArn"})
}

// tableName is the kind of name a table's is.
type tableName struct{}

func (tableName) String() string { return "table name" }
func (tableName) Noun() string   { return "DynamoDB table name" }

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func (tableName) Validate(name string) error {
	if len(name) < 3 {
		return fmt.Errorf("is %d characters; DynamoDB needs at least 3", len(name))
	}
	if err := naming.Length(name, 255); err != nil {
		return err
	}
	if !nameRe.MatchString(name) {
		return fmt.Errorf("may hold only letters, digits, '_', '-' and '.'")
	}
	return nil
}

// TableName is the table's name: <service>-<stage>-<resource>-<keys>,
// where keys is a short hash of the table's and its indexes' key schemas.
// A key change replaces the table, and CloudFormation replaces a named
// resource only under a new name; the old table is kept (Retain).
func (s *Settings) TableName(service, stage, resource string) string {
	return service + "-" + stage + "-" + resource + "-" + s.keysHash()
}

// keysHash is 8 hex digits of the key schemas' SHA-256.
func (s *Settings) keysHash() string {
	var b strings.Builder
	key := func(k *TableKey) {
		if k != nil {
			fmt.Fprintf(&b, "%s:%s,", k.Name, k.Type)
		}
		b.WriteString(";")
	}
	key(s.PartitionKey)
	key(s.SortKey)
	for _, ix := range s.Indexes {
		fmt.Fprintf(&b, "%s=", ix.Name)
		key(ix.PartitionKey)
		key(ix.SortKey)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:4])
}

// Names implements kind.Settings.
func (s *Settings) Names(n kind.NameInput) []naming.Derived {
	return []naming.Derived{{Kind: tableName{}, Value: s.TableName(n.Service, n.Stage, n.Resource), Pattern: "service-stage-resource-keys", Resource: n.Resource}}
}

// Check implements kind.Settings.
func (s *Settings) Check(c kind.Check) {
	types := map[string]string{}
	s.checkKey(c, "partitionKey", s.PartitionKey, types)
	s.checkKey(c, "sortKey", s.SortKey, types)
	if s.Stream != "" && streamViews[s.Stream] == "" {
		c.Report("stream", "`%s` %q is not a stream view; use keys-only, new-image, old-image or new-and-old-images", c.Path("stream"), s.Stream)
	}
	if s.TTL != "" && len(s.TTL) > 255 {
		c.Report("ttl", "`%s` is %d characters; DynamoDB attribute names hold at most 255", c.Path("ttl"), len(s.TTL))
	}
	if len(s.Indexes) > maxIndexes {
		c.Report("indexes", "`%s` has %d indexes; DynamoDB allows at most %d global secondary indexes a table", c.Path("indexes"), len(s.Indexes), maxIndexes)
	}
	seen := map[string]bool{}
	for i, ix := range s.Indexes {
		at := fmt.Sprintf("indexes[%d]", i)
		switch {
		case ix.Name == "":
		case seen[ix.Name]:
			c.Report(at+".name", "`%s` %q names a second index; index names are unique in a table", c.Path(at+".name"), ix.Name)
		case len(ix.Name) < 3 || len(ix.Name) > 255 || !nameRe.MatchString(ix.Name):
			c.Report(at+".name", "`%s` %q is not an index name: use 3 to 255 letters, digits, '_', '-' or '.'", c.Path(at+".name"), ix.Name)
		}
		seen[ix.Name] = true
		s.checkKey(c, at+".partitionKey", ix.PartitionKey, types)
		s.checkKey(c, at+".sortKey", ix.SortKey, types)
	}
}

// checkKey checks one key; types records each attribute's type so that a
// second key on the same attribute agrees with the first.
func (s *Settings) checkKey(c kind.Check, at string, k *TableKey, types map[string]string) {
	if k == nil || k.Name == "" {
		return
	}
	if keyTypes[k.Type] == "" {
		if k.Type != "" {
			c.Report(at+".type", "`%s` %q is not a key type; use string, number or binary", c.Path(at+".type"), k.Type)
		}
		return
	}
	if t, ok := types[k.Name]; ok && t != k.Type {
		c.Report(at+".type", "`%s` says attribute %q is %s, but another key says %s; an attribute has one type", c.Path(at+".type"), k.Name, k.Type, t)
		return
	}
	types[k.Name] = k.Type
}
