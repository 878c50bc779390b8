package render

import (
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// TestNoWildcardSecretResource: even a descriptor the loader refused (a
// library caller that ignores problems) renders no IAM wildcard from a
// secret reference, and the refusal does not repeat the reference.
func TestNoWildcardSecretResource(t *testing.T) {
	for _, ref := range []string{"ssm:*", "ssm:/prod/*", "secretsmanager:*", "secretsmanager:prod/db-?"} {
		src := strings.Replace(shop, "secrets:\n", "secrets:\n  X: \""+ref+"\"\n", 1)
		d, probs := descriptor.Parse("test.sd.yaml", []byte(src))
		if len(probs) == 0 {
			t.Errorf("%s: the loader accepted it", ref)
		}
		_, err := Render(d, Target{Stage: "dev", Region: "us-east-1"})
		if err == nil {
			t.Errorf("%s rendered", ref)
			continue
		}
		if strings.Contains(err.Error(), ref) {
			t.Errorf("%s: the error repeats the reference: %v", ref, err)
		}
	}
}
