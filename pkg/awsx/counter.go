package awsx

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// CallCounter counts API operations, by "Service.Operation" (for example
// "CloudFormation.DescribeStacks"). It counts each operation once, however
// many times the retryer sends it. Safe for concurrent use.
type CallCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// NewCallCounter returns an empty counter.
func NewCallCounter() *CallCounter { return &CallCounter{counts: map[string]int{}} }

// Attach makes every client built from cfg afterwards count its operations
// into c. Attaching one counter to several configs sums them.
func (c *CallCounter) Attach(cfg *aws.Config) {
	// Clip: configs copied from one another share the array.
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), c.APIOption)
}

// APIOption is the middleware option Attach adds; pass it in
// Options.APIOptions to count a Provider's own STS calls too.
func (c *CallCounter) APIOption(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("gantryCallCounter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.add(middleware.GetServiceID(ctx) + "." + middleware.GetOperationName(ctx))
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (c *CallCounter) add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[key]++
}

// Snapshot returns a copy of the counts so far.
func (c *CallCounter) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Total is the number of operations counted so far.
func (c *CallCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Reset sets every count back to zero.
func (c *CallCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.counts)
}
