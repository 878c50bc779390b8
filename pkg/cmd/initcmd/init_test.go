package initcmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/descriptor"
)

func runInit(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	f, out, errOut := cmdutil.TestFactory("dev")
	code, _ := cmdutil.Execute(context.Background(), NewCmd(f), args)
	return code, out.String(), errOut.String()
}

func TestInitWritesEachTemplate(t *testing.T) {
	for _, tt := range []struct {
		template string
		port     bool
	}{{"web", true}, {"worker", false}, {"jobs", true}} {
		t.Run(tt.template, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errOut := runInit(t, "--template", tt.template, "--service", "billing", "--dir", dir)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			path := filepath.Join(dir, "billing.sd.yaml")
			if strings.TrimSpace(out) != path {
				t.Errorf("stdout = %q, want the path %q", out, path)
			}
			if !strings.Contains(errOut, "gantry lint") {
				t.Errorf("stderr has no next steps: %q", errOut)
			}
			d, probs, err := descriptor.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range probs {
				t.Errorf("written descriptor: %s", p)
			}
			if d.Service != "billing" {
				t.Errorf("service = %q, want billing", d.Service)
			}
			if (d.Compute.Port != nil) != tt.port {
				t.Errorf("port set = %v, want %v", d.Compute.Port != nil, tt.port)
			}
		})
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "billing.sd.yaml")
	if err := os.WriteFile(path, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runInit(t, "--service", "billing", "--dir", dir)
	if code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %q)", code, errOut)
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing", out)
	}
	if b, _ := os.ReadFile(path); string(b) != "mine\n" {
		t.Errorf("existing file changed to %q", b)
	}

	code, _, errOut = runInit(t, "--service", "billing", "--dir", dir, "--force")
	if code != 0 {
		t.Fatalf("with --force: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "service: billing") {
		t.Errorf("--force did not overwrite: %q", b)
	}
}

func TestInitDefaultsServiceToFolderName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Order_Service")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runInit(t, "--dir", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "order-service.sd.yaml")); err != nil {
		t.Error(err)
	}

	// A folder name that is no valid service name falls back to my-service.
	odd := filepath.Join(t.TempDir(), "9x")
	if err := os.Mkdir(odd, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runInit(t, "--dir", odd); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(odd, "my-service.sd.yaml")); err != nil {
		t.Error(err)
	}
}

func TestInitBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--template", "cron"},
		{"--service", "Bad_Name"},
		{"--service", "ab"},
		{"extra-arg"},
	} {
		code, _, errOut := runInit(t, append(args, "--dir", dir)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		_ = errOut
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("bad input still wrote %d files", len(entries))
	}
}

func TestInitMissingFolder(t *testing.T) {
	code, _, _ := runInit(t, "--service", "billing", "--dir", filepath.Join(t.TempDir(), "nope"))
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}
