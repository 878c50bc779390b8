package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusalEscapesAndHidesSecrets: render's refusal on stderr carries no
// terminal escape from the descriptor and no credential GN403 flagged
// (issue 14, items 8 and 9).
func TestRefusalEscapesAndHidesSecrets(t *testing.T) {
	src, err := os.ReadFile(payments)
	if err != nil {
		t.Fatal(err)
	}
	const key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzKEY12345"
	for name, edit := range map[string]string{
		"credential": "  LOG_LEVEL: info\n  AWS_SECRET_ACCESS_KEY: " + key + "\n",
		"escape":     "  LOG_LEVEL: info\n  \"X\\e]0;pwned\\a\\u202e\": a\n",
		"bad secret": "  LOG_LEVEL: info\nsecrets:\n  GH: \"ssm: " + key + "\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(string(src), "  LOG_LEVEL: info\n", edit, 1)
			if name == "bad secret" {
				bad = strings.Replace(bad, "secrets:\n  STRIPE_API_KEY", "other:\n  STRIPE_API_KEY", 1)
			}
			file := filepath.Join(t.TempDir(), "payments.sd.yaml")
			if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runRender(t, file, "--out", t.TempDir())
			if code != 2 || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			if strings.Contains(errOut, key) || strings.ContainsAny(errOut, "\x1b\a\u202e") {
				t.Errorf("stderr repeats a secret or a control:\n%s", errOut)
			}
		})
	}
}
