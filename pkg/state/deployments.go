package state

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DeploymentSummary is a recorded deployment without its templates.
type DeploymentSummary struct {
	Version    string
	Hash       string
	RolloutID  string
	DeployedAt time.Time
}

// ListDeployments returns the deployments recorded for (stage, region),
// newest first, without their templates (what `gantry rollback` lists when
// asked for a version that was never deployed there). A version deployed
// or restored several times appears once per time.
func (s *Store) ListDeployments(ctx context.Context, service, stage, region string) ([]DeploymentSummary, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(deployPK(service, stage, region))},
		// Placeholders keep the projection clear of reserved words.
		ProjectionExpression:     aws.String("#v, #h, #r, #t"),
		ExpressionAttributeNames: map[string]string{"#v": "version", "#h": "hash", "#r": "rolloutId", "#t": "deployedAt"},
		ScanIndexForward:         aws.Bool(false),
		ConsistentRead:           aws.Bool(true),
	}
	var out []DeploymentSummary
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) bool {
		out = append(out, DeploymentSummary{
			Version:    getS(item, "version"),
			Hash:       getS(item, "hash"),
			RolloutID:  getS(item, "rolloutId"),
			DeployedAt: parseTime(getS(item, "deployedAt")),
		})
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("listing the deployments of %s/%s/%s: %w", service, stage, region, err)
	}
	return out, nil
}
