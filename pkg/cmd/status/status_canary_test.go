package status_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	deploycmd "github.com/gantryhq/gantry/pkg/cmd/deploy"
	"github.com/gantryhq/gantry/pkg/cmd/status"
	"github.com/gantryhq/gantry/pkg/deploy"
	desc "github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/render"
)

const canaryService = `schemaVersion: 1
service: checkout
team: test
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/checkout
compute: {cpu: 256, memory: 512, port: 8080}
scaling: {min: 2, max: 4}
routing: {path: /checkout/*}
rollout:
  canary:
    steps: [10, 50]
    stepBake: 1m
stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1, eu-west-1]
`

// A region whose traffic a canary splits shows the split, its step and the
// rollout in charge; the other region shows one version.
func TestStatusShowsASplitRegion(t *testing.T) {
	t.Parallel()
	fk := newFake("checkout")
	file := filepath.Join(t.TempDir(), "checkout.sd.yaml")
	if err := os.WriteFile(file, []byte(canaryService), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := fk.run(t, deploycmd.NewCmd, file, "--version", "1.0.0", "--bake", "0s"); code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, stderr)
	}
	d, _ := desc.Parse(file, []byte(canaryService))
	reg := fk.b.RegionOf(plan.Step{Stage: "dev", Region: "eu-west-1", Account: "111122223333"})
	s := reg.Stack("checkout-dev-app")
	s.Parameters = maps.Clone(s.Parameters)
	maps.Copy(s.Parameters, render.CanaryParameters(d.SpecFor("dev"), "1.0.0", "2.0.0", 10))
	s.Tags[render.TagVersion], s.Tags[deploy.TagCanaryStep], s.Tags[deploy.TagCanaryRollout] = "2.0.0", "1/2", "r-canary"
	reg.SetStack(*s)

	code, out, stderr := fk.run(t, status.NewCmd, file, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var got status.Status
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	byRegion := map[string]status.Region{}
	for _, r := range got.Stages[0].Regions {
		byRegion[r.Region] = r
	}
	want := status.Canary{Version: "2.0.0", StableVersion: "1.0.0", Weight: 10, Step: 1, Steps: 2, RolloutID: "r-canary"}
	if c := byRegion["eu-west-1"].Canary; c == nil || *c != want {
		t.Errorf("eu-west-1 canary %+v, want %+v", c, want)
	}
	if c := byRegion["us-east-1"].Canary; c != nil {
		t.Errorf("us-east-1 (one version) shows a split %+v", c)
	}
	_, text, _ := fk.run(t, status.NewCmd, file)
	for _, w := range []string{"1.0.0 + 2.0.0 at 10%", "eu-west-1: traffic split: 10% on 2.0.0, canary step 1 of 2, 90% on 1.0.0, by rollout r-canary", "gantry rollback --stage dev --region eu-west-1 puts it all on 1.0.0"} {
		if !strings.Contains(text, w) {
			t.Errorf("status text lacks %q:\n%s", w, text)
		}
	}
}
