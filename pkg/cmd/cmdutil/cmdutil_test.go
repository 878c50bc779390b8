package cmdutil

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/awsx"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain error", errors.New("boom"), 1},
		{"usage", UsageErrorf("bad flag %q", "x"), 2},
		{"input", InputError(errors.New("bad file")), 2},
		{"failure", Failure(errors.New("write failed")), 1},
		{"silent", SilentExit(3), 3},
		{"wrapped", fmt.Errorf("running: %w", UsageErrorf("bad")), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestUsageErrorIsRecognised(t *testing.T) {
	err := UsageErrorf("unknown format %q", "xml")
	if !IsUsageError(err) {
		t.Error("IsUsageError(UsageErrorf(...)) = false")
	}
	if IsUsageError(InputError(errors.New("x"))) {
		t.Error("IsUsageError(InputError(...)) = true")
	}
	if err.Error() != `unknown format "xml"` {
		t.Errorf("message = %q", err.Error())
	}
}

func TestSilentExit(t *testing.T) {
	var e *ExitCodeError
	if !errors.As(SilentExit(1), &e) || !e.Silent() {
		t.Error("SilentExit is not silent")
	}
	if !errors.As(Failure(errors.New("x")), &e) || e.Silent() {
		t.Error("Failure is silent")
	}
}

func TestSetupProblemCarriesTheNextStep(t *testing.T) {
	err := fmt.Errorf("checking: %w", SetupProblem(errors.New("no AWS credentials found"), "run aws sso login"))
	var e *ExitCodeError
	if !errors.As(err, &e) || e.Code != ExitUsage || e.NextStep() != "run aws sso login" || e.Err.Error() != "no AWS credentials found" {
		t.Fatalf("SetupProblem = %+v", e)
	}
	if NextStep(errors.New("plain")) != "" || Detail(errors.New("plain")) != "" {
		t.Error("a plain error has a next step or detail")
	}
}

func TestAWSError(t *testing.T) {
	noCreds := errors.New("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled")
	err := AWSError(fmt.Errorf("finding the caller: %w", noCreds), awsx.Setting{Profile: "ci"})
	var e *ExitCodeError
	if !errors.As(err, &e) || e.Code != ExitUsage || e.Err.Error() != `no AWS credentials found for profile "ci"` || !strings.Contains(e.NextStep(), "--profile ci") {
		t.Fatalf("AWSError(no credentials) = %+v", e)
	}
	if !strings.Contains(Detail(err), "ec2imds") {
		t.Errorf("Detail = %q, want the SDK's chain", Detail(err))
	}
	if got := ExitCode(AWSError(errors.New("disk full"), awsx.Setting{})); got != ExitError {
		t.Errorf("an error that is not a set-up problem exits %d, want 1", got)
	}
}

func TestGroupErrors(t *testing.T) {
	got := GroupErrors([]Located{
		{"us-east-1", "AccessDenied"}, {"eu-west-1", "AccessDenied"}, {"us-west-2", "Throttling"}, {"ap-south-1", "AccessDenied"},
	})
	if want := "AccessDenied (us-east-1, eu-west-1, ap-south-1); Throttling (us-west-2)"; got != want {
		t.Errorf("GroupErrors = %q, want %q", got, want)
	}
}
