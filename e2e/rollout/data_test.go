package rollout_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
)

// TestStatefulReplacement renames a bucket resource from files2 to files-2
// (the same CloudFormation logical ID, Files2Bucket, with a new
// BucketName, which S3 can only do by replacing the bucket). The deploy is
// refused without --allow-data-loss, naming the resource and the property,
// and leaves the stack as it was; gantry plan shows the replacement as data
// loss; with --allow-data-loss the deploy goes through.
func TestStatefulReplacement(t *testing.T) {
	e := newEnv(t)
	text := small("vault", `  - name: dev
    account: "111122223333"
    regions: [us-east-1]
`)
	file := e.writeDescriptor("vault", text)
	e.bootstrap(file)
	c := newCloud(t)
	e.deploy(0, file, "1.0.0", "--bake", "0s")
	before := c.mustStack(devAccount, "us-east-1", dataStack("vault", "dev"))
	oldBucket, newBucket := "vault-dev-files2-111122223333-us-east-1", "vault-dev-files-2-111122223333-us-east-1"
	if !hasValue(before.Outputs, oldBucket) {
		t.Fatalf("the data stack's outputs %v do not name bucket %s", before.Outputs, oldBucket)
	}

	// The same service, the bucket resource renamed.
	if err := writeFile(file, strings.ReplaceAll(text, "files2", "files-2")); err != nil {
		t.Fatal(err)
	}
	e.proxy.ResetCounts()
	res, r := e.deploy(1, file, "1.0.0", "--bake", "0s")
	wantStatuses(t, res, map[string]string{"dev/us-east-1": "failed"})
	refusal := res.Region(t, "dev", "us-east-1").Error
	for _, want := range []string{"Files2Bucket", "AWS::S3::Bucket", "BucketName", "--allow-data-loss"} {
		if !strings.Contains(refusal, want) {
			t.Errorf("the refusal does not name %q: %s", want, refusal)
		}
	}
	if !strings.Contains(r.Stderr, "Files2Bucket") {
		t.Errorf("stderr does not name the resource\n%s", e2etest.Tail(r.Stderr, 20))
	}
	counts := e.proxy.Counts()
	if n := counts["cloudformation:ExecuteChangeSet"] + counts["cloudformation:UpdateStack"]; n != 0 {
		t.Errorf("the refused deploy executed %d stack operations", n)
	}
	after := c.mustStack(devAccount, "us-east-1", dataStack("vault", "dev"))
	if after.Status != before.Status || after.Template != before.Template || !hasValue(after.Outputs, oldBucket) {
		t.Errorf("the refused deploy changed the data stack: %s -> %s, outputs %v", before.Status, after.Status, after.Outputs)
	}

	t.Run("plan shows it", func(t *testing.T) {
		r := gantryAt(t, e.url, "plan", file, "--stage", "dev", "--output", "json")
		if r.Code != 0 {
			t.Fatalf("want exit 0\n%s", r)
		}
		if !planHasDataLoss(t, r.Stdout, "Files2Bucket", "BucketName") {
			t.Errorf("the plan does not show Files2Bucket replaced because of BucketName, as data loss\n%s", r.Stdout)
		}
		text := gantryAt(t, e.url, "plan", file, "--stage", "dev")
		if text.Code != 0 || !strings.Contains(text.Stdout, "Files2Bucket") || !strings.Contains(text.Stdout, "BucketName") {
			t.Errorf("the text plan does not name Files2Bucket and BucketName\n%s", text)
		}
	})

	// --allow-data-loss narrowed to another resource does not cover it.
	narrow, _ := e.deploy(1, file, "1.0.0", "--bake", "0s", "--allow-data-loss=db")
	wantStatuses(t, narrow, map[string]string{"dev/us-east-1": "failed"})

	res, r = e.deploy(0, file, "1.0.0", "--bake", "0s", "--allow-data-loss=files2")
	wantStatuses(t, res, map[string]string{"dev/us-east-1": "deployed"})
	// Loud: a note in the JSON and a warning in the log, naming the
	// resource, the property, the stage and the region.
	loud := "dev/us-east-1: data loss allowed by --allow-data-loss: replace Files2Bucket (AWS::S3::Bucket) because BucketName changed in stack vault-dev-data"
	if !slices.Contains(res.Notes, loud) || !strings.Contains(r.Stderr, loud) {
		t.Errorf("the allowed replacement is not loud: notes %q\n%s", res.Notes, e2etest.Tail(r.Stderr, 20))
	}
	if s, _ := res.Region(t, "dev", "us-east-1").Stack("data"); s.Action != "update" {
		t.Errorf("data stack action %q, want update", s.Action)
	}
	replaced := c.mustStack(devAccount, "us-east-1", dataStack("vault", "dev"))
	if replaced.Status != "UPDATE_COMPLETE" || !hasValue(replaced.Outputs, newBucket) {
		t.Errorf("after --allow-data-loss the data stack is %s with outputs %v, want UPDATE_COMPLETE naming %s", replaced.Status, replaced.Outputs, newBucket)
	}
	// The stack policy that denies replacing the bucket is back.
	cf := cloudformation.NewFromConfig(c.cfg(devAccount, "us-east-1"))
	pol, err := cf.GetStackPolicy(ctx(t), &cloudformation.GetStackPolicyInput{StackName: aws.String(dataStack("vault", "dev"))})
	if err != nil {
		t.Fatal(err)
	}
	if body := aws.ToString(pol.StackPolicyBody); !strings.Contains(body, "Update:Replace") || !strings.Contains(body, "Deny") {
		t.Errorf("after --allow-data-loss the data stack's policy no longer denies replacements: %s", body)
	}
}

func hasValue(m map[string]string, v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

// planHasDataLoss looks through gantry plan's JSON for a change of logical
// ID id that replaces it because of property cause and is marked data
// loss. It walks the JSON loosely: any object with "logicalId" is a change.
func planHasDataLoss(t *testing.T, out, id, cause string) bool {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("plan --output json: %v\n%s", err, out)
	}
	found := false
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["logicalId"] == id {
				causes, _ := json.Marshal(x["causes"])
				if x["dataLoss"] == true && x["replacement"] == "True" && strings.Contains(string(causes), cause) {
					found = true
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return found
}
