package naming

import (
	"errors"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	cases := []struct{ got, want string }{
		{Stack("payments", "prod", Data), "payments-prod-data"},
		{Stack("payments", "prod", App), "payments-prod-app"},
		{TargetGroup("payments", "prod"), "payments-prod"},
		{ReplicationGroup("payments", "prod", "cache"), "payments-prod-cache"},
		{DBInstance("payments", "Prod", "db"), "payments-prod-db"},
		{Bucket("payments", "prod", "uploads", "777788889999", "eu-west-1"), "payments-prod-uploads-777788889999-eu-west-1"},
		{LogGroup("payments", "prod"), "/gantry/payments/prod"},
		{Alarm("payments", "prod", Alarm5xx), "payments-prod-5xx"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if got := AlarmKinds(false); len(got) != 1 || got[0] != AlarmCPU {
		t.Errorf("worker alarms = %v", got)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		f       func(string) error
		in      string
		wantErr string // "" for valid
	}{
		{"stack ok", ValidateStack, "payments-prod-app", ""},
		{"stack long", ValidateStack, strings.Repeat("a", 129), "129 characters"},
		{"stack at limit", ValidateStack, strings.Repeat("a", 128), ""},
		{"stack digit first", ValidateStack, "1abc", "start with a letter"},
		{"stack underscore", ValidateStack, "a_b", `not '_'`},
		{"tg ok", ValidateTargetGroup, strings.Repeat("a", 32), ""},
		{"tg long", ValidateTargetGroup, strings.Repeat("a", 33), "at most 32"},
		{"tg hyphen end", ValidateTargetGroup, "abc-", "hyphen"},
		{"tg internal", ValidateTargetGroup, "internal-x", "internal-"},
		{"rg ok", ValidateReplicationGroup, "payments-prod-cache", ""},
		{"rg long", ValidateReplicationGroup, strings.Repeat("a", 41), "at most 40"},
		{"rg double hyphen", ValidateReplicationGroup, "pay--prod-cache", "consecutive"},
		{"rg end hyphen", ValidateReplicationGroup, "pay-", "end with a hyphen"},
		{"db ok", ValidateDBInstance, strings.Repeat("a", 63), ""},
		{"db long", ValidateDBInstance, strings.Repeat("a", 64), "at most 63"},
		{"db underscore", ValidateDBInstance, "a-b_c", `not '_'`},
		{"bucket ok", ValidateBucket, "payments-prod-uploads-777788889999-eu-west-1", ""},
		{"bucket long", ValidateBucket, strings.Repeat("a", 64), "at most 63"},
		{"bucket upper", ValidateBucket, "Abc", "lower-case"},
		{"bucket xn", ValidateBucket, "xn--abc", "xn--"},
		{"bucket short", ValidateBucket, "ab", "at least 3"},
		{"bucket dots", ValidateBucket, "a..b", "adjacent dots"},
		{"log ok", ValidateLogGroup, "/gantry/payments/prod", ""},
		{"log bad", ValidateLogGroup, "/gantry/pay ments", `not ' '`},
		{"alarm ok", ValidateAlarm, "payments-prod-5xx", ""},
		{"alarm long", ValidateAlarm, strings.Repeat("a", 256), "at most 255"},
		{"empty", ValidateAlarm, "", "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.f(c.in)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != "" && err == nil:
				t.Fatalf("want error containing %q, got none", c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Fatalf("error %q does not contain %q", err, c.wantErr)
			}
		})
	}
}

// Lint tells "shorten" from "rename" by the error's type.
func TestLengthError(t *testing.T) {
	err := ValidateTargetGroup(strings.Repeat("a", 40))
	le, ok := errors.AsType[*LengthError](err)
	if !ok || le.Len != 40 || le.Max != MaxTargetGroup {
		t.Fatalf("want a LengthError{40, 32}, got %#v", err)
	}
	if _, ok := errors.AsType[*LengthError](ValidateDBInstance("a--b")); ok {
		t.Fatal("a character problem is not a LengthError")
	}
}

func TestLogicalStem(t *testing.T) {
	for in, want := range map[string]string{"db": "Db", "user-db": "UserDb", "a1b": "A1b", "a-1b": "A1b", "cache2": "Cache2", "x--y": "XY"} {
		if got := LogicalStem(in); got != want {
			t.Errorf("LogicalStem(%q) = %q, want %q", in, got, want)
		}
	}
}
