package escape_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/naming"
)

const bigAccount = "111122223333"

// bigService is a web service whose app stack is over 51,200 bytes: forty
// settings of a kilobyte each.
func bigService() string {
	var env strings.Builder
	for i := range 40 {
		fmt.Fprintf(&env, "  SETTING_%02d: %q\n", i, strings.Repeat(fmt.Sprintf("value-%02d-", i), 110))
	}
	return `schemaVersion: 1
service: bulky
team: e2e
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/bulky
compute: {cpu: 256, memory: 512, port: 8080, healthcheck: /healthz}
scaling: {min: 1, max: 2}
routing: {path: /bulky/*}
env:
` + env.String() + `stages:
  - name: dev
    account: "` + bigAccount + `"
    regions: [us-east-1]
`
}

// TestTemplateOverTheInlineLimit: the app stack of bulky renders to more
// than 51,200 bytes (which the emulator, like CloudFormation, refuses
// inline); bootstrap makes the artifacts bucket, and plan, deploy (twice)
// and rollback all pass the template through it by URL.
func TestTemplateOverTheInlineLimit(t *testing.T) {
	e := newEnv(t)
	file := e.write("bulky", bigService())
	out := filepath.Join(e.tmp, "out")
	e.gantry(0, "render", file, "--out", out)
	tmpl, err := os.ReadFile(filepath.Join(out, "dev", "us-east-1", "bulky-dev-app.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tmpl) <= cfn.MaxTemplateBody {
		t.Fatalf("the app template is %d bytes; the test needs one over %d", len(tmpl), cfn.MaxTemplateBody)
	}
	t.Logf("app template: %d bytes", len(tmpl))

	e.gantry(0, "bootstrap", file, "--demo-platform")
	bucket := naming.ArtifactsBucket(bigAccount, "us-east-1")
	cfg := e.cfg(bigAccount, "us-east-1")

	// Without the bucket (bootstrapped by an older gantry, say) the error
	// names it and says what to do.
	if _, err := awsx.NewS3(cfg).DeleteBucket(tctx(t), &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	r := e.gantry(1, "plan", file, "--stage", "dev")
	if !strings.Contains(r.Stderr, bucket+", which does not exist") || !strings.Contains(r.Stderr, "run gantry bootstrap FILE") {
		t.Errorf("plan without the artifacts bucket:\n%s", r)
	}
	e.gantry(0, "bootstrap", file, "--demo-platform")

	e.gantry(4, "plan", file, "--stage", "dev", "--exit-code")
	res, _ := e.deploy(0, file, "1.0.0")
	if res.Result != "succeeded" {
		t.Fatalf("deploy 1.0.0: %s", res.Result)
	}
	cf := cloudformation.NewFromConfig(cfg)
	got, err := cf.GetTemplate(tctx(t), &cloudformation.GetTemplateInput{StackName: aws.String("bulky-dev-app"), TemplateStage: cfntypes.TemplateStageOriginal})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(aws.ToString(got.TemplateBody)); n <= cfn.MaxTemplateBody {
		t.Errorf("the deployed template is %d bytes", n)
	}
	objs, err := awsx.NewS3(cfg).ListObjectsV2(tctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("templates/bulky-dev-app/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Contents) != 1 {
		t.Errorf("%d templates in s3://%s/templates/bulky-dev-app/, want 1 (plan and deploy share one object)", len(objs.Contents), bucket)
	}

	e.deploy(0, file, "2.0.0")
	e.gantry(0, "rollback", file, "--stage", "dev", "--region", "us-east-1", "--to", "1.0.0", "--yes")
	st, err := cf.DescribeStacks(tctx(t), &cloudformation.DescribeStacksInput{StackName: aws.String("bulky-dev-app")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range st.Stacks[0].Tags {
		if aws.ToString(tag.Key) == "gantry:version" && aws.ToString(tag.Value) != "1.0.0" {
			t.Errorf("after the rollback the app stack runs %s", aws.ToString(tag.Value))
		}
	}
}
