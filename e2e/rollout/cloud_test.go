package rollout_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/gantryhq/gantry/e2e/internal/e2etest"
	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/state"
)

// cloud reads and pokes the emulator directly (not through the proxy, so
// the checks never show in a test's request counts), in any account: other
// accounts are reached by assuming gantry-deploy, as gantry does.
type cloud struct {
	t *testing.T
	p *awsx.Provider
}

// newCloud makes a cloud for the current test. Make it after the test's
// reset: assumed-role keys do not survive one.
func newCloud(t *testing.T) *cloud {
	t.Helper()
	return newCloudAt(t, e2etest.Emu.Endpoint)
}

// newCloudAt is a cloud that goes through endpoint (a proxy), to see what
// gantry sees.
func newCloudAt(t *testing.T, endpoint string) *cloud {
	t.Helper()
	p, err := awsx.New(context.Background(), awsx.Options{
		EndpointURL: endpoint,
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(emulatortestKey, emulatortestKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &cloud{t: t, p: p}
}

const emulatortestKey = "test"

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func (c *cloud) cfg(account, region string) aws.Config {
	c.t.Helper()
	cfg, err := c.p.Config(ctx(c.t), account, region)
	if err != nil {
		c.t.Fatalf("reaching %s in %s: %v", account, region, err)
	}
	return cfg
}

// stackInfo is what the emulator says about a stack.
type stackInfo struct {
	Name, ID, Status string
	Tags             map[string]string
	Outputs          map[string]string
	Parameters       map[string]string
	Template         string
	Protected        bool
}

// stack describes a stack, with its template; nil when it does not exist.
func (c *cloud) stack(account, region, name string) *stackInfo {
	c.t.Helper()
	cf := cloudformation.NewFromConfig(c.cfg(account, region))
	out, err := cf.DescribeStacks(ctx(c.t), &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	var ae smithy.APIError
	if errors.As(err, &ae) && strings.Contains(ae.ErrorMessage(), "does not exist") {
		return nil
	}
	if err != nil {
		c.t.Fatalf("describing %s in %s/%s: %v", name, account, region, err)
	}
	if len(out.Stacks) != 1 {
		c.t.Fatalf("describing %s in %s/%s: %d stacks", name, account, region, len(out.Stacks))
	}
	s := out.Stacks[0]
	info := &stackInfo{
		Name: aws.ToString(s.StackName), ID: aws.ToString(s.StackId), Status: string(s.StackStatus),
		Tags: map[string]string{}, Outputs: map[string]string{}, Parameters: map[string]string{},
		Protected: aws.ToBool(s.EnableTerminationProtection),
	}
	for _, tg := range s.Tags {
		info.Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	for _, o := range s.Outputs {
		info.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range s.Parameters {
		info.Parameters[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	tpl, err := cf.GetTemplate(ctx(c.t), &cloudformation.GetTemplateInput{StackName: aws.String(name), TemplateStage: cfntypes.TemplateStageOriginal})
	if err != nil {
		c.t.Fatalf("reading the template of %s in %s/%s: %v", name, account, region, err)
	}
	info.Template = aws.ToString(tpl.TemplateBody)
	return info
}

// mustStack is stack, failing the test when the stack does not exist.
func (c *cloud) mustStack(account, region, name string) *stackInfo {
	c.t.Helper()
	s := c.stack(account, region, name)
	if s == nil {
		c.t.Fatalf("stack %s does not exist in account %s, %s", name, account, region)
	}
	return s
}

// setAlarm sets a CloudWatch alarm's state (SetAlarmState), as a real
// metric breach would.
func (c *cloud) setAlarm(account, region, name string, state cwtypes.StateValue) {
	c.t.Helper()
	cw := cloudwatch.NewFromConfig(c.cfg(account, region))
	_, err := cw.SetAlarmState(ctx(c.t), &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(name), StateValue: state, StateReason: aws.String("e2e: set by the test"),
	})
	if err != nil {
		c.t.Fatalf("SetAlarmState %s in %s/%s: %v", name, account, region, err)
	}
}

// alarmState returns an alarm's state ("" when it does not exist).
func (c *cloud) alarmState(account, region, name string) cwtypes.StateValue {
	c.t.Helper()
	cw := cloudwatch.NewFromConfig(c.cfg(account, region))
	out, err := cw.DescribeAlarms(ctx(c.t), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		c.t.Fatalf("DescribeAlarms %s in %s/%s: %v", name, account, region, err)
	}
	if len(out.MetricAlarms) == 0 {
		return ""
	}
	return out.MetricAlarms[0].StateValue
}

// store is the state table of a stage (its account, its first region).
func (c *cloud) store(account, region string) *state.Store {
	c.t.Helper()
	return state.New(dynamodb.NewFromConfig(c.cfg(account, region)), state.DefaultTable)
}

// ---- descriptors and plans ----

// abs is a descriptor path relative to the repository (as gantry is run).
func abs(file string) string {
	if filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(e2etest.Repo, file)
}

// loadPlan plans every stage of a descriptor, the way deploy does.
func loadPlan(t *testing.T, file string) *plan.Plan {
	t.Helper()
	d, probs, err := descriptor.Load(abs(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) > 0 {
		t.Fatalf("%s: %v", file, probs)
	}
	p, err := plan.Build(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeDescriptor writes a descriptor into the test's folder as
// <service>.sd.yaml and returns its path.
func (e *env) writeDescriptor(service, text string) string {
	e.t.Helper()
	file := filepath.Join(e.tmp, service+".sd.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return file
}

// wantPlanRegions checks that the result lists every (stage, region) of
// the plan exactly once, in plan order, with its wave.
func wantPlanRegions(t *testing.T, res *result, p *plan.Plan) {
	t.Helper()
	var want, got []string
	for _, s := range p.Steps() {
		want = append(want, s.Stage+"/"+s.Region+"#"+strconv.Itoa(s.Wave))
	}
	for _, rr := range res.Regions {
		got = append(got, rr.Key()+"#"+strconv.Itoa(rr.Wave))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the result's regions (stage/region#wave)\n got %v\nwant %v (every region of the plan, in order)", got, want)
	}
}
