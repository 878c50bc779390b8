package cmdutil

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/spf13/pflag"

	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/state"
)

// AWSOptions are the global flags of every command that talks to AWS.
type AWSOptions struct {
	Profile     string
	EndpointURL string
	RoleName    string
	StateTable  string

	once     sync.Once
	provider *awsx.Provider
	err      error
}

// AddAWSFlags registers the AWS flags on fs (the root's persistent flags).
func AddAWSFlags(fs *pflag.FlagSet, o *AWSOptions) {
	fs.StringVar(&o.Profile, "profile", "", "AWS shared-config profile to use")
	fs.StringVar(&o.EndpointURL, "endpoint-url", "", "send every AWS call to this URL (an emulator); AWS_ENDPOINT_URL works too")
	fs.StringVar(&o.RoleName, "role-name", awsx.DefaultRoleName, "role assumed in a stage's account when the caller is not in it")
	fs.StringVar(&o.StateTable, "state-table", state.DefaultTable, "DynamoDB table for locks, journal and deployed templates")
}

// Table is the state table's name: --state-table, or state.DefaultTable.
func (o *AWSOptions) Table() string {
	if o.StateTable == "" {
		return state.DefaultTable
	}
	return o.StateTable
}

// Provider returns the AWS config provider for these options, made once.
func (o *AWSOptions) Provider(ctx context.Context, log *slog.Logger) (*awsx.Provider, error) {
	o.once.Do(func() {
		o.provider, o.err = awsx.New(ctx, awsx.Options{
			Profile:     o.Profile,
			EndpointURL: o.EndpointURL,
			RoleName:    o.RoleName,
			Logger:      log,
		})
		if o.err != nil {
			o.err = fmt.Errorf("loading AWS configuration: %w", o.err)
		}
	})
	return o.provider, o.err
}
