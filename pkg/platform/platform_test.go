package platform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/gantryhq/gantry/internal/emulatortest"
)

var emu *emulatortest.Emulator

func TestMain(m *testing.M) {
	e, stop, err := emulatortest.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	emu = e
	code := m.Run()
	stop()
	os.Exit(code)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// inventory counts what exists in a region, to show a rerun adds nothing.
type inventory struct {
	vpcs, subnets, groups, lbs, listeners, clusters int
	params                                          map[string]int64 // name -> version
}

func take(t *testing.T, ctx context.Context, cfg aws.Config) inventory {
	t.Helper()
	var inv inventory
	e := ec2.NewFromConfig(cfg)
	vpcs, err := e.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	inv.vpcs = len(vpcs.Vpcs)
	subnets, err := e.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	inv.subnets = len(subnets.Subnets)
	groups, err := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	inv.groups = len(groups.SecurityGroups)
	lb := elb.NewFromConfig(cfg)
	lbs, err := lb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil {
		t.Fatal(err)
	}
	inv.lbs = len(lbs.LoadBalancers)
	for _, l := range lbs.LoadBalancers {
		ls, err := lb.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: l.LoadBalancerArn})
		if err != nil {
			t.Fatal(err)
		}
		inv.listeners += len(ls.Listeners)
	}
	cl, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	inv.clusters = len(cl.ClusterArns)
	ps, err := ssm.NewFromConfig(cfg).GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/gantry/platform")})
	if err != nil {
		t.Fatal(err)
	}
	inv.params = map[string]int64{}
	for _, p := range ps.Parameters {
		inv.params[aws.ToString(p.Name)] = p.Version
	}
	return inv
}

func TestEnsureDemoCreatesThenReuses(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	const region = "eu-west-3"
	cfg := emu.Config(t, region)
	before := take(t, ctx, cfg)

	p, err := EnsureDemo(ctx, NewClients(cfg), region)
	if err != nil {
		t.Fatalf("EnsureDemo: %v", err)
	}
	// Everything is new on the first call.
	wantKinds := []string{"vpc", "subnet", "subnet", "security-group", "load-balancer", "listener", "ecs-cluster",
		"ssm-parameter", "ssm-parameter", "ssm-parameter", "ssm-parameter", "ssm-parameter"}
	var kinds []string
	for _, r := range p.Resources {
		kinds = append(kinds, r.Kind)
		if r.Status != Created {
			t.Errorf("first call: %s %s is %s, want created", r.Kind, r.ID, r.Status)
		}
	}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("resources %v, want %v", kinds, wantKinds)
	}
	after := take(t, ctx, cfg)
	// The VPC brings its default security group along.
	if after.vpcs != before.vpcs+1 || after.subnets != before.subnets+2 || after.groups != before.groups+2 ||
		after.lbs != before.lbs+1 || after.listeners != before.listeners+1 || after.clusters != before.clusters+1 || len(after.params) != 5 {
		t.Errorf("first call made: before %+v, after %+v", before, after)
	}
	checkShape(t, ctx, cfg, p)

	// A second call finds everything and creates nothing.
	again, err := EnsureDemo(ctx, NewClients(cfg), region)
	if err != nil {
		t.Fatalf("second EnsureDemo: %v", err)
	}
	if c := again.Created(); len(c) != 0 {
		t.Errorf("second call created %v", c)
	}
	if len(again.Resources) != len(wantKinds) {
		t.Errorf("second call reports %d resources, want %d", len(again.Resources), len(wantKinds))
	}
	if again.VPCID != p.VPCID || !slices.Equal(again.SubnetIDs, p.SubnetIDs) || again.ListenerARN != p.ListenerARN ||
		again.SecurityGroupID != p.SecurityGroupID || again.ClusterARN != p.ClusterARN || again.LoadBalancerARN != p.LoadBalancerARN {
		t.Errorf("second call found another platform:\n%+v\nfirst:\n%+v", again, p)
	}
	final := take(t, ctx, cfg)
	if final.vpcs != after.vpcs || final.subnets != after.subnets || final.groups != after.groups || final.lbs != after.lbs ||
		final.listeners != after.listeners || final.clusters != after.clusters {
		t.Errorf("second call changed the inventory: %+v -> %+v", after, final)
	}
	for name, v := range after.params {
		if final.params[name] != v {
			t.Errorf("%s: version %d -> %d; a rerun must not rewrite it", name, v, final.params[name])
		}
	}
}

// checkShape reads the platform back through the APIs and the published
// parameters, as the rendered templates would.
func checkShape(t *testing.T, ctx context.Context, cfg aws.Config, p *Platform) {
	t.Helper()
	params, err := ssm.NewFromConfig(cfg).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{
		ParamVPCID, ParamPrivateSubnets, ParamECSCluster, ParamALBListenerARN, ParamALBSecurityGroup,
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ssmtypes.Parameter{}
	for _, prm := range params.Parameters {
		got[aws.ToString(prm.Name)] = prm
	}
	want := map[string]string{
		ParamVPCID:            p.VPCID,
		ParamPrivateSubnets:   p.SubnetIDs[0] + "," + p.SubnetIDs[1],
		ParamECSCluster:       "gantry-demo",
		ParamALBListenerARN:   p.ListenerARN,
		ParamALBSecurityGroup: p.SecurityGroupID,
	}
	for name, v := range want {
		if g := aws.ToString(got[name].Value); g != v || v == "" {
			t.Errorf("%s = %q, want %q", name, g, v)
		}
	}
	if typ := got[ParamPrivateSubnets].Type; typ != ssmtypes.ParameterTypeStringList {
		t.Errorf("%s is %s, want StringList", ParamPrivateSubnets, typ)
	}

	e := ec2.NewFromConfig(cfg)
	vpcs, err := e.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{p.VPCID}})
	if err != nil {
		t.Fatal(err)
	}
	if c := aws.ToString(vpcs.Vpcs[0].CidrBlock); c != "10.0.0.0/16" {
		t.Errorf("VPC CIDR %s", c)
	}
	subnets, err := e.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: p.SubnetIDs})
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]bool{}
	for _, s := range subnets.Subnets {
		zones[aws.ToString(s.AvailabilityZone)] = true
		if aws.ToString(s.VpcId) != p.VPCID {
			t.Errorf("subnet %s is in %s", aws.ToString(s.SubnetId), aws.ToString(s.VpcId))
		}
	}
	if len(zones) != 2 {
		t.Errorf("subnets in zones %v, want two zones", zones)
	}
	groups, err := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{p.SecurityGroupID}})
	if err != nil {
		t.Fatal(err)
	}
	perms := groups.SecurityGroups[0].IpPermissions
	if len(perms) != 1 || aws.ToInt32(perms[0].FromPort) != 80 || aws.ToString(perms[0].IpRanges[0].CidrIp) != "10.0.0.0/16" {
		t.Errorf("load balancer group ingress = %+v, want HTTP from the VPC", perms)
	}

	lb := elb.NewFromConfig(cfg)
	lbs, err := lb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{p.LoadBalancerARN}})
	if err != nil {
		t.Fatal(err)
	}
	l := lbs.LoadBalancers[0]
	if l.Scheme != elbtypes.LoadBalancerSchemeEnumInternal || l.Type != elbtypes.LoadBalancerTypeEnumApplication ||
		!slices.Equal(l.SecurityGroups, []string{p.SecurityGroupID}) {
		t.Errorf("load balancer %+v: want an internal application load balancer in %s", l, p.SecurityGroupID)
	}
	ls, err := lb.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{p.ListenerARN}})
	if err != nil {
		t.Fatal(err)
	}
	li := ls.Listeners[0]
	if aws.ToInt32(li.Port) != 80 || li.Protocol != elbtypes.ProtocolEnumHttp || len(li.DefaultActions) != 1 ||
		li.DefaultActions[0].Type != elbtypes.ActionTypeEnumFixedResponse ||
		aws.ToString(li.DefaultActions[0].FixedResponseConfig.StatusCode) != "404" {
		t.Errorf("listener %+v: want HTTP:80 answering a fixed 404", li)
	}
	cl, err := ecs.NewFromConfig(cfg).DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"gantry-demo"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Clusters) != 1 || aws.ToString(cl.Clusters[0].ClusterArn) != p.ClusterARN {
		t.Errorf("cluster gantry-demo: %+v, want %s", cl.Clusters, p.ClusterARN)
	}
}

// A rerun after something went missing recreates only that, and rewrites
// only the parameters whose value changed.
func TestEnsureDemoRepairsWhatIsMissing(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	const region = "ca-central-1"
	cfg := emu.Config(t, region)
	p, err := EnsureDemo(ctx, NewClients(cfg), region)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ecs.NewFromConfig(cfg).DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("gantry-demo")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(ParamALBSecurityGroup), Value: aws.String("sg-stale"), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	again, err := EnsureDemo(ctx, NewClients(cfg), region)
	if err != nil {
		t.Fatal(err)
	}
	want := []Resource{
		{Kind: "ecs-cluster", ID: "gantry-demo", Status: Created},
		{Kind: "ssm-parameter", ID: ParamALBSecurityGroup, Status: Updated},
	}
	if got := again.Created(); !slices.Equal(got, want) {
		t.Errorf("repair did %v, want %v", got, want)
	}
	if again.VPCID != p.VPCID {
		t.Errorf("repair used VPC %s, want %s", again.VPCID, p.VPCID)
	}
	checkShape(t, ctx, cfg, again)
}

// Parameters that name a VPC gantry did not tag are a real platform: left
// alone, and nothing is created.
func TestEnsureDemoRefusesAForeignPlatform(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	const region = "sa-east-1"
	cfg := emu.Config(t, region)
	vpc, err := ec2.NewFromConfig(cfg).CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(vpc.Vpc.VpcId)
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(ParamVPCID), Value: aws.String(id), Type: ssmtypes.ParameterTypeString,
	}); err != nil {
		t.Fatal(err)
	}
	before := take(t, ctx, cfg)
	p, err := EnsureDemo(ctx, NewClients(cfg), region)
	var foreign *ForeignPlatformError
	if !errors.As(err, &foreign) || foreign.VPCID != id {
		t.Fatalf("err = %v, want a ForeignPlatformError naming %s", err, id)
	}
	if !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), region) {
		t.Errorf("message %q should name the VPC and the region", err)
	}
	if len(p.Created()) != 0 {
		t.Errorf("created %v", p.Created())
	}
	if after := take(t, ctx, cfg); after.vpcs != before.vpcs || after.params[ParamVPCID] != before.params[ParamVPCID] {
		t.Errorf("refusal changed things: %+v -> %+v", before, after)
	}

	// Tagging that VPC as the demo's makes it the demo platform's VPC.
	if _, err := ec2.NewFromConfig(cfg).CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String(TagKey), Value: aws.String(TagValue)}},
	}); err != nil {
		t.Fatal(err)
	}
	p, err = EnsureDemo(ctx, NewClients(cfg), region)
	if err != nil {
		t.Fatal(err)
	}
	if p.VPCID != id || p.Resources[0].Status != Found {
		t.Errorf("platform VPC %s (%s), want the tagged %s found", p.VPCID, p.Resources[0].Status, id)
	}
}

// A parameter naming a VPC that no longer exists is stale, not foreign.
func TestEnsureDemoOverwritesAStaleParameter(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	const region = "ap-south-1"
	cfg := emu.Config(t, region)
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(ParamVPCID), Value: aws.String("vpc-0123456789abcdef0"), Type: ssmtypes.ParameterTypeString,
	}); err != nil {
		t.Fatal(err)
	}
	p, err := EnsureDemo(ctx, NewClients(cfg), region)
	if err != nil {
		t.Fatal(err)
	}
	if p.Resources[0].Status != Created {
		t.Errorf("VPC %s, want created", p.Resources[0].Status)
	}
	checkShape(t, ctx, cfg, p)
}

func TestEnsureDemoNeedsClients(t *testing.T) {
	if _, err := EnsureDemo(context.Background(), Clients{}, "us-east-1"); err == nil {
		t.Fatal("EnsureDemo with no clients did not fail")
	}
}

// The stand-ins of rollout.alarms exist after EnsureDemoAlarms, are found
// (not made again) by a second call, and never fire by themselves.
func TestEnsureDemoAlarms(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	cw := cloudwatch.NewFromConfig(emu.Config(t, "ca-central-1"))
	names := []string{"svc-p99-latency", "svc-errors"}
	res, err := EnsureDemoAlarms(ctx, cw, names)
	if err != nil || len(res) != 2 || res[0].Status != Created || res[1].Status != Created {
		t.Fatalf("first call: %+v, %v", res, err)
	}
	again, err := EnsureDemoAlarms(ctx, cw, names)
	if err != nil || len(again) != 2 || again[0].Status != Found || again[1].Status != Found {
		t.Fatalf("second call: %+v, %v", again, err)
	}
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
	if err != nil || len(out.MetricAlarms) != 2 {
		t.Fatalf("DescribeAlarms: %+v, %v", out, err)
	}
	for _, a := range out.MetricAlarms {
		if a.StateValue == cwtypes.StateValueAlarm {
			t.Errorf("%s is in ALARM", aws.ToString(a.AlarmName))
		}
	}
}
