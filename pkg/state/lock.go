package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DefaultLeaseTTL is a lease's life when LockRequest.TTL is zero. A
// rollout renews its lease well before then (KeepAlive), so a crashed one
// blocks the next for at most this long.
const DefaultLeaseTTL = 5 * time.Minute

// ErrLeaseLost means the lease expired and another rollout took the lock,
// or the lock was broken.
var ErrLeaseLost = errors.New("rollout lock lost")

// LockRequest asks for the rollout lock of (Service, Stage).
type LockRequest struct {
	Service, Stage string
	// Owner says who holds it, e.g. "alice@laptop pid 4242".
	Owner     string
	RolloutID string
	Version   string
	// TTL is how long the lease lasts without a heartbeat.
	TTL time.Duration
}

// LockInfo is the lock's item as stored.
type LockInfo struct {
	Service, Stage string
	Owner          string
	RolloutID      string
	Version        string
	AcquiredAt     time.Time
	HeartbeatAt    time.Time
	ExpiresAt      time.Time
	// Expired means the lease ran out: anyone may take the lock.
	Expired bool
}

// LockedError is Acquire's answer when another rollout holds the lock.
type LockedError struct {
	Service, Stage string
	Holder         string
	RolloutID      string
	Version        string
	Expires        time.Time
	// Remaining is how long the lease had left when it was checked.
	Remaining time.Duration
	// File is the descriptor's path, for the unlock command the message
	// suggests; the caller that knows it fills it in.
	File string
}

func (e *LockedError) Error() string {
	file := e.File
	if file == "" {
		file = "<descriptor file>"
	}
	return fmt.Sprintf("%s/%s is locked by %s (rollout %s, version %s) until %s (in %s); "+
		"if that rollout is no longer running, break the lock with: gantry unlock %s --stage %s",
		e.Service, e.Stage, e.Holder, e.RolloutID, orUnknown(e.Version), e.Expires.Format(time.RFC3339),
		e.Remaining.Round(time.Second), file, e.Stage)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Lease is a held lock. Its methods are safe for concurrent use.
type Lease struct {
	Service, Stage string
	Owner          string
	RolloutID      string
	Version        string
	TTL            time.Duration
	AcquiredAt     time.Time

	store     *Store
	mu        sync.Mutex
	expiresAt time.Time
}

// ExpiresAt is when the lease runs out unless renewed.
func (l *Lease) ExpiresAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.expiresAt
}

func lockKey(service, stage string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("lock#" + service + "#" + stage), "sk": str("lock")}
}

// expiry is now+ttl rounded up to the second (expiresAt is in seconds).
func expiry(now time.Time, ttl time.Duration) time.Time {
	return now.Add(ttl + time.Second - 1).Truncate(time.Second)
}

// Acquire takes the lock of (r.Service, r.Stage) with one conditional
// write. It succeeds when nobody holds the lock, when the holder's lease
// has expired, or when r.RolloutID already holds it (a resumed rollout).
// Otherwise it fails at once with a *LockedError naming the holder.
func (s *Store) Acquire(ctx context.Context, r LockRequest) (*Lease, error) {
	if err := checkKeyParts(r.Service, r.Stage, r.RolloutID); err != nil {
		return nil, fmt.Errorf("taking the rollout lock: %w", err)
	}
	ttl := r.TTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	now := s.now()
	exp := expiry(now, ttl)
	item := lockKey(r.Service, r.Stage)
	item["owner"] = str(r.Owner)
	item["rolloutId"] = str(r.RolloutID)
	item["version"] = str(r.Version)
	item["acquiredAt"] = num(unix(now))
	item["heartbeatAt"] = num(unix(now))
	item["expiresAt"] = num(unix(exp))
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk) OR expiresAt < :now OR rolloutId = :rid"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": num(unix(now)),
			":rid": str(r.RolloutID),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		holder := failed.Item
		if len(holder) == 0 {
			// Not every implementation returns the old item: read it.
			info, lerr := s.Lock(ctx, r.Service, r.Stage)
			if lerr != nil {
				return nil, fmt.Errorf("%s/%s is locked; reading the holder: %w", r.Service, r.Stage, lerr)
			}
			if info == nil {
				return nil, fmt.Errorf("taking the rollout lock of %s/%s: it was held and released meanwhile; try again", r.Service, r.Stage)
			}
			return nil, s.lockedError(info)
		}
		return nil, s.lockedError(lockInfo(r.Service, r.Stage, holder, now))
	}
	if err != nil {
		return nil, fmt.Errorf("taking the rollout lock of %s/%s: %w", r.Service, r.Stage, err)
	}
	return &Lease{
		Service: r.Service, Stage: r.Stage, Owner: r.Owner, RolloutID: r.RolloutID, Version: r.Version,
		TTL: ttl, AcquiredAt: now, store: s, expiresAt: exp,
	}, nil
}

func (s *Store) lockedError(info *LockInfo) *LockedError {
	return &LockedError{
		Service: info.Service, Stage: info.Stage, Holder: info.Owner, RolloutID: info.RolloutID,
		Version: info.Version, Expires: info.ExpiresAt, Remaining: max(info.ExpiresAt.Sub(s.now()), 0),
	}
}

func lockInfo(service, stage string, item map[string]types.AttributeValue, now time.Time) *LockInfo {
	info := &LockInfo{
		Service:     service,
		Stage:       stage,
		Owner:       getS(item, "owner"),
		RolloutID:   getS(item, "rolloutId"),
		Version:     getS(item, "version"),
		AcquiredAt:  fromUnix(getN(item, "acquiredAt")),
		HeartbeatAt: fromUnix(getN(item, "heartbeatAt")),
		ExpiresAt:   fromUnix(getN(item, "expiresAt")),
	}
	info.Expired = unix(info.ExpiresAt) < unix(now)
	return info
}

// Heartbeat renews the lease for another TTL. It fails with ErrLeaseLost
// when another rollout holds the lock now, or the lock was broken.
func (l *Lease) Heartbeat(ctx context.Context) error {
	s := l.store
	now := s.now()
	exp := expiry(now, l.TTL)
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       lockKey(l.Service, l.Stage),
		UpdateExpression:          aws.String("SET expiresAt = :exp, heartbeatAt = :now"),
		ConditionExpression:       aws.String("rolloutId = :rid"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":exp": num(unix(exp)), ":now": num(unix(now)), ":rid": str(l.RolloutID)},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return l.lost(ctx)
	}
	if err != nil {
		return fmt.Errorf("renewing the rollout lock of %s/%s: %w", l.Service, l.Stage, err)
	}
	l.mu.Lock()
	l.expiresAt = exp
	l.mu.Unlock()
	return nil
}

// lost builds the ErrLeaseLost error, naming the new holder if any.
func (l *Lease) lost(ctx context.Context) error {
	info, err := l.store.Lock(ctx, l.Service, l.Stage)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %s/%s (rollout %s)", ErrLeaseLost, l.Service, l.Stage, l.RolloutID)
	case info == nil:
		return fmt.Errorf("%w: %s/%s: the lock was broken", ErrLeaseLost, l.Service, l.Stage)
	default:
		return fmt.Errorf("%w: %s/%s is now held by %s (rollout %s)", ErrLeaseLost, l.Service, l.Stage, info.Owner, info.RolloutID)
	}
}

// Release frees the lock if this lease still holds it. Releasing a lock
// that is already free is not an error; one that another rollout holds now
// is ErrLeaseLost.
func (l *Lease) Release(ctx context.Context) error {
	s := l.store
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       lockKey(l.Service, l.Stage),
		ConditionExpression:       aws.String("rolloutId = :rid"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":rid": str(l.RolloutID)},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		info, lerr := s.Lock(ctx, l.Service, l.Stage)
		if lerr == nil && info == nil {
			return nil
		}
		return l.lost(ctx)
	}
	if err != nil {
		return fmt.Errorf("releasing the rollout lock of %s/%s: %w", l.Service, l.Stage, err)
	}
	return nil
}

// KeepAlive renews lease every interval (TTL/3 when every <= 0) until ctx
// ends. The returned channel gets at most one error — the lease was lost,
// or renewing kept failing until the lease ran out — and is closed when
// KeepAlive stops. Transient failures are logged and retried.
func KeepAlive(ctx context.Context, lease *Lease, every time.Duration) <-chan error {
	if every <= 0 {
		every = lease.TTL / 3
	}
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := lease.Heartbeat(ctx)
			if err == nil || ctx.Err() != nil {
				continue
			}
			if errors.Is(err, ErrLeaseLost) || !lease.store.now().Before(lease.ExpiresAt()) {
				errc <- err
				return
			}
			lease.store.log().WarnContext(ctx, "rollout lock heartbeat failed; retrying",
				"service", lease.Service, "stage", lease.Stage, "expires", lease.ExpiresAt(), "error", err)
		}
	}()
	return errc
}

// Lock returns the lock's holder, nil when nobody holds it. An expired
// lease is returned with Expired set (it no longer blocks anyone).
func (s *Store) Lock(ctx context.Context, service, stage string) (*LockInfo, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            lockKey(service, stage),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("reading the rollout lock of %s/%s: %w", service, stage, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return lockInfo(service, stage, out.Item, s.now()), nil
}

// BreakLock removes the lock whoever holds it (gantry unlock) and returns
// what it removed, nil when there was no lock.
func (s *Store) BreakLock(ctx context.Context, service, stage string) (*LockInfo, error) {
	out, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:    aws.String(s.table),
		Key:          lockKey(service, stage),
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return nil, fmt.Errorf("breaking the rollout lock of %s/%s: %w", service, stage, err)
	}
	if len(out.Attributes) == 0 {
		return nil, nil
	}
	return lockInfo(service, stage, out.Attributes, s.now()), nil
}

// Owner describes this process as a lock holder: user@host pid N.
func Owner() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s@%s pid %d", name, host, os.Getpid())
}
