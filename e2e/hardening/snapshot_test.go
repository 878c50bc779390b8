package hardening_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/state"
)

// snapshot is the end state of a rollout that must not depend on faults
// on the way: per stage/region, every stack of the service (status, tags,
// parameters, template, resources, stack policy, termination protection,
// change sets left behind, output names) and gantry's state (deployment
// records, the journal's steps, the stage's latest rollout). Physical IDs,
// times and rollout IDs are left out: they differ from run to run anyway.
type snapshot map[string]string

// takeSnapshot reads the emulator directly, not through any proxy.
func takeSnapshot(t *testing.T, p *plan.Plan, service string) snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prov, err := awsx.New(ctx, awsx.Options{
		EndpointURL: e2etest.Emu.Endpoint,
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(account, region string) aws.Config {
		c, err := prov.Config(ctx, account, region)
		if err != nil {
			t.Fatalf("reaching %s in %s: %v", account, region, err)
		}
		return c
	}
	snap := snapshot{}
	check := func(what string, err error) {
		if err != nil {
			t.Fatalf("snapshot: %s: %v", what, err)
		}
	}
	for _, st := range p.Stages {
		steps := st.Steps()
		stateCfg := cfg(steps[0].Account, steps[0].Region) // the stage's state table
		db := dynamodb.NewFromConfig(stateCfg)
		store := state.New(db, state.DefaultTable)
		ro, err := store.LatestRollout(ctx, service, st.Name)
		check("latest rollout of "+st.Name, err)
		if ro != nil {
			snap[st.Name+" rollout"] = fmt.Sprintf("version=%s status=%s regions=%v held=%q errors=%v", ro.Version, ro.Status, ro.Regions, ro.HeldReason, ro.RegionErrors)
		}
		journal, err := store.Journal(ctx, service, st.Name, "")
		check("journal of "+st.Name, err)
		steps2 := map[string][]string{}
		for _, en := range journal {
			steps2[en.Region] = append(steps2[en.Region], en.Step+":"+en.Status)
		}
		for r, s := range steps2 {
			snap[st.Name+"/"+r+" journal"] = strings.Join(s, " ")
		}
		for _, step := range steps {
			key := st.Name + "/" + step.Region
			out, err := db.Query(ctx, &dynamodb.QueryInput{
				TableName:                 aws.String(state.DefaultTable),
				KeyConditionExpression:    aws.String("pk = :pk"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: "deploy#" + service + "#" + st.Name + "#" + step.Region}},
				ConsistentRead:            aws.Bool(true),
			})
			check("deployments of "+key, err)
			var versions []string
			for _, it := range out.Items {
				if v, ok := it["version"].(*ddbtypes.AttributeValueMemberS); ok {
					versions = append(versions, v.Value)
				}
			}
			snap[key+" deployments"] = strings.Join(versions, " ")
			cf := cloudformation.NewFromConfig(cfg(step.Account, step.Region))
			stacks, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
			check("stacks of "+key, err)
			for _, s := range stacks.Stacks {
				name := aws.ToString(s.StackName)
				if !strings.HasPrefix(name, service+"-"+st.Name+"-") || s.StackStatus == cfntypes.StackStatusDeleteComplete {
					continue
				}
				snap[key+" "+name] = describeStack(ctx, t, cf, s)
			}
		}
	}
	return snap
}

// describeStack is one stack's line of a snapshot.
func describeStack(ctx context.Context, t *testing.T, cf *cloudformation.Client, s cfntypes.Stack) string {
	t.Helper()
	name := s.StackName
	tags := map[string]string{}
	for _, tg := range s.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	params := map[string]string{}
	for _, p := range s.Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	var outputs []string
	for _, o := range s.Outputs {
		outputs = append(outputs, aws.ToString(o.OutputKey))
	}
	slices.Sort(outputs)
	tpl, err := cf.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: name, TemplateStage: cfntypes.TemplateStageOriginal})
	if err != nil {
		t.Fatalf("snapshot: template of %s: %v", aws.ToString(name), err)
	}
	sum := sha256.Sum256([]byte(aws.ToString(tpl.TemplateBody)))
	res, err := cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: name})
	if err != nil {
		t.Fatalf("snapshot: resources of %s: %v", aws.ToString(name), err)
	}
	resources := map[string]string{}
	for _, r := range res.StackResources {
		resources[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.ResourceType) + " " + string(r.ResourceStatus)
	}
	pol, err := cf.GetStackPolicy(ctx, &cloudformation.GetStackPolicyInput{StackName: name})
	if err != nil {
		t.Fatalf("snapshot: stack policy of %s: %v", aws.ToString(name), err)
	}
	cs, err := cf.ListChangeSets(ctx, &cloudformation.ListChangeSetsInput{StackName: name})
	if err != nil {
		t.Fatalf("snapshot: change sets of %s: %v", aws.ToString(name), err)
	}
	var changeSets []string
	for _, c := range cs.Summaries {
		changeSets = append(changeSets, string(c.Status)+"/"+string(c.ExecutionStatus))
	}
	slices.Sort(changeSets)
	return fmt.Sprintf("status=%s protected=%t tags=%v params=%v outputs=%v template=%s resources=%v policy=%t changeSets=%v",
		s.StackStatus, aws.ToBool(s.EnableTerminationProtection), tags, params, outputs,
		hex.EncodeToString(sum[:8]), resources, aws.ToString(pol.StackPolicyBody) != "", changeSets)
}

// diff lists the keys whose values differ between two snapshots.
func diff(want, got snapshot) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok {
			out = append(out, fmt.Sprintf("%s: missing (want %s)", k, want[k]))
		} else if g != want[k] {
			out = append(out, fmt.Sprintf("%s:\n   got %s\n  want %s", k, g, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("%s: unexpected %s", k, got[k]))
		}
	}
	return out
}
