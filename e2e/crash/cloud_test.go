package crash_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gantryhq/gantry/internal/emulatortest"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/state"
)

// cloud reads stacks and the state table through the SDK, in any account
// (reached by assuming gantry-deploy, as gantry does). Pointed straight at
// the emulator it sees the truth and never shows in the proxy's counts;
// pointed at the proxy it sees what gantry sees (operations that still
// take time).
type cloud struct {
	t *testing.T
	p *awsx.Provider
}

func newCloud(t *testing.T, endpoint string) *cloud {
	t.Helper()
	p, err := awsx.New(context.Background(), awsx.Options{
		EndpointURL: endpoint,
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(emulatortest.AccessKeyID, emulatortest.SecretAccessKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &cloud{t: t, p: p}
}

func (c *cloud) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	c.t.Cleanup(cancel)
	return ctx
}

// stack describes a stack with gantry's own driver (Exists false when
// there is none).
func (c *cloud) stack(account, region, name string) *cfn.Stack {
	c.t.Helper()
	cfg, err := c.p.Config(c.ctx(), account, region)
	if err != nil {
		c.t.Fatalf("reaching %s in %s: %v", account, region, err)
	}
	st, err := cfn.New(cloudformation.NewFromConfig(cfg)).Describe(c.ctx(), name)
	if err != nil {
		c.t.Fatalf("%s/%s: %v", account, region, err)
	}
	return st
}

// store is a stage's state table (its account, its first region).
func (c *cloud) store(account, region string) *state.Store {
	c.t.Helper()
	cfg, err := c.p.Config(c.ctx(), account, region)
	if err != nil {
		c.t.Fatalf("reaching %s in %s: %v", account, region, err)
	}
	return state.New(dynamodb.NewFromConfig(cfg), state.DefaultTable)
}

// pendingChangeSets counts a stack's change sets that are ready but were
// never executed (left by a run killed between making one and executing
// it).
func (c *cloud) pendingChangeSets(account, region, name string) int {
	c.t.Helper()
	cfg, err := c.p.Config(c.ctx(), account, region)
	if err != nil {
		c.t.Fatalf("reaching %s in %s: %v", account, region, err)
	}
	pages := cloudformation.NewListChangeSetsPaginator(cloudformation.NewFromConfig(cfg), &cloudformation.ListChangeSetsInput{StackName: &name})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(c.ctx())
		if err != nil {
			c.t.Fatalf("listing the change sets of %s in %s/%s: %v", name, account, region, err)
		}
		for _, cs := range page.Summaries {
			// moto lists the whole region's change sets, whatever the stack.
			if cs.ExecutionStatus == "AVAILABLE" && aws.ToString(cs.StackName) == name {
				n++
			}
		}
	}
	return n
}
