package cmdutil

import (
	"context"
	"errors"
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
	})
	if o.err != nil {
		return nil, AWSError(o.err, o.Setting())
	}
	return o.provider, nil
}

// Setting is what the flags say about the AWS set-up, for messages.
func (o *AWSOptions) Setting() awsx.Setting {
	return awsx.Setting{Profile: o.Profile, EndpointURL: o.EndpointURL}
}

// AWSError is err as an exit code: a set-up problem (no credentials, an
// unknown profile, an unreachable endpoint, ...) is exit 2 said in one
// line with what to do; anything else is a failure (exit 1), its AWS SDK
// operation errors shortened (the whole chain goes to the debug log).
func AWSError(err error, s awsx.Setting) error {
	if err == nil {
		return nil
	}
	var ee *ExitCodeError
	if errors.As(err, &ee) {
		return err
	}
	if se := awsx.Classify(err, s); se != nil {
		return SetupProblem(se, se.Next)
	}
	if brief := awsx.Brief(err); brief != err.Error() {
		return Failure(&briefError{brief: brief, err: err})
	}
	return Failure(err)
}

// briefError shows a shortened message and keeps the whole error for
// errors.As and the debug log.
type briefError struct {
	brief string
	err   error
}

func (e *briefError) Error() string  { return e.brief }
func (e *briefError) Unwrap() error  { return e.err }
func (e *briefError) Detail() string { return e.err.Error() }
