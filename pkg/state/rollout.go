package state

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Rollout statuses.
const (
	RolloutRunning   = "running"
	RolloutHeld      = "held"
	RolloutFailed    = "failed"
	RolloutSucceeded = "succeeded"
)

// Rollout is one run of gantry deploy over a stage.
type Rollout struct {
	Service, Stage string
	ID             string
	Version        string
	Status         string
	Owner          string
	StartedAt      time.Time
	UpdatedAt      time.Time
	// Regions maps each region to its status (deployed, held, ...).
	Regions    map[string]string
	HeldReason string
	// RegionErrors says why a region is held or failed, by region.
	RegionErrors map[string]string
}

func rolloutPK(service, stage string) string { return "rollout#" + service + "#" + stage }

// PutRollout writes the rollout's current state (replacing the previous
// one). UpdatedAt is set to now, and StartedAt too when it is zero.
func (s *Store) PutRollout(ctx context.Context, r Rollout) error {
	if err := checkKeyParts(r.Service, r.Stage, r.ID); err != nil {
		return fmt.Errorf("saving rollout: %w", err)
	}
	now := s.now()
	if r.StartedAt.IsZero() {
		r.StartedAt = now
	}
	item := map[string]types.AttributeValue{
		"pk":           str(rolloutPK(r.Service, r.Stage)),
		"sk":           str(r.ID),
		"version":      str(r.Version),
		"status":       str(r.Status),
		"owner":        str(r.Owner),
		"startedAt":    str(formatTime(r.StartedAt)),
		"updatedAt":    str(formatTime(now)),
		"regions":      strMap(r.Regions),
		"heldReason":   str(r.HeldReason),
		"regionErrors": strMap(r.RegionErrors),
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	if err != nil {
		return fmt.Errorf("saving rollout %s of %s/%s: %w", r.ID, r.Service, r.Stage, err)
	}
	return nil
}

// LatestRollout returns the (service, stage) rollout with the greatest ID
// — the latest when IDs come from NewRolloutID — or nil if there is none.
func (s *Store) LatestRollout(ctx context.Context, service, stage string) (*Rollout, error) {
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(rolloutPK(service, stage))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("reading the latest rollout of %s/%s: %w", service, stage, err)
	}
	if len(out.Items) == 0 {
		return nil, nil
	}
	item := out.Items[0]
	return &Rollout{
		Service:      service,
		Stage:        stage,
		ID:           getS(item, "sk"),
		Version:      getS(item, "version"),
		Status:       getS(item, "status"),
		Owner:        getS(item, "owner"),
		StartedAt:    parseTime(getS(item, "startedAt")),
		UpdatedAt:    parseTime(getS(item, "updatedAt")),
		Regions:      getStrMap(item, "regions"),
		HeldReason:   getS(item, "heldReason"),
		RegionErrors: getStrMap(item, "regionErrors"),
	}, nil
}
