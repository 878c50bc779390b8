package gates

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

var (
	examples   = filepath.Join("..", "..", "..", "examples")
	payments   = filepath.Join(examples, "payments", "payments.sd.yaml")
	flagsDir   = filepath.Join(examples, "flags")
	allRegions = []string{
		"dev/us-east-1", "staging/us-east-1", "staging/eu-west-1",
		"prod/us-west-2", "prod/us-east-1", "prod/eu-west-1", "prod/eu-central-1", "prod/ap-southeast-2", "prod/ap-northeast-1",
	}
)

func gantry(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("GANTRY_FLAGS", "")
	f, out, errOut := cmdutil.TestFactory("test")
	code, err := cmdutil.Execute(context.Background(), NewCmd(f), args)
	msg := errOut.String()
	if err != nil {
		msg += err.Error()
	}
	return code, out.String(), msg
}

func report(t *testing.T, args ...string) (int, Report) {
	t.Helper()
	code, out, errOut := gantry(t, append(args, "--output", "json")...)
	var rep Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s\n%s", code, err, out, errOut)
	}
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "}\n") {
		t.Errorf("--output json is not one line:\n%s", out)
	}
	return code, rep
}

func open(rep Report) map[string]bool {
	m := map[string]bool{}
	for _, r := range rep.Regions {
		m[r.Stage+"/"+r.Region] = r.Start
	}
	return m
}

// Each example policy of docs/flags.md, evaluated as the docs say.
func TestExamplePolicies(t *testing.T) {
	for _, c := range []struct {
		file, version string
		open          []string
	}{
		{"region-allow-list.flagd.json", "1.4.2", []string{"staging/eu-west-1", "prod/eu-west-1", "prod/eu-central-1"}},
		{"prod-after-version.flagd.json", "1.4.2", []string{"dev/us-east-1", "staging/us-east-1", "staging/eu-west-1"}},
		{"prod-after-version.flagd.json", "1.5.0", allRegions},
		{"prod-after-version.flagd.json", "2.0.0-rc.1", allRegions},
		{"prod-after-version.flagd.json", "1.5.0-rc.1", []string{"dev/us-east-1", "staging/us-east-1", "staging/eu-west-1"}},
		// A commit SHA is no semantic version: sem_ver is null, the rule goes
		// on to "closed" (it used to fall to the default variant, open).
		{"prod-after-version.flagd.json", "3f2a9c1e", []string{"dev/us-east-1", "staging/us-east-1", "staging/eu-west-1"}},
		{"half-the-regions-first.flagd.json", "1.4.2", []string{"dev/us-east-1", "staging/us-east-1", "staging/eu-west-1",
			"prod/us-west-2", "prod/eu-west-1", "prod/ap-northeast-1"}},
	} {
		t.Run(c.file+"@"+c.version, func(t *testing.T) {
			code, rep := report(t, payments, "--version", c.version, "--flags", "file:"+filepath.Join(flagsDir, c.file))
			got := open(rep)
			if len(got) != len(allRegions) {
				t.Fatalf("regions %v", got)
			}
			want := map[string]bool{}
			for _, r := range c.open {
				want[r] = true
			}
			for _, r := range allRegions {
				if got[r] != want[r] {
					t.Errorf("%s: start=%t, want %t", r, got[r], want[r])
				}
			}
			wantCode := 0
			if len(c.open) < len(allRegions) {
				wantCode = 3
			}
			if code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
			for _, r := range rep.Regions {
				if r.Gate == nil || r.Halt == nil || r.Halt.Outcome != "running" || r.Gate.ErrorCode != nil {
					t.Errorf("%s/%s: %+v", r.Stage, r.Region, r)
				}
			}
		})
	}
}

func TestTextTable(t *testing.T) {
	code, out, _ := gantry(t, payments, "--version", "1.4.2", "--stage", "prod", "--flags", "file:"+filepath.Join(flagsDir, "region-allow-list.flagd.json"))
	if code != 3 {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{
		"STAGE  WAVE  REGION          GATE    HALT  WHY",
		"prod   2     eu-west-1       open    off   payments-deploy-gate=true (TARGETING_MATCH, variant open)",
		"prod   1     us-west-2       closed  off   payments-deploy-gate=false (DEFAULT, variant closed)",
		"2 of 6 regions would start; 4 held by the gate (exit 3).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func writeFile(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMissingFlagAndHalt(t *testing.T) {
	// No gate flag at all, and the halt flag on.
	flags := writeFile(t, "flags.json", `{"flags": {"deploy-halt": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}}}`)
	code, rep := report(t, payments, "--version", "1.0.0", "--stage", "dev", "--flags", "file:"+flags)
	if code != 3 || !rep.Summary.Halted || rep.Summary.Closed != 1 {
		t.Fatalf("exit %d summary %+v", code, rep.Summary)
	}
	r := rep.Regions[0]
	if r.Start || r.Gate.Outcome != "closed" || r.Gate.ErrorCode == nil || *r.Gate.ErrorCode != "FLAG_NOT_FOUND" || !strings.Contains(r.Gate.Why, "failing closed") {
		t.Errorf("gate %+v", r.Gate)
	}
	if r.Halt.Outcome != "halted" || !r.Halt.Value {
		t.Errorf("halt %+v", r.Halt)
	}
	_, out, _ := gantry(t, payments, "--version", "1.0.0", "--stage", "dev", "--flags", "file:"+flags)
	if !strings.Contains(out, "FLAG_NOT_FOUND") || !strings.Contains(out, "The halt flag deploy-halt is on") {
		t.Errorf("text:\n%s", out)
	}
}

func TestNoFlagsInDescriptor(t *testing.T) {
	src, err := os.ReadFile(payments)
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	i := strings.Index(s, "rollout:")
	desc := writeFile(t, "payments.sd.yaml", s[:i])
	code, out, errOut := gantry(t, desc, "--version", "1.0.0")
	if code != 0 || !strings.Contains(out, "names no rollout.gate or rollout.halt flag") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestUsage(t *testing.T) {
	good := "file:" + filepath.Join(flagsDir, "region-allow-list.flagd.json")
	bad := writeFile(t, "flags.json", `{"flags": {"payments-deploy-gate": {"state": "ENABLED", "variants": {}}}}`)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{payments, "--flags", good}, "--version is required"},
		{[]string{payments, "--version", "1", "--stage", "qa", "--flags", good}, `no stage "qa"`},
		{[]string{payments, "--version", "1"}, "no flag provider configured"},
		{[]string{payments, "--version", "1", "--flags", "file:" + bad}, "flags.json:1:69: error: flag \"payments-deploy-gate\": variants is empty"},
		{[]string{payments, "--version", "1", "--flags", good, "-o", "yaml"}, "invalid value"},
		{[]string{filepath.Join(t.TempDir(), "none.sd.yaml"), "--version", "1", "--flags", good}, "no such file"},
	} {
		code, _, errOut := gantry(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q lacks %q", c.args, code, errOut, c.want)
		}
	}
}

// Issue 10: --explain says which rule branch decided each region, and a
// SHA as --version is explained as sem_ver's null, never opening prod.
func TestExplain(t *testing.T) {
	code, out, errOut := gantry(t, payments, "--version", "3f2a9c1e", "--stage", "prod", "--explain",
		"--flags", "file:"+filepath.Join(flagsDir, "prod-after-version.flagd.json"))
	if code != 3 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{
		"Why, region by region:",
		`prod/us-west-2 payments-deploy-gate closed: no condition held: else "closed"; null from sem_ver: "3f2a9c1e" is not a semantic version`,
		"prod/ap-northeast-1 deploy-halt running: no targeting rule: the default variant",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	_, rep := report(t, payments, "--version", "1.4.2", "--stage", "prod",
		"--flags", "file:"+filepath.Join(flagsDir, "half-the-regions-first.flagd.json"))
	g := rep.Regions[0].Gate
	if g.Fractional == nil || *g.Fractional != "v2" || g.Explain == nil || g.Metadata["policy"] == nil {
		t.Errorf("json gate: %+v", g)
	}
	if rep.Regions[0].Halt.Explain != nil || rep.Regions[0].Halt.Metadata == nil {
		t.Errorf("a static flag has no explanation and {} metadata: %+v", rep.Regions[0].Halt)
	}
}
