package proxy

import (
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Quota is an API rate quota the way AWS enforces one: a token bucket
// per account, region and operation, shared by every client of that
// account and region -- every process behind the proxy, whichever
// credentials it signs with. A request that finds its bucket empty is
// answered with the service's throttling error (CloudFormation:
// "Throttling: Rate exceeded") and takes no token.
type Quota struct {
	// Operation names the operations the quota covers, as in Throttle
	// (globs allowed); each operation it matches has its own bucket.
	Operation string
	// Rate is how many tokens a second the bucket gains.
	Rate float64
	// Burst is how many it holds (at least 1): the requests that can
	// come at once after a quiet spell.
	Burst int
	// Source says where the numbers come from (a citation, or that they
	// are an assumption); shown in the benchmark's results.
	Source string
}

// DefaultAccount is the account of an access key the proxy has not seen
// an account for: the emulator's (moto's) default account, which is what
// the emulator itself takes such a key to be.
const DefaultAccount = "123456789012"

// describeStacksSource is the citation of DescribeStacks' quota. AWS
// publishes no CloudFormation API rates ("internal information", as AWS
// Support answers); the rest of CloudFormationQuotas are assumptions.
const describeStacksSource = "cited: 5/s per account and region, not raisable (aws/aws-sam-cli#2671, on parallel sam deploy runs throttled in DescribeStacks; issue 15); burst 5 assumed"

// CloudFormationQuotas are the quotas the fleet benchmark runs under:
// DescribeStacks at its cited 5 requests a second; every other
// CloudFormation operation (DescribeStackEvents, DescribeChangeSet,
// CreateChangeSet, ExecuteChangeSet, ...) assumed to have a bucket of
// its own of the same size, since AWS publishes none of them. Other
// services are not limited: DynamoDB, STS and CloudWatch allow far
// more than a rollout asks of them.
func CloudFormationQuotas() []Quota {
	assumed := "assumption: AWS publishes no CloudFormation API rates; taken equal to DescribeStacks' cited 5/s, a bucket per operation, burst 5"
	return []Quota{
		{Operation: "cloudformation:DescribeStacks", Rate: 5, Burst: 5, Source: describeStacksSource},
		{Operation: "cloudformation:DescribeStackEvents", Rate: 5, Burst: 5, Source: assumed},
		{Operation: "cloudformation:DescribeChangeSet", Rate: 5, Burst: 5, Source: assumed},
		{Operation: "cloudformation:*", Rate: 5, Burst: 5, Source: assumed},
	}
}

// SetQuotas replaces the quotas (none: no quota); their buckets start
// full. For a request the first quota that names its operation decides.
func (p *Proxy) SetQuotas(quotas ...Quota) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.quotas = slices.Clone(quotas)
	p.quotaBuckets = map[string]*bucket{}
}

// Quotas returns the quotas in force.
func (p *Proxy) Quotas() []Quota {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.quotas)
}

// QuotaThrottled returns the requests a quota throttled, per
// "account/region/operation key".
func (p *Proxy) QuotaThrottled() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.quotaThrottled)
}

// overQuotaLocked takes a token for c from its quota's bucket, and
// reports whether there was none; p.mu must be held.
func (p *Proxy) overQuotaLocked(c *call, now time.Time) bool {
	for _, q := range p.quotas {
		if !matchOperation(q.Operation, c) || q.Rate <= 0 {
			continue
		}
		k := c.Account + "/" + c.Region + "/" + c.Key()
		b := p.quotaBuckets[k]
		if b == nil {
			b = &bucket{}
			p.quotaBuckets[k] = b
		}
		if b.take(q.Rate, q.Burst, now) {
			return false
		}
		p.quotaThrottled[k]++
		return true
	}
	return false
}

// take refills a token bucket of rate and burst up to now and takes a
// token when there is one.
func (b *bucket) take(rate float64, burst int, now time.Time) bool {
	size := math.Max(1, float64(burst))
	if b.last.IsZero() {
		b.tokens = size
	} else {
		b.tokens = math.Min(size, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// accountLocked is the account of an access key: the one STS said it
// belongs to, else DefaultAccount; p.mu must be held.
func (p *Proxy) accountLocked(accessKey string) string {
	if a := p.accounts[accessKey]; a != "" {
		return a
	}
	return DefaultAccount
}

// learnAccount remembers the account of the keys an STS answer names:
// GetCallerIdentity's for the caller's own key, AssumeRole's for the
// credentials it hands out (whose role ARN names the account).
func (p *Proxy) learnAccount(c *call, body []byte) {
	var key, account string
	switch c.Operation {
	case "GetCallerIdentity":
		key, account = c.AccessKey, text(body, "Account")
	case "AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML":
		key = text(body, "AccessKeyId")
		// arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
		if parts := strings.SplitN(text(body, "Arn"), ":", 6); len(parts) == 6 {
			account = parts[4]
		}
	}
	if key == "" || account == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accounts[key] = account
}
