package state

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Entry is one journal line of a rollout.
type Entry struct {
	Service, Stage, RolloutID string
	// Seq orders a rollout's entries; Append assigns the next one when 0.
	Seq     int
	Time    time.Time
	Region  string
	Step    string
	Status  string
	Message string
	// Attrs holds anything else worth keeping (e.g. "bakeOverride": "0s").
	// Never put secret values here.
	Attrs map[string]string
}

// maxSeq is the largest sequence number the 6-digit sort key holds.
const maxSeq = 999999

func journalPK(service, stage string) string { return "journal#" + service + "#" + stage }

func journalSK(rolloutID string, seq int) string { return fmt.Sprintf("%s#%06d", rolloutID, seq) }

// Append writes e to the journal. With Seq 0 it takes the rollout's next
// sequence number (entries appended by one Store are numbered in call
// order); Time defaults to now. An entry never overwrites another.
func (s *Store) Append(ctx context.Context, e Entry) error {
	if err := checkKeyParts(e.Service, e.Stage, e.RolloutID); err != nil {
		return fmt.Errorf("appending to the journal: %w", err)
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.Seq != 0 {
		if err := s.putEntry(ctx, e); err != nil {
			return fmt.Errorf("appending entry %d of rollout %s to the journal: %w", e.Seq, e.RolloutID, err)
		}
		return nil
	}
	// One Append at a time per Store, so sequence numbers follow call order.
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	key := journalPK(e.Service, e.Stage) + "#" + e.RolloutID
	for attempt := 0; attempt < 5; attempt++ {
		last, ok := s.seq[key]
		if !ok {
			var err error
			if last, err = s.lastSeq(ctx, e.Service, e.Stage, e.RolloutID); err != nil {
				return fmt.Errorf("appending to the journal of rollout %s: %w", e.RolloutID, err)
			}
		}
		e.Seq = last + 1
		err := s.putEntry(ctx, e)
		var taken *types.ConditionalCheckFailedException
		if errors.As(err, &taken) {
			// Another process wrote that number: re-read the last one.
			delete(s.seq, key)
			continue
		}
		if err != nil {
			return fmt.Errorf("appending to the journal of rollout %s: %w", e.RolloutID, err)
		}
		s.seq[key] = e.Seq
		return nil
	}
	return fmt.Errorf("appending to the journal of rollout %s: sequence numbers kept colliding", e.RolloutID)
}

func (s *Store) putEntry(ctx context.Context, e Entry) error {
	if e.Seq < 1 || e.Seq > maxSeq {
		return fmt.Errorf("sequence number %d out of range 1..%d", e.Seq, maxSeq)
	}
	item := map[string]types.AttributeValue{
		"pk":        str(journalPK(e.Service, e.Stage)),
		"sk":        str(journalSK(e.RolloutID, e.Seq)),
		"rolloutId": str(e.RolloutID),
		"seq":       num(int64(e.Seq)),
		"time":      str(formatTime(e.Time)),
		"region":    str(e.Region),
		"step":      str(e.Step),
		"status":    str(e.Status),
		"message":   str(e.Message),
	}
	if len(e.Attrs) > 0 {
		item["attrs"] = strMap(e.Attrs)
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var taken *types.ConditionalCheckFailedException
	if errors.As(err, &taken) && s.isStored(ctx, item) {
		// A retried write whose first attempt landed but whose answer was
		// lost: the entry is there, written once.
		return nil
	}
	return err
}

// isStored says whether the journal item at item's key is item itself.
func (s *Store) isStored(ctx context.Context, item map[string]types.AttributeValue) bool {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || len(out.Item) == 0 {
		return false
	}
	for _, k := range []string{"rolloutId", "time", "region", "step", "status", "message"} {
		if getS(out.Item, k) != getS(item, k) {
			return false
		}
	}
	return maps.Equal(getStrMap(out.Item, "attrs"), getStrMap(item, "attrs"))
}

// lastSeq is the highest sequence number stored for the rollout, 0 if none.
func (s *Store) lastSeq(ctx context.Context, service, stage, rolloutID string) (int, error) {
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(journalPK(service, stage)), ":prefix": str(rolloutID + "#")},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return 0, err
	}
	if len(out.Items) == 0 {
		return 0, nil
	}
	_, seq, _ := strings.Cut(getS(out.Items[0], "sk"), "#")
	n, err := strconv.Atoi(seq)
	if err != nil {
		return 0, fmt.Errorf("journal sort key %q: %w", getS(out.Items[0], "sk"), err)
	}
	return n, nil
}

// Journal returns the rollout's entries in order; with rolloutID "" every
// rollout's of (service, stage), grouped by rollout ID.
func (s *Store) Journal(ctx context.Context, service, stage, rolloutID string) ([]Entry, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(journalPK(service, stage))},
		ConsistentRead:            aws.Bool(true),
	}
	if rolloutID != "" {
		in.KeyConditionExpression = aws.String("pk = :pk AND begins_with(sk, :prefix)")
		in.ExpressionAttributeValues[":prefix"] = str(rolloutID + "#")
	}
	var entries []Entry
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) bool {
		e := Entry{
			Service:   service,
			Stage:     stage,
			RolloutID: getS(item, "rolloutId"),
			Seq:       int(getN(item, "seq")),
			Time:      parseTime(getS(item, "time")),
			Region:    getS(item, "region"),
			Step:      getS(item, "step"),
			Status:    getS(item, "status"),
			Message:   getS(item, "message"),
		}
		if _, ok := item["attrs"]; ok {
			e.Attrs = getStrMap(item, "attrs")
		}
		entries = append(entries, e)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("reading the journal of %s/%s: %w", service, stage, err)
	}
	return entries, nil
}
