package state

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// OperationTime is how long a kind of stack operation of a service took
// the last time it was measured: what the next rollout's wait for that
// kind of operation expects, in a region whose stack has no history yet
// (a new region of a known service) as much as in the first wave.
type OperationTime struct {
	// Kind names the operation: stack kind and change set type, such as
	// "app/UPDATE" or "data/CREATE".
	Kind string
	Took time.Duration
	// Region is where it was measured, At when.
	Region string
	At     time.Time
}

func optimePK(service, stage string) string { return "optime#" + service + "#" + stage }

// PutOperationTime records t for (service, stage), replacing the one of
// the same kind. At is set to now when zero.
func (s *Store) PutOperationTime(ctx context.Context, service, stage string, t OperationTime) error {
	if err := checkKeyParts(service, stage, t.Kind); err != nil {
		return fmt.Errorf("saving an operation time: %w", err)
	}
	if t.Took <= 0 {
		return fmt.Errorf("saving the %s time of %s/%s: %s is not a duration", t.Kind, service, stage, t.Took)
	}
	if t.At.IsZero() {
		t.At = s.now()
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{
		"pk":     str(optimePK(service, stage)),
		"sk":     str(t.Kind),
		"tookMs": num(t.Took.Milliseconds()),
		"region": str(t.Region),
		"at":     str(formatTime(t.At)),
	}})
	if err != nil {
		return fmt.Errorf("saving the %s time of %s/%s: %w", t.Kind, service, stage, err)
	}
	return nil
}

// OperationTimes returns the operation times recorded for (service,
// stage), by kind (one query).
func (s *Store) OperationTimes(ctx context.Context, service, stage string) (map[string]OperationTime, error) {
	if err := checkKeyParts(service, stage); err != nil {
		return nil, fmt.Errorf("reading operation times: %w", err)
	}
	out := map[string]OperationTime{}
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(optimePK(service, stage))},
	}, func(item map[string]types.AttributeValue) bool {
		t := OperationTime{Kind: getS(item, "sk"), Took: time.Duration(getN(item, "tookMs")) * time.Millisecond,
			Region: getS(item, "region"), At: parseTime(getS(item, "at"))}
		if t.Took > 0 {
			out[t.Kind] = t
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("reading the operation times of %s/%s: %w", service, stage, err)
	}
	return out, nil
}
