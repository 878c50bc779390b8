// Package cmdutil holds what every gantry command shares: the Factory of
// dependencies a command is built from, and the typed error that carries
// the process exit code.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/iostreams"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/prompt"
)

// Exit codes, the same for every command (see docs/cli.md).
const (
	ExitOK    = 0 // success
	ExitError = 1 // lint findings of error severity, a failed rollout, or an internal failure
	ExitUsage = 2 // bad usage or invalid input
	ExitHeld  = 3 // a rollout held (closed gate, halt flag, missing approval)
	// ExitChanges is `plan --exit-code`'s answer "there are changes to
	// deploy": distinct from every error, so a pipeline can tell "deploy
	// this" from "the plan failed".
	ExitChanges = 4
)

// Factory holds the dependencies commands are built from. Tests build one
// with buffer-backed streams; main builds one with the real ones.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Version is the gantry version stamped at build time ("dev" otherwise).
	Version string
	// AWS holds the global AWS flags; commands that talk to AWS get their
	// clients from AWS.Provider.
	AWS AWSOptions
	// Logs holds the global logging flags; the root command turns them
	// into Logger before any command runs.
	Logs LogOptions
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Prompter asks the person at the terminal; nil asks on IOStreams.
	Prompter prompt.Prompter
	// NewBackend makes the deploy backend of a plan (see Backend); nil
	// makes the AWS one. Tests set an in-memory one.
	NewBackend func(ctx context.Context, p *plan.Plan, file string) (deploy.Backend, error)
	// NewBootstrapper makes what gantry bootstrap creates things with (see
	// Bootstrapper); nil makes the AWS one.
	NewBootstrapper func(ctx context.Context) (Bootstrapper, error)
	// Getenv reads the environment (GITHUB_STEP_SUMMARY, GANTRY_FLAGS);
	// nil is os.Getenv, so tests do not depend on the process's.
	Getenv func(string) string
	// Now tells the time shown (ages, lock expiries); nil is time.Now.
	Now func() time.Time
}

// Prompt returns f.Prompter, or one that asks on f.IOStreams.
func (f *Factory) Prompt() prompt.Prompter {
	if f.Prompter == nil {
		f.Prompter = prompt.New(f.IOStreams)
	}
	return f.Prompter
}

// Log returns f.Logger or a logger that discards.
func (f *Factory) Log() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}

// ExitCodeError is an error that decides the process exit code. Err may be
// nil when the command has already said everything it had to say (for
// example lint, whose findings are the message). Next, when set, is the
// next step a person should take; the root prints it under the error.
type ExitCodeError struct {
	Code int
	Err  error
	Next string
}

func (e *ExitCodeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitCodeError) Unwrap() error { return e.Err }

// Silent reports whether nothing more should be printed for this error.
func (e *ExitCodeError) Silent() bool { return e.Err == nil }

// NextStep is e.Next, or else the next step the wrapped error names.
func (e *ExitCodeError) NextStep() string {
	if e.Next != "" {
		return e.Next
	}
	return NextStep(e.Err)
}

// NextStep returns the next step err (or an error it wraps) names, if any.
func NextStep(err error) string {
	var n interface{ NextStep() string }
	if err != nil && errors.As(err, &n) {
		return n.NextStep()
	}
	return ""
}

// Detail returns the underlying error chain that err keeps out of its
// message (an AWS SDK error, say), for the debug log; "" when none.
func Detail(err error) string {
	var d interface{ Detail() string }
	if err != nil && errors.As(err, &d) {
		return d.Detail()
	}
	return ""
}

// Actionable ends the command with code, err as the message and next as
// the step to take.
func Actionable(code int, err error, next string) error {
	return &ExitCodeError{Code: code, Err: err, Next: next}
}

// SetupProblem reports a problem with this machine's set-up (credentials,
// profile, endpoint, a missing state table) that every region would hit
// alike: exit 2, with the next step.
func SetupProblem(err error, next string) error {
	return Actionable(ExitUsage, err, next)
}

// SilentExit ends the command with code and prints nothing more.
func SilentExit(code int) error { return &ExitCodeError{Code: code} }

// UsageErrorf reports bad usage (a wrong flag value, a bad argument): exit 2.
func UsageErrorf(format string, args ...any) error {
	return &ExitCodeError{Code: ExitUsage, Err: &UsageError{Err: fmt.Errorf(format, args...)}}
}

// InputError reports input gantry cannot use (an unreadable or invalid
// descriptor, a file that would be overwritten): exit 2.
func InputError(err error) error {
	return &ExitCodeError{Code: ExitUsage, Err: err}
}

// Failure reports that the command could not do its job: exit 1.
func Failure(err error) error {
	return &ExitCodeError{Code: ExitError, Err: err}
}

// UsageError marks an error as a usage mistake, so that the caller prints a
// pointer to --help beside it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// IsUsageError reports whether err is (or wraps) a usage mistake.
func IsUsageError(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

// ExitCode returns the exit code err asks for: 0 for nil, the code of an
// ExitCodeError, and 1 for any other error.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *ExitCodeError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitError
}
