// Package naming derives the explicit AWS names gantry gives to what it
// renders, and knows the limits AWS and CloudFormation put on them. Render
// uses it to name things and lint uses it to check, beforehand, that every
// stage and resource of a descriptor yields names AWS accepts.
package naming

import (
	"fmt"
	"strings"
)

// Limits AWS imposes on the names gantry derives.
const (
	MaxStack            = 128 // CloudFormation stack name
	MaxTargetGroup      = 32  // Elastic Load Balancing target group name
	MaxReplicationGroup = 40  // ElastiCache replication group id
	MaxDBInstance       = 63  // RDS DB instance identifier
	MaxBucket           = 63  // S3 bucket name
	MaxLogGroup         = 512 // CloudWatch Logs log group name
	MaxAlarm            = 255 // CloudWatch alarm name
)

// StackKind is one of the two stacks rendered per stage and region.
type StackKind string

// The two stacks: data outlives compute, so they are separate.
const (
	Data StackKind = "data"
	App  StackKind = "app"
)

// Alarm kinds gantry renders in the app stack and watches during bake.
const (
	Alarm5xx       = "5xx"
	AlarmUnhealthy = "unhealthy-hosts"
	AlarmCPU       = "cpu"
)

// AlarmKinds lists the alarms the app stack of a web service carries; a
// worker (no port) has only the CPU alarm.
func AlarmKinds(web bool) []string {
	if web {
		return []string{Alarm5xx, AlarmUnhealthy, AlarmCPU}
	}
	return []string{AlarmCPU}
}

// Stack is the CloudFormation stack name: <service>-<stage>-data|app.
func Stack(service, stage string, kind StackKind) string {
	return service + "-" + stage + "-" + string(kind)
}

// TargetGroup is the load balancer target group name: <service>-<stage>.
func TargetGroup(service, stage string) string {
	return service + "-" + stage
}

// ReplicationGroup is the ElastiCache replication group id:
// <service>-<stage>-<resource>. ElastiCache stores ids in lower case.
func ReplicationGroup(service, stage, resource string) string {
	return strings.ToLower(service + "-" + stage + "-" + resource)
}

// DBInstance is the RDS DB instance identifier: <service>-<stage>-<resource>.
// RDS stores identifiers in lower case.
func DBInstance(service, stage, resource string) string {
	return strings.ToLower(service + "-" + stage + "-" + resource)
}

// Bucket is the S3 bucket name: <service>-<stage>-<resource>-<account>-<region>.
// Account and region make it globally unique; S3 names are lower case.
func Bucket(service, stage, resource, account, region string) string {
	return strings.ToLower(service + "-" + stage + "-" + resource + "-" + account + "-" + region)
}

// LogGroup is the CloudWatch Logs group of the service's containers:
// /gantry/<service>/<stage>.
func LogGroup(service, stage string) string {
	return "/gantry/" + service + "/" + stage
}

// Alarm is a CloudWatch alarm name: <service>-<stage>-<kind>.
func Alarm(service, stage, kind string) string {
	return service + "-" + stage + "-" + kind
}

// ValidateStack reports why name is not a valid CloudFormation stack name.
func ValidateStack(name string) error {
	if err := length(name, MaxStack); err != nil {
		return err
	}
	if !isLetter(rune(name[0])) {
		return fmt.Errorf("must start with a letter")
	}
	return only(name, "letters, digits and hyphens", isAlnum, isHyphen)
}

// ValidateTargetGroup reports why name is not a valid target group name.
func ValidateTargetGroup(name string) error {
	if err := length(name, MaxTargetGroup); err != nil {
		return err
	}
	if err := only(name, "letters, digits and hyphens", isAlnum, isHyphen); err != nil {
		return err
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return fmt.Errorf("must not start or end with a hyphen")
	}
	if strings.HasPrefix(strings.ToLower(name), "internal-") {
		return fmt.Errorf("must not start with \"internal-\"")
	}
	return nil
}

// ValidateReplicationGroup reports why id is not a valid ElastiCache
// replication group id.
func ValidateReplicationGroup(id string) error {
	return rdsStyle(id, MaxReplicationGroup)
}

// ValidateDBInstance reports why id is not a valid RDS DB instance identifier.
func ValidateDBInstance(id string) error {
	return rdsStyle(id, MaxDBInstance)
}

// rdsStyle is the identifier rule RDS and ElastiCache share: a letter, then
// letters, digits and single hyphens, not ending in a hyphen.
func rdsStyle(id string, max int) error {
	if err := length(id, max); err != nil {
		return err
	}
	if !isLetter(rune(id[0])) {
		return fmt.Errorf("must start with a letter")
	}
	if err := only(id, "letters, digits and hyphens", isAlnum, isHyphen); err != nil {
		return err
	}
	if strings.Contains(id, "--") {
		return fmt.Errorf("must not contain two consecutive hyphens")
	}
	if strings.HasSuffix(id, "-") {
		return fmt.Errorf("must not end with a hyphen")
	}
	return nil
}

// ValidateBucket reports why name is not a valid S3 bucket name (general
// purpose buckets).
func ValidateBucket(name string) error {
	if len(name) < 3 {
		return fmt.Errorf("is %d characters; S3 needs at least 3", len(name))
	}
	if err := length(name, MaxBucket); err != nil {
		return err
	}
	if err := only(name, "lower-case letters, digits, hyphens and dots", isLowerAlnum, isHyphen, isDot); err != nil {
		return err
	}
	if !isLowerAlnum(rune(name[0])) || !isLowerAlnum(rune(name[len(name)-1])) {
		return fmt.Errorf("must start and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("must not contain two adjacent dots")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("must not start with %q", p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return fmt.Errorf("must not end with %q", s)
		}
	}
	return nil
}

// ValidateLogGroup reports why name is not a valid CloudWatch Logs group name.
func ValidateLogGroup(name string) error {
	if err := length(name, MaxLogGroup); err != nil {
		return err
	}
	return only(name, "letters, digits and . - _ / #", isAlnum, isHyphen, isDot,
		func(c rune) bool { return c == '_' || c == '/' || c == '#' })
}

// ValidateAlarm reports why name is not a valid CloudWatch alarm name.
func ValidateAlarm(name string) error {
	if err := length(name, MaxAlarm); err != nil {
		return err
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] == 0x7f {
			return fmt.Errorf("must not contain control characters")
		}
	}
	return nil
}

// LengthError is a name longer than AWS allows; the fix is a shorter name,
// where other errors need different characters.
type LengthError struct{ Len, Max int }

func (e *LengthError) Error() string {
	return fmt.Sprintf("is %d characters; AWS allows at most %d", e.Len, e.Max)
}

// Length reports a name that is empty or longer than max.
func Length(name string, max int) error { return length(name, max) }

func length(name string, max int) error {
	if name == "" {
		return fmt.Errorf("is empty")
	}
	if len(name) > max {
		return &LengthError{Len: len(name), Max: max}
	}
	return nil
}

func only(name, what string, allowed ...func(rune) bool) error {
	for _, c := range name {
		ok := false
		for _, f := range allowed {
			if f(c) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("may hold only %s, not %q", what, c)
		}
	}
	return nil
}

func isLetter(c rune) bool     { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c rune) bool      { return c >= '0' && c <= '9' }
func isAlnum(c rune) bool      { return isLetter(c) || isDigit(c) }
func isLowerAlnum(c rune) bool { return c >= 'a' && c <= 'z' || isDigit(c) }
func isHyphen(c rune) bool     { return c == '-' }
func isDot(c rune) bool        { return c == '.' }

// LogicalStem turns a resource name into the CamelCase stem of its
// CloudFormation logical IDs: db → Db, user-db → UserDb. Logical IDs allow
// only letters and digits, so names differing only in separators collide.
func LogicalStem(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}
