package render

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

const payments = "../../../examples/payments/payments.sd.yaml"

func runRender(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	f, out, errOut := cmdutil.TestFactory("v0.1.0")
	code, _ := cmdutil.Execute(context.Background(), NewCmd(f), args)
	return code, out.String(), errOut.String()
}

func lines(s string) []string {
	return strings.Fields(s)
}

func TestRenderWritesEveryStageAndRegion(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runRender(t, payments, "--out", out, "--version", "v1.0.0")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	written := lines(stdout)
	// 1 dev + 2 staging + 6 prod regions, two stacks each.
	var templates []string
	for _, p := range written {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("listed but missing: %v", err)
		}
		if strings.HasSuffix(p, ".template.json") {
			templates = append(templates, p)
		}
	}
	if len(templates) != 18 {
		t.Errorf("%d templates, want 18: %v", len(templates), templates)
	}
	for _, want := range []string{
		filepath.Join(out, "dev/us-east-1/payments-dev-data.template.json"),
		filepath.Join(out, "dev/us-east-1/payments-dev-app.template.json"),
		filepath.Join(out, "prod/ap-northeast-1/payments-prod-app.template.json"),
		filepath.Join(out, "staging/eu-west-1/payments-staging-data.template.json"),
	} {
		if !slices.Contains(written, want) {
			t.Errorf("%s not written", want)
		}
	}
}

func TestRenderSelectsStageAndRegion(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runRender(t, payments, "--out", out, "--stage", "prod", "--region", "eu-west-1")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, p := range lines(stdout) {
		if !strings.HasPrefix(p, filepath.Join(out, "prod", "eu-west-1")+string(filepath.Separator)) {
			t.Errorf("rendered outside prod/eu-west-1: %s", p)
		}
	}
	if len(lines(stdout)) == 0 {
		t.Error("nothing rendered")
	}
}

func TestRenderYAML(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runRender(t, payments, "--out", out, "--stage", "dev", "--format", "yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "payments-dev-app.template.yaml") {
		t.Errorf("no YAML template listed:\n%s", stdout)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if code, _, e := runRender(t, payments, "--out", a, "--stage", "staging"); code != 0 {
		t.Fatal(e)
	}
	if code, _, e := runRender(t, payments, "--out", b, "--stage", "staging"); code != 0 {
		t.Fatal(e)
	}
	err := filepath.WalkDir(a, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || string(x) != string(y) {
			t.Errorf("%s differs between two renders", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRenderRefusesBrokenDescriptors(t *testing.T) {
	src, err := os.ReadFile(payments)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests := []struct {
		name, from, to, want string
	}{
		// A loader problem: reported as file:line:col: error CODE: message.
		{"unknown key", "  memory: 1024", "  memroy: 1024", ":9:3: error GN104:"},
		// A lint rule beyond loading: an undeclared resource in a placeholder.
		{"undeclared resource", "${resources.cache.url}", "${resources.kache.url}", "kache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "payments.sd.yaml")
			broken := strings.Replace(string(src), tt.from, tt.to, 1)
			if broken == string(src) {
				t.Fatalf("edit %q did not apply", tt.from)
			}
			if err := os.WriteFile(p, []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out")
			code, stdout, stderr := runRender(t, p, "--out", out)
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q", stdout)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Error("templates written for a broken descriptor")
			}
		})
	}
}

func TestRenderBadSelectionAndInput(t *testing.T) {
	out := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown stage", []string{payments, "--out", out, "--stage", "prd"}, `did you mean "prod"`},
		{"region not in stage", []string{payments, "--out", out, "--stage", "dev", "--region", "eu-west-1"}, `region "eu-west-1"`},
		{"missing file", []string{filepath.Join(out, "nope.sd.yaml"), "--out", out}, "nope.sd.yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, stdout, stderr := cmdutil.TestFactory("dev")
			code, err := cmdutil.Execute(context.Background(), NewCmd(f), tt.args)
			if code != 2 {
				t.Errorf("exit %d, want 2 (%v)", code, err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v lacks %q (stderr %q)", err, tt.want, stderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q", stdout)
			}
		})
	}
}
