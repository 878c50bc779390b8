package lint

import (
	"fmt"
	"strconv"
	"strings"
)

// cronField is one field of an EventBridge cron expression.
type cronField struct {
	name     string
	min, max int
	names    []string // month or weekday names, value min+i
	// specials are the characters the field takes besides , - * /.
	question, last, weekday, nth bool
}

var cronFields = []cronField{
	{name: "minutes", min: 0, max: 59},
	{name: "hours", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31, question: true, last: true, weekday: true},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, question: true, last: true, nth: true},
	{name: "year", min: 1970, max: 2199},
}

// checkSchedule says what is wrong with an EventBridge Scheduler schedule
// expression, or "" when it is one gantry takes: cron(six fields) or
// rate(N unit).
func checkSchedule(expr string) string {
	switch {
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return checkCron(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return checkRate(strings.TrimSuffix(strings.TrimPrefix(expr, "rate("), ")"))
	case strings.HasPrefix(expr, "at("):
		return "at(...) runs once; a job's schedule repeats: use cron(...) or rate(...)"
	}
	return fmt.Sprintf("%q is not a schedule expression; use cron(minutes hours day-of-month month day-of-week year), such as cron(0 3 * * ? *), or rate(N unit), such as rate(15 minutes)", expr)
}

func checkRate(body string) string {
	parts := strings.Fields(body)
	if len(parts) != 2 {
		return fmt.Sprintf("rate(%s) needs a number and a unit, such as rate(15 minutes)", body)
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || n < 1 || parts[0][0] == '+' {
		return fmt.Sprintf("rate(%s): %q is not a whole number of 1 or more", body, parts[0])
	}
	unit := parts[1]
	switch {
	case unit != "minute" && unit != "minutes" && unit != "hour" && unit != "hours" && unit != "day" && unit != "days":
		return fmt.Sprintf("rate(%s): %q is not a unit; use minute(s), hour(s) or day(s)", body, unit)
	case n == 1 && strings.HasSuffix(unit, "s"):
		return fmt.Sprintf("rate(%s): with 1 the unit is singular: rate(1 %s)", body, strings.TrimSuffix(unit, "s"))
	case n > 1 && !strings.HasSuffix(unit, "s"):
		return fmt.Sprintf("rate(%s): with %d the unit is plural: rate(%d %ss)", body, n, n, unit)
	}
	return ""
}

func checkCron(body string) string {
	fields := strings.Fields(body)
	if len(fields) != len(cronFields) {
		hint := ""
		if len(fields) == 5 {
			hint = " (Unix cron has 5; AWS adds the year: append *)"
		}
		return fmt.Sprintf("cron(%s) has %d fields; AWS's cron takes 6: minutes hours day-of-month month day-of-week year%s", body, len(fields), hint)
	}
	for i, f := range fields {
		if msg := cronFields[i].check(f); msg != "" {
			return fmt.Sprintf("cron(%s): %s field %q: %s", body, cronFields[i].name, f, msg)
		}
	}
	dom, dow := fields[2], fields[4]
	switch {
	case dom == "?" && dow == "?":
		return fmt.Sprintf("cron(%s): day-of-month and day-of-week are both ?; give one of them (* for every day)", body)
	case dom != "?" && dow != "?":
		return fmt.Sprintf("cron(%s): day-of-month and day-of-week are both given; AWS's cron needs ? in one of them, such as cron(0 3 * * ? *)", body)
	}
	return ""
}

// check says what is wrong with one field's value, or "".
func (f cronField) check(v string) string {
	if v == "?" {
		if !f.question {
			return "? is only for day-of-month or day-of-week"
		}
		return ""
	}
	for _, item := range strings.Split(v, ",") {
		if msg := f.item(item); msg != "" {
			return msg
		}
	}
	return ""
}

func (f cronField) item(item string) string {
	if item == "" {
		return "an empty item (two commas, or a trailing comma)"
	}
	switch {
	case f.last && item == "L", f.weekday && item == "LW":
		return ""
	case f.weekday && strings.HasSuffix(item, "W"):
		return f.value(strings.TrimSuffix(item, "W"))
	case f.nth && strings.Contains(item, "#"):
		day, nth, _ := strings.Cut(item, "#")
		if n, err := strconv.Atoi(nth); err != nil || n < 1 || n > 5 {
			return fmt.Sprintf("%q: the # takes the week of the month, 1-5", item)
		}
		return f.value(day)
	case f.nth && strings.HasSuffix(item, "L"):
		return f.value(strings.TrimSuffix(item, "L"))
	}
	rng, step, hasStep := strings.Cut(item, "/")
	if hasStep {
		if n, err := strconv.Atoi(step); err != nil || n < 1 {
			return fmt.Sprintf("%q: the step after / must be a whole number of 1 or more", item)
		}
	}
	if rng == "*" {
		return ""
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	if msg := f.value(lo); msg != "" {
		return msg
	}
	if !isRange {
		return ""
	}
	if msg := f.value(hi); msg != "" {
		return msg
	}
	if a, b := f.number(lo), f.number(hi); a > b && f.names == nil {
		return fmt.Sprintf("%q runs backwards", rng)
	}
	return ""
}

// value checks one value: a number in range, or a name of the field.
func (f cronField) value(v string) string {
	if n := f.number(v); n >= f.min && n <= f.max {
		return ""
	}
	names := ""
	if f.names != nil {
		names = " or " + f.names[0] + "-" + f.names[len(f.names)-1]
	}
	return fmt.Sprintf("%q is not a %s value: use %d-%d%s", v, f.name, f.min, f.max, names)
}

// number reads a value as its number; -1 when it is none.
func (f cronField) number(v string) int {
	for i, n := range f.names {
		if strings.EqualFold(v, n) {
			return f.min + i
		}
	}
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}
