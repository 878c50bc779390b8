package flags

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	code, err := cmdutil.Execute(context.Background(), NewCmd(f), args)
	msg := errOut.String()
	if err != nil {
		msg += err.Error()
	}
	return code, out.String(), msg
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
			`{"flag":"gate","value":true,"variant":"open","reason":"TARGETING_MATCH","errorCode":null,`, 0},
		{[]string{"--flag", "gate", "--context", `{"region": "us-east-1"}`},
			`{"flag":"gate","value":false,"variant":"closed","reason":"DEFAULT","errorCode":null,`, 0},
		{[]string{"--flag", "limit", "--type", "integer"},
			`{"flag":"limit","value":10,"variant":"low","reason":"STATIC","errorCode":null,`, 0},
		{[]string{"--flag", "ratio", "--type", "float"},
			`{"flag":"ratio","value":0.5,"variant":"half","reason":"STATIC","errorCode":null,`, 0},
		{[]string{"--flag", "config", "--type", "object"},
			`{"flag":"config","value":{"retries":3},"variant":"a","reason":"STATIC","errorCode":null,`, 0},
		{[]string{"--flag", "color", "--type", "string", "--context", `{"targetingKey": "user-1"}`},
			`"reason":"TARGETING_MATCH","errorCode":null,`, 0},
		{[]string{"--flag", "off", "--default", "true"},
			`{"flag":"off","value":true,"variant":null,"reason":"DISABLED","errorCode":null,`, 0},
		{[]string{"--flag", "missing", "--default", "true"},
			`{"flag":"missing","value":true,"variant":null,"reason":"ERROR","errorCode":"FLAG_NOT_FOUND",`, 1},
		{[]string{"--flag", "color", "--type", "boolean"},
			`{"flag":"color","value":false,"variant":null,"reason":"ERROR","errorCode":"TYPE_MISMATCH",`, 1},
		// fractional without a targeting key returns null: the default variant.
		{[]string{"--flag", "color", "--type", "string", "--default", "none"},
			`{"flag":"color","value":"#f00","variant":"red","reason":"DEFAULT","errorCode":null,`, 0},
	} {
		args := append([]string{"eval", "--flags", "file:" + path, "--format", "json"}, c.args...)
		code, out, errOut := run(t, args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, out %s, stderr %s\nwant exit %d and %s", c.args, code, out, errOut, c.code, c.want)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil || len(m) != 8 {
			t.Errorf("%v: not the eight-key object: %s", c.args, out)
		}
	}
}

// TestEvalOutputFlag: -o json, --output json and the older --format json
// print the same one line; HTML characters are not escaped.
func TestEvalOutputFlag(t *testing.T) {
	t.Setenv("GANTRY_FLAGS", "")
	path := writeFlags(t, `{"flags": {"tag": {"state": "ENABLED", "variants": {"v": "<a&b>"}, "defaultVariant": "v"}}}`)
	want := `{"flag":"tag","value":"<a&b>","variant":"v","reason":"STATIC","errorCode":null,"metadata":{},"fractional":null,"explain":null}` + "\n"
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

// Issue 10: the flag's metadata, the fractional algorithm and which rule
// branch decided are in --output json.
func TestEvalJSONMetadataAndExplain(t *testing.T) {
	t.Setenv("GANTRY_FLAGS", "")
	code, out, errOut := run(t, "eval", "--flags", "file:../../../examples/flags/prod-after-version.flagd.json",
		"--flag", "payments-deploy-gate", "-o", "json",
		"--context", `{"targetingKey": "payments/prod/us-west-2", "stage": "prod", "version": "3f2a9c1e"}`)
	var r struct {
		Value    bool
		Variant  string
		Metadata map[string]any
		Explain  string
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d, %v: %s %s", code, err, out, errOut)
	}
	if r.Value || r.Variant != "closed" || r.Metadata["policy"] == nil || !strings.Contains(r.Explain, "sem_ver") {
		t.Errorf("a SHA must leave prod closed, with metadata and the sem_ver null explained: %s", out)
	}
	path := writeFlags(t, `{"metadata": {"fractionalAlgorithm": "v3"}, "flags": {"split": {"state": "ENABLED",
		"variants": {"a": "a", "b": "b"}, "defaultVariant": "a", "targeting": {"fractional": [["a", 50], ["b", 50]]}}}}`)
	_, out, _ = run(t, "eval", "--flags", "file:"+path, "--flag", "split", "--type", "string", "-o", "json",
		"--context", `{"targetingKey": "k"}`)
	if !strings.Contains(out, `"fractional":"v3"`) || !strings.Contains(out, `"fractionalAlgorithm":"v3"`) {
		t.Errorf("the algorithm that decided must be named: %s", out)
	}
}

// Issue 14 item 12 and the --context budgets: bad usage, exit 2, before any
// provider is opened.
func TestEvalRefusesNonFiniteDefaultAndHugeContext(t *testing.T) {
	t.Setenv("GANTRY_FLAGS", "")
	path := writeFlags(t, flagFile)
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	big := `{"x": "` + strings.Repeat("a", 70_000) + `"}`
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--type", "float", "--default", "NaN"}, "not a finite number"},
		{[]string{"--type", "float", "--default", "-Inf"}, "not a finite number"},
		{[]string{"--type", "float", "--default", "+Inf"}, "not a finite number"},
		{[]string{"--context", deep}, "nested more than 16"},
		{[]string{"--context", big}, "at most 65536"},
	} {
		args := append([]string{"eval", "--flags", "file:" + path, "--flag", "ratio", "-o", "json"}, c.args...)
		code, out, errOut := run(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %.200q; want exit 2 and %q", c.args[0], code, out, errOut, c.want)
		}
	}
}

// Issue 14 item 4: an endless flag file fails at once with a clear error.
func TestEvalDevZeroFailsFast(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	t.Setenv("GANTRY_FLAGS", "")
	start := time.Now()
	code, _, errOut := run(t, "eval", "--flags", "file:/dev/zero", "--flag", "x")
	if code != 2 || !strings.Contains(errOut, "at most 8 MiB") || time.Since(start) > 5*time.Second {
		t.Errorf("exit %d after %s, stderr %q; want exit 2 at once naming the 8 MiB budget", code, time.Since(start), errOut)
	}
}

// Issue 14 item 7: 60,000 flags are refused by the count budget, at once
// and as an unusable flag file (exit 2), not "not ready within 15s" (exit 1).
func TestEvalTooManyFlags(t *testing.T) {
	t.Setenv("GANTRY_FLAGS", "")
	var b strings.Builder
	b.WriteString(`{"flags": {`)
	for i := range 60_000 {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `"flag-%d": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "on"}`, i)
	}
	b.WriteString("}}")
	path := writeFlags(t, b.String())
	start := time.Now()
	code, out, errOut := run(t, "eval", "--flags", "file:"+path, "--flag", "flag-1")
	if code != 2 || out != "" || !strings.Contains(errOut, "a flag file may define at most 10000") || time.Since(start) > 10*time.Second {
		t.Errorf("exit %d after %s, stdout %q, stderr %q", code, time.Since(start), out, errOut)
	}
}
