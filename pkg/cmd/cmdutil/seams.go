package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/deploy/awsbackend"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/platform"
	"github.com/gantryhq/gantry/pkg/state"
)

// Backend returns the deploy backend of p through f.NewBackend, or, when
// that is nil, the AWS one over f.AWS. file is the descriptor's path,
// named in lock messages. Commands reach AWS accounts only through it, so
// tests hand them an in-memory one (deploytest.Backend).
func (f *Factory) Backend(ctx context.Context, p *plan.Plan, file string) (deploy.Backend, error) {
	if f.NewBackend != nil {
		return f.NewBackend(ctx, p, file)
	}
	provider, err := f.AWS.Provider(ctx, f.Log())
	if err != nil {
		return nil, err
	}
	return awsbackend.New(awsbackend.Options{Configs: provider, Plan: p, Table: f.AWS.Table(), Logger: f.Log(), File: file}), nil
}

// Bootstrapper makes what gantry needs in an account and region (gantry
// bootstrap). Calls for different targets run concurrently.
type Bootstrapper interface {
	// CallerAccount is the account the credentials act in.
	CallerAccount(ctx context.Context, region string) (string, error)
	// StateTable makes the state table exist in account and region, and
	// says whether it was there (platform.Found) or made (platform.Created).
	StateTable(ctx context.Context, account, region, table string) (platform.Status, error)
	// ArtifactsBucket makes the artifacts bucket exist in account and
	// region: where deploy uploads templates over CloudFormation's inline
	// limit (platform.EnsureArtifactsBucket).
	ArtifactsBucket(ctx context.Context, account, region string) (platform.Resource, error)
	// DemoPlatform makes the demo platform exist in account and region. On
	// failure the platform, when not nil, lists what was done before it.
	DemoPlatform(ctx context.Context, account, region string) (*platform.Platform, error)
	// DemoAlarms makes the named alarms exist in account and region: the
	// stand-ins of a descriptor's rollout.alarms on a demo platform.
	DemoAlarms(ctx context.Context, account, region string, names []string) ([]platform.Resource, error)
}

// Bootstrapper returns f.NewBootstrapper's, or, when that is nil, the AWS
// one over f.AWS.
func (f *Factory) Bootstrapper(ctx context.Context) (Bootstrapper, error) {
	if f.NewBootstrapper != nil {
		return f.NewBootstrapper(ctx)
	}
	provider, err := f.AWS.Provider(ctx, f.Log())
	if err != nil {
		return nil, err
	}
	return awsBootstrapper{provider: provider, log: f.Log()}, nil
}

// Env reads the environment through f.Getenv, or os.Getenv when nil.
func (f *Factory) Env(key string) string {
	if f.Getenv != nil {
		return f.Getenv(key)
	}
	return os.Getenv(key)
}

// TimeNow is f.Now(), or time.Now() when nil.
func (f *Factory) TimeNow() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// awsBootstrapper bootstraps through the AWS SDK, in each target's
// account (assuming its deploy role) as awsx reaches it.
type awsBootstrapper struct {
	provider *awsx.Provider
	log      *slog.Logger
}

func (b awsBootstrapper) CallerAccount(ctx context.Context, region string) (string, error) {
	id, err := b.provider.CallerIdentity(ctx, region)
	if err != nil {
		return "", err
	}
	return id.Account, nil
}

func (b awsBootstrapper) StateTable(ctx context.Context, account, region, table string) (platform.Status, error) {
	cfg, err := b.provider.Config(ctx, account, region)
	if err != nil {
		return "", err
	}
	db := dynamodb.NewFromConfig(cfg)
	status := platform.Found
	_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var notFound *ddbtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		status = platform.Created
	case err != nil:
		return "", fmt.Errorf("describing state table %s: %w", table, err)
	}
	if err := state.New(db, table).EnsureTable(ctx); err != nil {
		return "", err
	}
	return status, nil
}

func (b awsBootstrapper) ArtifactsBucket(ctx context.Context, account, region string) (platform.Resource, error) {
	cfg, err := b.provider.Config(ctx, account, region)
	if err != nil {
		return platform.Resource{}, err
	}
	return platform.EnsureArtifactsBucket(ctx, awsx.NewS3(cfg), account, region)
}

func (b awsBootstrapper) DemoPlatform(ctx context.Context, account, region string) (*platform.Platform, error) {
	cfg, err := b.provider.Config(ctx, account, region)
	if err != nil {
		return nil, err
	}
	clients := platform.NewClients(cfg)
	clients.Logger = b.log
	return platform.EnsureDemo(ctx, clients, region)
}

func (b awsBootstrapper) DemoAlarms(ctx context.Context, account, region string, names []string) ([]platform.Resource, error) {
	cfg, err := b.provider.Config(ctx, account, region)
	if err != nil {
		return nil, err
	}
	return platform.EnsureDemoAlarms(ctx, cloudwatch.NewFromConfig(cfg), names)
}
