package plan_test

import (
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/plan"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/rollout"
)

func sample() *deploy.Preview {
	return &deploy.Preview{
		Service: "shop", Stage: "prod", Version: "1.2.0",
		Regions: []deploy.RegionPreview{{
			Region: "eu-west-1", Account: "777788889999", Version: "1.2.0",
			Stacks: []deploy.StackPreview{
				{Name: "shop-prod-data", Kind: "data", Action: rollout.ActionUpdate, Changes: []deploy.Change{
					{Action: "Modify", LogicalID: "DbInstance", Type: "AWS::RDS::DBInstance", Replacement: "True", Causes: []string{"DBInstanceIdentifier"}, DataLoss: true},
					{Action: "Remove", LogicalID: "OldBucket", Type: "AWS::S3::Bucket", Causes: []string{}, DataLoss: true},
					{Action: "Modify", LogicalID: "Store|Group", Type: "AWS::EC2::SecurityGroup", Replacement: "False", Causes: []string{"SecurityGroupIngress"}},
				}},
				{Name: "shop-prod-app", Kind: "app", Action: rollout.ActionUnchanged, Changes: []deploy.Change{}},
			},
		}},
		Summary: deploy.PreviewSummary{Changes: 3, DataLoss: 2},
	}
}

func TestTextMarksDataLoss(t *testing.T) {
	plain := plan.Text(sample(), false)
	if strings.Contains(plain, "\x1b[") {
		t.Errorf("colour without a terminal:\n%q", plain)
	}
	for _, want := range []string{
		"-/+  Modify  DbInstance",
		"-    Remove  OldBucket",
		"DATA LOSS",
		"! replaces DbInstance (AWS::RDS::DBInstance) because DBInstanceIdentifier changed: gantry deploy refuses it without --allow-data-loss",
		"! deletes OldBucket (AWS::S3::Bucket): gantry deploy refuses it without --allow-data-loss",
		"shop-prod-app: no changes",
		"Plan: 3 changes in 1 of 1 region; 2 replace or delete data",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("text lacks %q:\n%s", want, plain)
		}
	}
	color := plan.Text(sample(), true)
	if !strings.Contains(color, "\x1b[1;31m-/+  Modify  DbInstance") || !strings.Contains(color, "\x1b[33m~    Modify  Store|Group") {
		t.Errorf("on a terminal data loss is bold red and updates yellow:\n%q", color)
	}
}

func TestMarkdownEscapes(t *testing.T) {
	md := plan.Markdown(sample())
	for _, want := range []string{
		"## gantry plan: shop, stage prod",
		"| `shop-prod-data` (update) | Modify | `DbInstance` | `AWS::RDS::DBInstance` | **True** | `DBInstanceIdentifier` | ⚠️ **data loss** |",
		"|  | Modify | `Store\\|Group` |",
		"| `shop-prod-app` (no changes) | | | | | | |",
		"> [!CAUTION]",
		"> - `shop-prod-data`: deletes OldBucket (AWS::S3::Bucket)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// Changes that only retag a resource fold into one line per stack, so the
// change that matters stands out.
func TestTagOnlyChangesFold(t *testing.T) {
	r := &deploy.Preview{Service: "shop", Stage: "prod", Version: "1.2.1", Regions: []deploy.RegionPreview{{
		Region: "eu-west-1", Account: "777788889999", Version: "1.2.1",
		Stacks: []deploy.StackPreview{{Name: "shop-prod-app", Kind: "app", Action: rollout.ActionUpdate, Changes: []deploy.Change{
			{Action: "Modify", LogicalID: "TaskDefinition", Type: "AWS::ECS::TaskDefinition", Replacement: "True", Causes: []string{"ContainerDefinitions"}},
			{Action: "Modify", LogicalID: "CpuAlarm", Type: "AWS::CloudWatch::Alarm", Replacement: "False", Causes: []string{"Tags"}},
			{Action: "Modify", LogicalID: "LogGroup", Type: "AWS::Logs::LogGroup", Replacement: "False", Causes: []string{"Tags"}},
			{Action: "Modify", LogicalID: "Service", Type: "AWS::ECS::Service", Replacement: "False", Causes: []string{"Tags", "TaskDefinition"}},
		}}},
	}}}
	text := plan.Text(r, false)
	for _, want := range []string{"TaskDefinition", "Service", "2 resources: tags only (CpuAlarm, LogGroup)"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "AWS::CloudWatch::Alarm") {
		t.Errorf("a tag-only change has a row of its own:\n%s", text)
	}
	if md := plan.Markdown(r); !strings.Contains(md, "| Modify | 2 resources: tags only (CpuAlarm, LogGroup) |") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestTextSaysWhetherARegionRunsACanary(t *testing.T) {
	p := sample()
	p.Regions = append(p.Regions, p.Regions[0])
	p.Regions[1].Region = "us-east-1"
	p.Regions[0].Canary = &deploy.CanaryPreview{Runs: true, Why: "1.2.0 against 1.1.0 in steps of 5% and 50%, 5m0s each"}
	p.Regions[1].Canary = &deploy.CanaryPreview{Why: "no version runs here yet to compare a canary with: deployed whole"}
	text := plan.Text(p, false)
	for _, want := range []string{"  canary: 1.2.0 against 1.1.0 in steps of 5% and 50%, 5m0s each\n", "  canary: no, no version runs here yet"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan text lacks %q:\n%s", want, text)
		}
	}
	md := plan.Markdown(p)
	for _, want := range []string{"Canary: 1.2.0 against 1.1.0 in steps of 5% and 50%, 5m0s each\n", "Canary: no, no version runs here yet"} {
		if !strings.Contains(md, want) {
			t.Errorf("plan markdown lacks %q:\n%s", want, md)
		}
	}
}
