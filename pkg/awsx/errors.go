package awsx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
)

// Problem names a kind of set-up problem: something about this machine's
// AWS set-up (credentials, profile, endpoint, roles) rather than about the
// rollout. Every region would hit it alike, so it is reported once.
type Problem string

// The set-up problems Classify recognises.
const (
	NoCredentials      Problem = "no-credentials"
	ExpiredSSO         Problem = "expired-sso-session"
	RejectedCredential Problem = "rejected-credentials"
	UnknownProfile     Problem = "unknown-profile"
	BadConfig          Problem = "bad-config"
	Unreachable        Problem = "unreachable-endpoint"
	RoleNotAssumable   Problem = "role-not-assumable"
)

// SetupError is a set-up problem said in one short line (Message) with the
// next step a person should take (Next). Err keeps the SDK's error chain
// for the debug log; Error() leaves it out on purpose, so that the first
// line a person reads stays short.
type SetupError struct {
	Problem Problem
	Message string
	Next    string
	Err     error
}

func (e *SetupError) Error() string { return e.Message }
func (e *SetupError) Unwrap() error { return e.Err }

// NextStep is what to do about it.
func (e *SetupError) NextStep() string { return e.Next }

// Detail is the underlying error chain, for the debug log.
func (e *SetupError) Detail() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

// Setting is what this process was told about its AWS set-up; Classify
// names it in messages and next steps.
type Setting struct {
	// Profile is --profile; AWS_PROFILE when empty.
	Profile string
	// EndpointURL is --endpoint-url; AWS_ENDPOINT_URL when empty.
	EndpointURL string
}

func (s Setting) profile() string {
	if s.Profile != "" {
		return s.Profile
	}
	return os.Getenv("AWS_PROFILE")
}

func (s Setting) endpoint() string {
	if s.EndpointURL != "" {
		return s.EndpointURL
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

// AssumeRoleError is a failure to assume gantry's deploy role in a stage's
// account.
type AssumeRoleError struct {
	Account string
	Role    string
	Caller  string
	Err     error
}

func (e *AssumeRoleError) Error() string {
	return fmt.Sprintf("reaching account %s: assuming role %s as %s: %v", e.Account, e.Role, e.Caller, e.Err)
}

func (e *AssumeRoleError) Unwrap() error { return e.Err }

// Classify returns err as a SetupError when it is a set-up problem (see
// Problem), and nil otherwise. An error that already is one is returned
// as it is.
func Classify(err error, s Setting) *SetupError {
	if err == nil {
		return nil
	}
	var se *SetupError
	if errors.As(err, &se) {
		return se
	}
	for _, c := range []func(error, Setting) *SetupError{classifyProfile, classifySSO, classifyNoCredentials, classifyNetwork, classifyRejected, classifyRole} {
		if se := c(err, s); se != nil {
			return se
		}
	}
	return nil
}

func forProfile(s Setting) string {
	if p := s.profile(); p != "" {
		return fmt.Sprintf(" for profile %q", p)
	}
	return ""
}

func profileFlag(s Setting) string {
	if p := s.profile(); p != "" {
		return " --profile " + p
	}
	return ""
}

func classifyProfile(err error, s Setting) *SetupError {
	var nf config.SharedConfigProfileNotExistError
	p := s.profile()
	switch {
	case errors.As(err, &nf):
		p = nf.Profile
	case !strings.Contains(err.Error(), "failed to get shared config profile"):
		return nil
	}
	return &SetupError{Problem: UnknownProfile, Err: err,
		Message: fmt.Sprintf("AWS profile %q is not in the AWS config files", p),
		Next:    fmt.Sprintf("run aws configure --profile %s (or aws configure sso), or pick a profile that exists with --profile or AWS_PROFILE", p),
	}
}

func classifySSO(err error, s Setting) *SetupError {
	var it *ssocreds.InvalidTokenError
	msg := err.Error()
	if !errors.As(err, &it) && !strings.Contains(msg, "SSO token is expired") && !strings.Contains(msg, "refresh cached SSO token failed") {
		return nil
	}
	return &SetupError{Problem: ExpiredSSO, Err: err,
		Message: "the AWS SSO session" + forProfile(s) + " has expired or was never started",
		Next:    "run aws sso login" + profileFlag(s) + ", then run this command again",
	}
}

// classifyNoCredentials recognises the default chain running out of
// sources. Instance metadata is its last source, so an IMDS error means
// nothing before it had credentials (even when IMDS itself was merely
// unreachable, off EC2).
func classifyNoCredentials(err error, s Setting) *SetupError {
	msg := err.Error()
	if !strings.Contains(msg, "failed to refresh cached credentials") && !strings.Contains(msg, "failed to retrieve credentials") {
		return nil
	}
	if !strings.Contains(msg, "ec2imds") && !strings.Contains(msg, "IMDS") && !strings.Contains(msg, "no valid credential") &&
		!strings.Contains(msg, "static credentials are empty") {
		return nil
	}
	next := "run aws sso login --profile NAME and set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	if p := s.profile(); p != "" {
		next = fmt.Sprintf("run aws sso login --profile %s (or aws configure --profile %s), or set AWS_PROFILE to a profile with credentials", p, p)
	}
	return &SetupError{Problem: NoCredentials, Err: err, Message: "no AWS credentials found" + forProfile(s), Next: next}
}

func classifyNetwork(err error, s Setting) *SetupError {
	var dns *net.DNSError
	var op *net.OpError
	reason := ""
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		reason = "no such host"
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.As(err, &op) && op.Op == "dial":
		reason = "cannot connect"
		if op.Timeout() {
			reason = "timed out connecting"
		}
	case errors.As(err, &dns):
		reason = "cannot resolve the host name"
	default:
		return nil
	}
	where := endpointOf(err, s)
	next := "check the network connection and any proxy (HTTPS_PROXY), then run this command again"
	if e := s.endpoint(); e != "" {
		next = "is the emulator running there? start it with e2e/emulator/run, or fix --endpoint-url / AWS_ENDPOINT_URL"
	}
	return &SetupError{Problem: Unreachable, Err: err, Message: fmt.Sprintf("cannot reach the AWS endpoint %s: %s", where, reason), Next: next}
}

// endpointOf is the scheme and host of the request that failed (never its
// path or query), else the configured endpoint.
func endpointOf(err error, s Setting) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	if e := s.endpoint(); e != "" {
		if u, perr := url.Parse(e); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	return "(the AWS default)"
}

// rejected says what an API error code means when it means that the
// credentials themselves are wrong or stale, whatever the call; "" else.
func rejected(code string) string {
	switch code {
	case "ExpiredToken", "ExpiredTokenException":
		return "the AWS session token has expired"
	case "RequestExpired":
		return "the AWS request expired (is the clock right?)"
	case "InvalidClientTokenId", "UnrecognizedClientException":
		return "the AWS access key is not valid"
	case "SignatureDoesNotMatch", "InvalidSignatureException":
		return "the AWS secret key does not match the access key"
	}
	return ""
}

func classifyRejected(err error, s Setting) *SetupError {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return nil
	}
	msg := rejected(api.ErrorCode())
	if msg == "" {
		return nil
	}
	return &SetupError{Problem: RejectedCredential, Err: err, Message: msg + forProfile(s),
		Next: "get fresh credentials (aws sso login" + profileFlag(s) + ", or new AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN)"}
}

func classifyRole(err error, _ Setting) *SetupError {
	var ar *AssumeRoleError
	if !errors.As(err, &ar) {
		return nil
	}
	why := "refused"
	var api smithy.APIError
	if errors.As(ar.Err, &api) {
		why = api.ErrorCode()
	}
	if strings.Contains(why, "Throttl") {
		return nil // passing, not a set-up problem
	}
	return &SetupError{Problem: RoleNotAssumable, Err: err,
		Message: fmt.Sprintf("cannot assume role %s in account %s: %s", ar.Role, ar.Account, why),
		Next:    fmt.Sprintf("the role must exist and trust %s (name another with --role-name)", ar.Caller),
	}
}

// Brief is err's message with each AWS SDK operation error shortened to
// "Service Operation: Code: message": the retry count, HTTP status and
// request id stay in the full chain (the debug log). Errors that are not
// the SDK's are returned whole.
func Brief(err error) string {
	if err == nil {
		return ""
	}
	full := err.Error()
	var op *smithy.OperationError
	if !errors.As(err, &op) {
		return full
	}
	short := op.ServiceID + " " + op.OperationName + ": "
	var api smithy.APIError
	switch {
	case errors.As(op.Err, &api):
		short += api.ErrorCode() + ": " + api.ErrorMessage()
	case errors.Is(op.Err, context.Canceled):
		short += "cancelled"
	case errors.Is(op.Err, context.DeadlineExceeded):
		short += "timed out"
	default:
		return full
	}
	return strings.Replace(full, op.Error(), short, 1)
}
