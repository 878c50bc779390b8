package descriptor

import (
	"github.com/gantryhq/gantry/pkg/kind/postgres"

	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

const minimal = `schemaVersion: 1
service: payments
team: payments-platform
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments
compute:
  cpu: 512
  memory: 1024
  port: 8080
routing:
  path: /payments/*
resources:
  db:
    type: postgres
stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1]
`

func parse(t *testing.T, src string) (*Descriptor, []Problem) {
	t.Helper()
	return Parse("x.sd.yaml", []byte(src))
}

func TestParseDesignExample(t *testing.T) {
	d, probs, err := Load("testdata/design.sd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 0 {
		t.Fatalf("design example has problems: %v", probs)
	}
	if d.Service != "payments" || d.Compute.CPU != 512 || *d.Compute.Port != 8080 {
		t.Errorf("decoded wrong: %+v", d.Compute)
	}
	if got := d.Resources["db"].Settings.(*postgres.Settings).Storage; got != 50 {
		t.Errorf("db storage = %d, want 50", got)
	}
	prod := d.Stages[2]
	if len(prod.Waves) != 3 || prod.Waves[2].MaxParallel != 2 || prod.Waves[0].Bake.Duration != 30*time.Minute {
		t.Errorf("prod waves = %+v", prod.Waves)
	}
	staging := d.Stages[1]
	if !staging.Shorthand || len(staging.Waves) != 1 || staging.Waves[0].Bake.Duration != 10*time.Minute {
		t.Errorf("staging shorthand not normalised: %+v", staging)
	}
	// Overrides deep-merge: changed keys change, siblings stay, other
	// stages keep the top level.
	eff := prod.Effective
	if eff.Scaling.Min != 4 || eff.Scaling.Max != 40 || eff.Scaling.CPUTarget != 60 {
		t.Errorf("prod scaling = %+v", eff.Scaling)
	}
	db := eff.Resources["db"].Settings.(*postgres.Settings)
	if db.Class != "db.r6g.large" || !db.MultiAZ || db.Storage != 50 {
		t.Errorf("prod db = %+v", db)
	}
	if d.Resources["db"].Settings.(*postgres.Settings).Class != "db.t4g.medium" || d.SpecFor("dev").Scaling.Min != 2 {
		t.Errorf("overrides leaked into the top level")
	}
	if sp := prod.EffectivePos.Lookup("resources.db.class"); sp.Line != 65 {
		t.Errorf("effective db.class position = %+v, want the override's line 65", sp)
	}
	if sp := d.Pos.Lookup("stages[1].waves[0].regions[1]"); sp.Line != 50 || sp.Column != 26 {
		t.Errorf("shorthand wave region position = %+v", sp)
	}
}

func TestDefaults(t *testing.T) {
	d, probs := parse(t, minimal)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	if d.Scaling != (Scaling{Min: 2, Max: 4, CPUTarget: 60}) || d.Compute.Healthcheck != "/" {
		t.Errorf("defaults: %+v %q", d.Scaling, d.Compute.Healthcheck)
	}
	pg := d.Resources["db"].Settings.(*postgres.Settings)
	if pg.Version != "16" || pg.Class != "db.t4g.micro" || pg.Storage != 20 || *pg.BackupDays != 7 {
		t.Errorf("postgres defaults: %+v", pg)
	}
}

// TestLoaderProblems: each defect is reported at its own line and column with
// its code.
func TestLoaderProblems(t *testing.T) {
	cases := []struct {
		name, old, new string
		code           string
		line, col      int
		msg            string
	}{
		{"unknown key with suggestion", "  memory: 1024", "  memroy: 1024", CodeUnknownKey, 7, 3, `did you mean "memory"`},
		{"unknown top-level key", "team: payments-platform", "team: payments-platform\nowner: me", CodeUnknownKey, 4, 1, `unknown key "owner"`},
		{"duplicate key", "  cpu: 512", "  cpu: 512\n  cpu: 1024", CodeDuplicate, 7, 3, `"cpu" is given twice`},
		{"string for int", "  cpu: 512", `  cpu: "512"`, CodeType, 6, 8, "remove the quotes"},
		{"list for int", "  cpu: 512", "  cpu: [512]", CodeType, 6, 8, "whole number"},
		{"bool wanted", "    type: postgres", "    type: postgres\n    multiAZ: yes", CodeType, 14, 14, "true or false"},
		{"bad duration", "    regions: [us-east-1]", "    regions: [us-east-1]\n    bake: 10 minutes", CodeDuration, 18, 11, "not a duration"},
		{"duration without unit", "    regions: [us-east-1]", "    regions: [us-east-1]\n    bake: 600", CodeDuration, 18, 11, "no unit"},
		{"negative duration", "    regions: [us-east-1]", "    regions: [us-east-1]\n    bake: -5m", CodeDuration, 18, 11, "negative"},
		{"bad service name", "service: payments", "service: Payments_API", CodeName, 2, 10, "lowercase"},
		{"service too long", "service: payments", "service: " + strings.Repeat("a", 31), CodeName, 2, 10, "3-30"},
		{"bad stage name", "  - name: dev", "  - name: Dev", CodeName, 15, 11, "stage name"},
		{"bad account", `account: "111122223333"`, "account: 12345", CodeValue, 16, 14, "12-digit"},
		{"missing required", "team: payments-platform\n", "", CodeRequired, 1, 1, `"team"`},
		{"missing resource type", "    type: postgres", "    class: db.t4g.micro", CodeRequired, 13, 5, `"type"`},
		{"unknown resource type", "    type: postgres", "    type: postgre", CodeValue, 13, 11, `did you mean "postgres"`},
		{"key of another type", "    type: postgres", "    type: postgres\n    versioning: true", CodeUnknownKey, 14, 5, `unknown key "versioning"`},
		{"bad placeholder", "  port: 8080", "  port: 8080\n  command: [\"run\", \"--db=${resources.db}\"]", CodePlaceholder, 9, 26, "${resources.NAME.OUTPUT}"},
		{"unknown placeholder", "image: 111122223333", "image: ${acount}", CodePlaceholder, 4, 8, "did you mean ${account}"},
		{"unterminated placeholder", "  path: /payments/*", "  path: /payments/${stage", CodePlaceholder, 10, 19, "unterminated"},
		{"plain secret", "team: payments-platform", "team: payments-platform\nsecrets:\n  API_KEY: hunter2", CodeValue, 5, 12, "not values"},
		{"bad env name", "team: payments-platform", "team: payments-platform\nenv:\n  1BAD: x", CodeName, 5, 3, "environment variable name"},
		{"bad resource name", "  db:", "  Db_1:", CodeName, 12, 3, "resource name"},
		{"port out of range", "  port: 8080", "  port: 70000", CodeValue, 8, 9, "out of range"},
		{"regions and waves", "    regions: [us-east-1]", "    regions: [us-east-1]\n    waves:\n      - regions: [us-west-2]", CodeValue, 18, 5, "both regions and waves"},
		{"no regions", "    regions: [us-east-1]", "    approval: false", CodeRequired, 15, 5, "needs regions"},
		{"schema version", "schemaVersion: 1", "schemaVersion: 2", CodeValue, 1, 16, "not supported"},
		{"override of service", "    regions: [us-east-1]", "    regions: [us-east-1]\n    overrides:\n      service: other", CodeOverride, 19, 7, "cannot be overridden"},
		{"unknown override key", "    regions: [us-east-1]", "    regions: [us-east-1]\n    overrides:\n      scalng: {min: 3}", CodeUnknownKey, 19, 7, `did you mean "scaling"`},
		{"override wrong type", "    regions: [us-east-1]", "    regions: [us-east-1]\n    overrides:\n      scaling: {min: many}", CodeType, 19, 22, "whole number"},
		{"syntax error", "compute:", "compute: [", CodeSyntax, 5, 1, "invalid YAML"},
		{"two documents", "stages:", "---\nstages:", CodeSyntax, 14, 1, "one YAML document"},
		{"not a mapping", minimal, "- a\n- b\n", CodeType, 1, 1, "YAML mapping"},
		{"empty", minimal, "", CodeSyntax, 1, 1, "empty"},
		{"unknown anchor", "  cpu: 512", "  cpu: *size", CodeSyntax, 6, 1, "define it with &size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(minimal, c.old) {
				t.Fatalf("test bug: %q not in the base descriptor", c.old)
			}
			src := strings.Replace(minimal, c.old, c.new, 1)
			_, probs := parse(t, src)
			for _, p := range probs {
				if p.Code == c.code && p.Line == c.line && p.Column == c.col && strings.Contains(p.Message, c.msg) {
					return
				}
			}
			t.Errorf("want %s at %d:%d containing %q; got %v\n%s", c.code, c.line, c.col, c.msg, probs, src)
		})
	}
}

// TestAllProblemsInOneRun: several defects, all reported, in order.
func TestAllProblemsInOneRun(t *testing.T) {
	src := strings.NewReplacer(
		"  memory: 1024", "  memroy: 1024",
		"service: payments", "service: P",
		"    type: postgres", "    type: postgres\n    storage: lots",
	).Replace(minimal)
	_, probs := parse(t, src)
	codes := map[string]bool{}
	for _, p := range probs {
		codes[p.Code] = true
	}
	for _, want := range []string{CodeUnknownKey, CodeName, CodeType, CodeRequired} {
		if !codes[want] {
			t.Errorf("missing %s in %v", want, probs)
		}
	}
	for i := 1; i < len(probs); i++ {
		if probs[i].Line < probs[i-1].Line {
			t.Errorf("problems not sorted: %v", probs)
		}
	}
}

func TestHostileInput(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 0, "a"; i < 9; i++ {
		name := fmt.Sprintf("l%d", i)
		laughs += fmt.Sprintf("%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	// Aliases under a key we decode deeply: compute.command is a list.
	// Overrides are walked as raw YAML, the one place an alias bomb could
	// expand.
	bomb := laughs + "stages:\n  - name: dev\n    overrides: *l8\n"
	deep := "service: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n"
	deepMap := "env:\n" + strings.Repeat("  ", 1) + "A: " + strings.Repeat("{a: ", 200) + "1" + strings.Repeat("}", 200) + "\n"
	cases := []struct{ name, src, want string }{
		{"billion laughs", bomb, "more than 100000 nodes"},
		{"deep nesting", deep, "must be a string"},
		{"deep mapping", deepMap, "must be a string"},
		{"huge", "description: " + strings.Repeat("x", MaxFileSize) + "\n", "larger than"},
		{"binary", "\x00\xff\xfe garbage", "invalid YAML"},
		{"tabs", "service:\n\tfoo: bar", "invalid YAML"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, probs := parse(t, c.src)
			found := false
			for _, p := range probs {
				found = found || strings.Contains(p.Message, c.want)
			}
			if !found {
				t.Fatalf("want a problem containing %q, got %v", c.want, probs)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
		})
	}
}

func TestOverridesKeepDeclaredResources(t *testing.T) {
	noRes := strings.Replace(minimal, "resources:\n  db:\n    type: postgres\n", "", 1)
	src := noRes + "    overrides:\n      resources:\n        cache: {class: cache.t4g.small}\n"
	d, probs := parse(t, src)
	if len(probs) != 0 || len(d.Stages[0].Effective.Resources) != 0 {
		t.Fatalf("undeclared resource merged: %v %v", probs, d.Stages[0].Effective.Resources)
	}
	src = minimal + "    overrides:\n      resources:\n        db: {type: redis, class: db.r6g.large}\n"
	d, probs = parse(t, src)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	if db := d.Stages[0].Effective.Resources["db"]; db.Type != "postgres" || db.Settings.(*postgres.Settings).Class != "db.r6g.large" {
		t.Fatalf("type override applied: %+v", db)
	}
}

func TestSyntaxErrorAtEOFStaysInFile(t *testing.T) {
	_, probs := parse(t, "\n\n\n\n&")
	if len(probs) != 1 || probs[0].Line > 5 {
		t.Fatalf("got %v", probs)
	}
}

func TestProblemCap(t *testing.T) {
	src := "stages: [" + strings.Repeat("1, ", 5000) + "1]\n"
	_, probs := parse(t, src)
	if len(probs) > maxProblems+1 || !strings.Contains(probs[len(probs)-1].Message, "more problems") {
		t.Fatalf("got %d problems, last %v", len(probs), probs[len(probs)-1])
	}
}

func TestMergeKeysAndAliases(t *testing.T) {
	src := strings.Replace(minimal, "compute:\n", "x-base: &base\n  cpu: 512\n  memory: 1024\ncompute:\n  <<: *base\n", 1)
	src = strings.Replace(src, "  cpu: 512\n  memory: 1024\n  port", "  port", 1)
	_, probs := parse(t, src)
	// x-base is not a key of the format: it is reported, the merge works.
	if len(probs) != 1 || probs[0].Code != CodeUnknownKey {
		t.Fatalf("got %v", probs)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, _, err := Load("testdata/nope.sd.yaml"); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("want not-exist error, got %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.sd.yaml", "sub/b.sd.yml", "c.yaml", ".hidden/d.sd.yaml", "vendor/e.sd.yaml"} {
		p := dir + "/" + f
		_ = os.MkdirAll(p[:strings.LastIndex(p, "/")], 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Discover([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{dir + "/a.sd.yaml", dir + "/sub/b.sd.yml"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Discover = %v, want %v", got, want)
	}
}
