package escape_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

const patchedAccount = "111122223333"

// patched is a web service with a bucket and three patches of the kinds
// docs/descriptor.md shows: ECS Exec, a property goformation does not
// model, an extra tag on the bucket.
func patched(extra string) string {
	return `schemaVersion: 1
service: patched
team: e2e
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/patched
compute: {cpu: 256, memory: 512, port: 8080, healthcheck: /healthz}
scaling: {min: 1, max: 2}
routing: {path: /patched/*}
env:
  FILES: ${resources.files.bucket}
resources:
  files: {type: s3}
patches:
  - stack: app
    op: add
    path: /Resources/Service/Properties/EnableExecuteCommand
    value: true
  - stack: app
    op: add
    path: /Resources/Service/Properties/AvailabilityZoneRebalancing
    value: ENABLED
  - stack: data
    op: add
    path: /Resources/FilesBucket/Properties/Tags/-
    value: {Key: cost-centre, Value: "4711"}
` + extra + `stages:
  - name: dev
    account: "` + patchedAccount + `"
    regions: [us-east-1]
`
}

// TestPatchesDeployAndDataSafetyHolds: the patches show in the deployed
// templates; a patch that renames the bucket (a replacement) is refused
// without --allow-data-loss like any other change that loses data, and
// lint names a broken patch at its line.
func TestPatchesDeployAndDataSafetyHolds(t *testing.T) {
	e := newEnv(t)
	file := e.write("patched", patched(""))
	e.gantry(0, "lint", file)
	e.gantry(0, "bootstrap", file, "--demo-platform")
	e.deploy(0, file, "1.0.0")

	cf := cloudformation.NewFromConfig(e.cfg(patchedAccount, "us-east-1"))
	template := func(stack string) string {
		out, err := cf.GetTemplate(tctx(t), &cloudformation.GetTemplateInput{StackName: aws.String(stack), TemplateStage: cfntypes.TemplateStageOriginal})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TemplateBody)
	}
	app, data := template("patched-dev-app"), template("patched-dev-data")
	for _, want := range []string{`"EnableExecuteCommand": true`, `"AvailabilityZoneRebalancing": "ENABLED"`} {
		if !strings.Contains(app, want) {
			t.Errorf("the deployed app template lacks %s", want)
		}
	}
	if !strings.Contains(data, `"Key": "cost-centre"`) || !strings.Contains(data, `"Value": "4711"`) {
		t.Error("the deployed data template lacks the cost-centre tag")
	}

	rename := e.write("patched", patched(`  - stack: data
    op: add
    path: /Resources/FilesBucket/Properties/BucketName
    value: patched-dev-files-renamed
`))
	r := e.gantry(1, "deploy", rename, "--version", "1.0.0", "--bake", "0s")
	if !strings.Contains(r.Stderr, "FilesBucket") || !strings.Contains(r.Stderr, "--allow-data-loss") {
		t.Errorf("a patch replacing the bucket was not refused as data loss:\n%s", r)
	}
	if got := template("patched-dev-data"); got != data {
		t.Error("the refused deploy changed the data stack")
	}

	broken := e.write("patched", patched(`  - stack: app
    op: replace
    path: /Resources/Servce/Properties/DesiredCount
    value: 3
`))
	r = e.gantry(1, "lint", broken)
	if !strings.Contains(r.Stdout, "patched.sd.yaml:27:11: error GN621:") || !strings.Contains(r.Stdout, `did you mean "Service"?`) {
		t.Errorf("lint of a broken patch:\n%s", r)
	}
	r = e.gantry(2, "deploy", broken, "--version", "1.0.0", "--bake", "0s")
	if !strings.Contains(r.Stderr, "patched.sd.yaml:27:11") {
		t.Errorf("deploy of a broken patch:\n%s", r)
	}
}
