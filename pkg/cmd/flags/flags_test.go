package flags

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

const flagFile = `{
  "flags": {
    "gate": {"state": "ENABLED", "variants": {"open": true, "closed": false}, "defaultVariant": "closed",
      "targeting": {"if": [{"starts_with": [{"var": "region"}, "eu-"]}, "open", null]}},
    "color": {"state": "ENABLED", "variants": {"red": "#f00", "blue": "#00f"}, "defaultVariant": "red",
      "targeting": {"fractional": [["red", 50], ["blue", 50]]}},
    "limit": {"state": "ENABLED", "variants": {"low": 10, "high": 100}, "defaultVariant": "low"},
    "ratio": {"state": "ENABLED", "variants": {"half": 0.5}, "defaultVariant": "half"},
    "config": {"state": "ENABLED", "variants": {"a": {"retries": 3}}, "defaultVariant": "a"},
    "off": {"state": "DISABLED", "variants": {"on": true}, "defaultVariant": "on"}
  }
}`

func writeFlags(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	f, out, errOut := cmdutil.TestFactory("test")
	code, _ := cmdutil.Execute(context.Background(), NewCmd(f), args)
	return code, out.String(), errOut.String()
}

func TestEvalJSON(t *testing.T) {
	t.Setenv("GANTRY_FLAGS", "")
	path := writeFlags(t, flagFile)
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--flag", "gate", "--context", `{"targetingKey": "payments/prod/eu-west-1", "region": "eu-west-1"}`},
			`{"flag":"gate","value":true,"variant":"open","reason":"TARGETING_MATCH","errorCode":null}`, 0},
		{[]string{"--flag", "gate", "--context", `{"region": "us-east-1"}`},
			`{"flag":"gate","value":false,"variant":"closed","reason":"DEFAULT","errorCode":null}`, 0},
		{[]string{"--flag", "limit", "--type", "integer"},
			`{"flag":"limit","value":10,"variant":"low","reason":"STATIC","errorCode":null}`, 0},
		{[]string{"--flag", "ratio", "--type", "float"},
			`{"flag":"ratio","value":0.5,"variant":"half","reason":"STATIC","errorCode":null}`, 0},
		{[]string{"--flag", "config", "--type", "object"},
			`{"flag":"config","value":{"retries":3},"variant":"a","reason":"STATIC","errorCode":null}`, 0},
		{[]string{"--flag", "color", "--type", "string", "--context", `{"targetingKey": "user-1"}`},
			`"reason":"TARGETING_MATCH","errorCode":null}`, 0},
		{[]string{"--flag", "off", "--default", "true"},
			`{"flag":"off","value":true,"variant":null,"reason":"DISABLED","errorCode":null}`, 0},
		{[]string{"--flag", "missing", "--default", "true"},
			`{"flag":"missing","value":true,"variant":null,"reason":"ERROR","errorCode":"FLAG_NOT_FOUND"}`, 1},
		{[]string{"--flag", "color", "--type", "boolean"},
			`{"flag":"color","value":false,"variant":null,"reason":"ERROR","errorCode":"TYPE_MISMATCH"}`, 1},
		// fractional without a targeting key returns null: the default variant.
		{[]string{"--flag", "color", "--type", "string", "--default", "none"},
			`{"flag":"color","value":"#f00","variant":"red","reason":"DEFAULT","errorCode":null}`, 0},
	} {
		args := append([]string{"eval", "--flags", "file:" + path, "--format", "json"}, c.args...)
		code, out, errOut := run(t, args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, out %s, stderr %s\nwant exit %d and %s", c.args, code, out, errOut, c.code, c.want)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil || len(m) != 5 {
			t.Errorf("%v: not the five-key object: %s", c.args, out)
		}
	}
}

// TestEvalOutputFlag: -o json, --output json and the older --format json
// print the same one line; HTML characters are not escaped.
func TestEvalOutputFlag(t *testing.T) {
	t.Setenv("GANTRY_FLAGS", "")
	path := writeFlags(t, `{"flags": {"tag": {"state": "ENABLED", "variants": {"v": "<a&b>"}, "defaultVariant": "v"}}}`)
	want := `{"flag":"tag","value":"<a&b>","variant":"v","reason":"STATIC","errorCode":null}` + "\n"
	for _, o := range [][]string{{"-o", "json"}, {"--output", "json"}, {"--format", "json"}} {
		args := append([]string{"eval", "--flags", "file:" + path, "--flag", "tag", "--type", "string"}, o...)
		code, out, errOut := run(t, args...)
		if code != 0 || out != want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", o, code, out, errOut, want)
		}
	}
}

func TestEvalTextAndEnv(t *testing.T) {
	path := writeFlags(t, flagFile)
	t.Setenv("GANTRY_FLAGS", "file:"+path)
	code, out, errOut := run(t, "eval", "--flag", "gate", "--context", `{"region": "eu-central-1"}`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"flag       gate", "value      true", "variant    open", "reason     TARGETING_MATCH"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestEvalUsageErrors(t *testing.T) {
	path := writeFlags(t, flagFile)
	t.Setenv("GANTRY_FLAGS", "")
	bad := writeFlags(t, "{\"flags\": {\n  \"gate\": {\"state\": \"ENABLED\", \"variants\": {\"on\": true}, \"defaultVariant\": \"of\"}}}")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--flags", "file:" + path}, "--flag is required"},
		{[]string{"eval", "--flags", "file:" + path, "--flag", "gate", "--type", "bool"}, "invalid value"},
		{[]string{"eval", "--flags", "file:" + path, "--flag", "gate", "--context", "[1]"}, "--context must be a JSON object"},
		{[]string{"eval", "--flags", "file:" + path, "--flag", "limit", "--type", "integer", "--default", "x"}, "not a valid integer"},
		{[]string{"eval", "--flag", "gate"}, "no flag provider configured"},
		{[]string{"eval", "--flags", "etcd", "--flag", "gate"}, "invalid flag provider"},
		{[]string{"eval", "--flags", "file:" + bad, "--flag", "gate"}, "flags.json:2:76: error: flag \"gate\": defaultVariant \"of\" is not one of its variants"},
		{[]string{"eval", "--flags", "file:" + filepath.Join(t.TempDir(), "none.json"), "--flag", "gate"}, "no such file"},
	} {
		code, out, errOut := run(t, c.args...)
		all := out + errOut
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", c.args, code, all)
		}
		_, err := execErr(t, c.args...)
		if !strings.Contains(all, c.want) && !strings.Contains(err, c.want) {
			t.Errorf("%v: %q lacks %q (error %q)", c.args, all, c.want, err)
		}
	}
}

func execErr(t *testing.T, args ...string) (int, string) {
	t.Helper()
	f, _, _ := cmdutil.TestFactory("test")
	code, err := cmdutil.Execute(context.Background(), NewCmd(f), args)
	if err == nil {
		return code, ""
	}
	return code, err.Error()
}
