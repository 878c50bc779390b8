package lint

import (
	"strings"
	"testing"
)

func TestCheckSchedule(t *testing.T) {
	ok := []string{
		"cron(0 3 * * ? *)", "cron(0/15 * * * ? *)", "cron(0 8 ? * MON-FRI *)", "cron(30 2 L * ? *)", "cron(0 9 ? * 6#3 *)",
		"cron(0 9 ? * 6L *)", "cron(0 9 15W * ? *)", "cron(0 9 LW * ? *)", "cron(0 0 1 JAN,jul ? 2026-2030)", "cron(5,35 14 * * ? *)",
		"cron(0 12 ? * SAT-SUN *)", "cron(*/5 * * * ? *)", "rate(1 minute)", "rate(15 minutes)", "rate(1 hour)", "rate(7 days)",
	}
	for _, e := range ok {
		if msg := checkSchedule(e); msg != "" {
			t.Errorf("%s: %s", e, msg)
		}
	}
	bad := map[string]string{
		"cron(0 3 * * *)":           "has 5 fields; AWS's cron takes 6",
		"cron(0 3 * * * *)":         "both given",
		"cron(0 3 ? * ? *)":         "both ?",
		"cron(60 3 * * ? *)":        `minutes field "60"`,
		"cron(0 24 * * ? *)":        "use 0-23",
		"cron(0 3 32 * ? *)":        "use 1-31",
		"cron(0 3 * 13 ? *)":        "use 1-12 or JAN-DEC",
		"cron(0 3 ? * 8 *)":         "use 1-7 or SUN-SAT",
		"cron(0 3 * * ? 1969)":      "use 1970-2199",
		"cron(? 3 * * ? *)":         "? is only for day-of-month or day-of-week",
		"cron(0 3 * * ? 2030-2026)": "runs backwards",
		"cron(0/0 3 * * ? *)":       "step after /",
		"cron(0 3 ? * 2#6 *)":       "week of the month",
		"cron(0,,5 3 * * ? *)":      "empty item",
		"cron(0 3 L * ? *) x":       "not a schedule expression",
		"rate(1 minutes)":           "singular: rate(1 minute)",
		"rate(5 minute)":            "plural: rate(5 minutes)",
		"rate(0 minutes)":           "1 or more",
		"rate(5 weeks)":             "not a unit",
		"rate(5)":                   "a number and a unit",
		"at(2026-01-01T00:00:00)":   "runs once",
		"0 3 * * *":                 "not a schedule expression",
	}
	for e, want := range bad {
		if msg := checkSchedule(e); !strings.Contains(msg, want) {
			t.Errorf("%s: %q, want it to say %q", e, msg, want)
		}
	}
}
