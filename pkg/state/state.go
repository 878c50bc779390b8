// Package state keeps gantry's rollout state in a DynamoDB table (by
// default "gantry-state"), one table in each stage's account, in the
// stage's first region.
//
// What is stored where (partition key pk, sort key sk, both strings):
//
//	lock        pk=lock#<service>#<stage>              sk=lock
//	            owner, rolloutId, version, acquiredAt, heartbeatAt, expiresAt
//	            (unix seconds). One rollout per (service, stage): taken with a
//	            conditional put, renewed by heartbeat, released by a
//	            conditional delete.
//	journal     pk=journal#<service>#<stage>           sk=<rolloutId>#<seq, 6 digits>
//	            time, region, step, status, message, attrs (free-form strings).
//	rollout     pk=rollout#<service>#<stage>           sk=<rolloutId>
//	            version, status (running|held|failed|succeeded), startedAt,
//	            updatedAt, regions (region -> status), heldReason, owner.
//	deployment  pk=deploy#<service>#<stage>#<region>   sk=<deployedAt, fixed-width RFC 3339 UTC>#<version>
//	            version, hash, rolloutId, deployedAt, stacks: list of {name,
//	            kind, template (gzip, binary), templateSha256, parameters, tags}.
//	optime      pk=optime#<service>#<stage>             sk=<stack kind>/<CREATE|UPDATE>
//	            tookMs, region, at: how long that kind of stack operation took
//	            when last measured, what the next rollout's waits expect.
//
// Nothing secret is stored: templates reference secrets (Secrets Manager,
// SSM) and never contain their values, and parameters are the non-secret
// values gantry passes. Times are UTC. Rollout IDs must sort by start time
// (rollout.NewID makes such IDs) because the latest rollout is the greatest
// sort key.
package state

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DefaultTable is the state table's name unless configured otherwise.
const DefaultTable = "gantry-state"

// API is the part of *dynamodb.Client the store uses.
type API interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store is the state table of one account. Safe for concurrent use.
type Store struct {
	api   API
	table string

	// Now is the clock (tests replace it); time.Now by default.
	Now func() time.Time
	// Logger gets warnings (a failed heartbeat); nil discards them.
	Logger *slog.Logger
	// TableTimeout bounds EnsureTable's wait for the table to be ACTIVE.
	TableTimeout time.Duration

	seqMu sync.Mutex
	seq   map[string]int // journal pk+rollout -> last sequence number used
}

// New returns the store for table ("" means DefaultTable).
func New(api API, table string) *Store {
	if table == "" {
		table = DefaultTable
	}
	return &Store{api: api, table: table, Now: time.Now, TableTimeout: 5 * time.Minute, seq: map[string]int{}}
}

// Table is the table's name.
func (s *Store) Table() string { return s.table }

func (s *Store) now() time.Time { return s.Now().UTC() }

func (s *Store) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// TableExists reports whether the table exists (one DescribeTable call),
// so that a command can say "run gantry bootstrap" before it starts
// rather than fail part-way.
func (s *Store) TableExists(ctx context.Context) (bool, error) {
	_, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("describing state table %s: %w", s.table, err)
	}
	return true, nil
}

// EnsureTable creates the table if it is missing (on-demand billing) and
// waits until it is ACTIVE. It is idempotent, and refuses a table of that
// name whose keys are not gantry's.
func (s *Store) EnsureTable(ctx context.Context) error {
	out, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		_, err = s.api.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:   aws.String(s.table),
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			Tags: []types.Tag{{Key: aws.String("gantry:purpose"), Value: aws.String("rollout state")}},
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // in use: someone else just made it
			return fmt.Errorf("creating state table %s: %w", s.table, err)
		}
	case err != nil:
		return fmt.Errorf("describing state table %s: %w", s.table, err)
	default:
		if err := checkKeys(s.table, out.Table); err != nil {
			return err
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
	}
	return s.waitActive(ctx)
}

func checkKeys(name string, t *types.TableDescription) error {
	var hash, rng string
	for _, k := range t.KeySchema {
		switch k.KeyType {
		case types.KeyTypeHash:
			hash = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			rng = aws.ToString(k.AttributeName)
		}
	}
	if hash != "pk" || rng != "sk" {
		return fmt.Errorf("table %s exists but is not a gantry state table: its keys are %q/%q, not pk/sk", name, hash, rng)
	}
	return nil
}

func (s *Store) waitActive(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.TableTimeout)
	defer cancel()
	delay := 100 * time.Millisecond
	for {
		out, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
		var notFound *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &notFound) { // not found: not visible yet
			return fmt.Errorf("waiting for state table %s: %w", s.table, err)
		}
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for state table %s to be ACTIVE: %w", s.table, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// Key parts may not contain '#', the separator.
func checkKeyParts(parts ...string) error {
	for _, p := range parts {
		if p == "" {
			return errors.New("empty key part (service, stage, region, rollout ID and version must be set)")
		}
		if strings.Contains(p, "#") {
			return fmt.Errorf("%q: key parts may not contain '#'", p)
		}
	}
	return nil
}

// Attribute helpers.

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func strMap(m map[string]string) types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = str(v)
	}
	return &types.AttributeValueMemberM{Value: out}
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func getB(item map[string]types.AttributeValue, name string) []byte {
	if v, ok := item[name].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

func getStrMap(item map[string]types.AttributeValue, name string) map[string]string {
	out := map[string]string{}
	if v, ok := item[name].(*types.AttributeValueMemberM); ok {
		for k, x := range v.Value {
			if s, ok := x.(*types.AttributeValueMemberS); ok {
				out[k] = s.Value
			}
		}
	}
	return out
}

// timeFormat is RFC 3339 with a fixed nine-digit fraction, so that sort
// keys order by time (RFC3339Nano drops trailing zeros, which does not).
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// queryAll pages through a query, calling each for every item until it
// returns false.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, each func(map[string]types.AttributeValue) bool) error {
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			if !each(item) {
				return nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
