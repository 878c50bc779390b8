package flagd

import (
	"errors"
	"strings"
	"testing"
)

func TestBadFiles(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string // each a "line:col: ...substring"
	}{
		{"not JSON", "{\n  \"flags\": {\n    \"a\": {\"state\": \"ENABLED\",}\n  }\n}",
			[]string{"bad.json:3:"}},
		{"truncated", "{\"flags\": {", []string{"bad.json:1:12: invalid JSON: unexpected end of file"}},
		{"trailing data", `{"flags": {}} {}`, []string{"bad.json:1:15: unexpected data after the top-level JSON value"}},
		{"not an object", `[]`, []string{`bad.json:1:1: a flag file is a JSON object with a "flags" object; this is an array`}},
		{"no flags", `{"flag": {}}`, []string{`bad.json:1:2: unknown top-level property "flag"; did you mean "flags"?`, `bad.json:1:1: missing the required "flags" object`}},
		{"flags not object", `{"flags": []}`, []string{`bad.json:1:11: "flags" must be an object`}},
		{"state missing and bad", "{\"flags\": {\n \"a\": {\"variants\": {\"on\": true}},\n \"b\": {\"state\": \"ON\", \"variants\": {\"on\": true}}}}",
			[]string{`bad.json:2:7: flag "a" has no "state"`, `bad.json:3:17: flag "b": state must be "ENABLED" or "DISABLED", not "ON"`}},
		{"default variant", "{\"flags\": {\"a\": {\"state\": \"ENABLED\",\n  \"variants\": {\"on\": true, \"off\": false},\n  \"defaultVariant\": \"of\"}}}",
			[]string{`bad.json:3:21: flag "a": defaultVariant "of" is not one of its variants (off, on); did you mean "off"?`}},
		{"mixed variant types", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": "false"}}}}`,
			[]string{`bad.json:1:70: flag "a": variant "off" is a string but variant "on" is a boolean`}},
		{"no variants", `{"flags": {"a": {"state": "ENABLED", "variants": {}}}}`, []string{`flag "a": variants is empty`}},
		{"typo in property", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true}, "defaultVarient": "on"}}}`,
			[]string{`bad.json:1:64: unknown property of flag "a": "defaultVarient"; did you mean "defaultVariant"?`}},
		{"targeting not object", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true}, "targeting": "on"}}}`,
			[]string{`flag "a": targeting must be a JsonLogic object; this is a string`}},
		{"duplicate flag", "{\"flags\": {\n\"a\": {\"state\": \"ENABLED\", \"variants\": {\"on\": true}},\n\"a\": {\"state\": \"DISABLED\", \"variants\": {\"on\": true}}}}",
			[]string{`bad.json:3:1: flag "a" is defined twice (first at bad.json:2:1)`}},
		{"$ref cycle", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true}, "targeting": {"$ref": "x"}}}, "$evaluators": {"x": {"or": [{"$ref": "x"}]}}}`,
			[]string{`$ref "x" refers to itself (x → x)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.json", []byte(c.src))
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("want a *LoadError, got %v", err)
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\ndoes not contain %q", msg, w)
				}
			}
		})
	}
}

func TestUnicodeColumns(t *testing.T) {
	src := "{\"flags\": {\"é\": {\"state\": \"NOPE\", \"variants\": {\"on\": true}}}}"
	_, err := Parse("u.json", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "u.json:1:27:") {
		t.Fatalf("got %v", err)
	}
}
