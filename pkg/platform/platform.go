// Package platform makes the small demo platform that `gantry bootstrap
// --demo-platform` creates in one account and region: what a real platform
// team owns and gantry's rendered stacks only reference through the
// /gantry/platform/ SSM parameters.
//
// The demo platform is a VPC (10.0.0.0/16) with two private subnets in two
// availability zones, the ECS cluster gantry-demo, an internal application
// load balancer with its security group and an HTTP:80 listener whose
// default action answers 404, and the five SSM parameters that publish them.
// It is made for demos and for the emulator: the subnets have no route to
// the internet (no NAT gateway, no VPC endpoints), so real Fargate tasks on
// it could not pull images from ECR.
//
// EnsureDemo is idempotent: everything is found again by its tag
// gantry:platform=demo (or its fixed name), and only what is missing is
// created. It never overwrites /gantry/platform/ parameters that describe a
// platform it did not make.
package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// Names and tags of the demo platform.
const (
	// TagKey and TagValue mark every resource of the demo platform.
	TagKey   = "gantry:platform"
	TagValue = "demo"
	// Name names the cluster, the load balancer and the security group.
	Name = "gantry-demo"
	// VPCCIDR is the demo VPC's address range.
	VPCCIDR = "10.0.0.0/16"
)

// The two private subnets, one per availability zone.
const (
	SubnetCIDR1 = "10.0.1.0/24"
	SubnetCIDR2 = "10.0.2.0/24"
)

// NotFoundBody is what the listener's default action answers, with 404.
const NotFoundBody = "no service is routed here"

// The SSM parameters that publish a platform to gantry's templates (their
// default values; see docs/rendering.md).
const (
	ParameterPrefix       = "/gantry/platform/"
	ParamVPCID            = ParameterPrefix + "vpc-id"
	ParamPrivateSubnets   = ParameterPrefix + "private-subnets"
	ParamECSCluster       = ParameterPrefix + "ecs-cluster"
	ParamALBListenerARN   = ParameterPrefix + "alb-listener-arn"
	ParamALBSecurityGroup = ParameterPrefix + "alb-security-group"
)

// EC2API is the part of the EC2 client EnsureDemo uses.
type EC2API interface {
	DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	CreateVpc(context.Context, *ec2.CreateVpcInput, ...func(*ec2.Options)) (*ec2.CreateVpcOutput, error)
	DescribeAvailabilityZones(context.Context, *ec2.DescribeAvailabilityZonesInput, ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error)
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	CreateSubnet(context.Context, *ec2.CreateSubnetInput, ...func(*ec2.Options)) (*ec2.CreateSubnetOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	CreateSecurityGroup(context.Context, *ec2.CreateSecurityGroupInput, ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
}

// ECSAPI is the part of the ECS client EnsureDemo uses.
type ECSAPI interface {
	DescribeClusters(context.Context, *ecs.DescribeClustersInput, ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	CreateCluster(context.Context, *ecs.CreateClusterInput, ...func(*ecs.Options)) (*ecs.CreateClusterOutput, error)
}

// ELBAPI is the part of the Elastic Load Balancing v2 client EnsureDemo uses.
type ELBAPI interface {
	DescribeLoadBalancers(context.Context, *elb.DescribeLoadBalancersInput, ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
	CreateLoadBalancer(context.Context, *elb.CreateLoadBalancerInput, ...func(*elb.Options)) (*elb.CreateLoadBalancerOutput, error)
	DescribeListeners(context.Context, *elb.DescribeListenersInput, ...func(*elb.Options)) (*elb.DescribeListenersOutput, error)
	CreateListener(context.Context, *elb.CreateListenerInput, ...func(*elb.Options)) (*elb.CreateListenerOutput, error)
}

// SSMAPI is the part of the SSM client EnsureDemo uses.
type SSMAPI interface {
	GetParameters(context.Context, *ssm.GetParametersInput, ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// Clients are the AWS clients of one account and region.
type Clients struct {
	EC2 EC2API
	ECS ECSAPI
	ELB ELBAPI
	SSM SSMAPI
	// Logger gets a debug line per resource; nil discards them.
	Logger *slog.Logger
}

// NewClients builds the clients from cfg (an account and region's config,
// from awsx.Provider.Config).
func NewClients(cfg aws.Config) Clients {
	return Clients{
		EC2: ec2.NewFromConfig(cfg),
		ECS: ecs.NewFromConfig(cfg),
		ELB: elb.NewFromConfig(cfg),
		SSM: ssm.NewFromConfig(cfg),
	}
}

// Status says what EnsureDemo did with a resource.
type Status string

// Statuses of a Resource.
const (
	Created Status = "created" // did not exist; made now
	Found   Status = "found"   // existed and was reused as it is
	Updated Status = "updated" // existed with another value (an SSM parameter) and was overwritten
)

// Resource is one thing of the platform and what EnsureDemo did with it.
type Resource struct {
	// Kind is vpc, subnet, security-group, load-balancer, listener,
	// ecs-cluster or ssm-parameter.
	Kind   string `json:"kind"`
	ID     string `json:"id"` // the resource's ID, ARN or name
	Status Status `json:"status"`
}

// Platform is the demo platform of one account and region.
type Platform struct {
	Region              string     `json:"region"`
	VPCID               string     `json:"vpcId"`
	SubnetIDs           []string   `json:"subnetIds"`
	AvailabilityZones   []string   `json:"availabilityZones"`
	SecurityGroupID     string     `json:"securityGroupId"`
	LoadBalancerARN     string     `json:"loadBalancerArn"`
	LoadBalancerDNSName string     `json:"loadBalancerDnsName"`
	ListenerARN         string     `json:"listenerArn"`
	ClusterName         string     `json:"clusterName"`
	ClusterARN          string     `json:"clusterArn"`
	Resources           []Resource `json:"resources"` // in the order they were ensured
}

// Parameters returns the SSM parameters that publish p, by name.
func (p *Platform) Parameters() map[string]string {
	return map[string]string{
		ParamVPCID:            p.VPCID,
		ParamPrivateSubnets:   strings.Join(p.SubnetIDs, ","),
		ParamECSCluster:       p.ClusterName,
		ParamALBListenerARN:   p.ListenerARN,
		ParamALBSecurityGroup: p.SecurityGroupID,
	}
}

// Created returns the resources made (or overwritten) by this call.
func (p *Platform) Created() []Resource {
	var out []Resource
	for _, r := range p.Resources {
		if r.Status != Found {
			out = append(out, r)
		}
	}
	return out
}

func (p *Platform) add(kind, id string, st Status) {
	p.Resources = append(p.Resources, Resource{Kind: kind, ID: id, Status: st})
}

// ForeignPlatformError is returned when the /gantry/platform/ parameters
// already describe a VPC that is not the demo platform's: EnsureDemo leaves
// a real platform alone.
type ForeignPlatformError struct {
	Region string
	VPCID  string
}

func (e *ForeignPlatformError) Error() string {
	return fmt.Sprintf("%s in %s names %s, which is not tagged %s=%s: this account already has a platform, "+
		"so the demo platform is not created over it (bootstrap without --demo-platform, or use another account or region)",
		ParamVPCID, e.Region, e.VPCID, TagKey, TagValue)
}

type ensurer struct {
	c      Clients
	log    *slog.Logger
	region string
	p      *Platform
}

// EnsureDemo finds or creates the demo platform in the account and region
// of clients (region names it in messages and in the result) and publishes
// it under /gantry/platform/. A second call creates nothing.
func EnsureDemo(ctx context.Context, clients Clients, region string) (*Platform, error) {
	if clients.EC2 == nil || clients.ECS == nil || clients.ELB == nil || clients.SSM == nil {
		return nil, errors.New("demo platform: every client (EC2, ECS, ELB, SSM) is needed")
	}
	log := clients.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &ensurer{c: clients, log: log.With("region", region), region: region, p: &Platform{Region: region, ClusterName: Name}}
	steps := []struct {
		what string
		do   func(context.Context) error
	}{
		{"VPC", e.vpc},
		{"subnets", e.subnets},
		{"load balancer security group", e.securityGroup},
		{"load balancer", e.loadBalancer},
		{"listener", e.listener},
		{"ECS cluster", e.cluster},
		{"SSM parameters", e.parameters},
	}
	for _, s := range steps {
		if err := s.do(ctx); err != nil {
			return e.p, fmt.Errorf("demo platform in %s: %s: %w", region, s.what, err)
		}
	}
	return e.p, nil
}

func (e *ensurer) note(kind, id string, st Status) {
	e.p.add(kind, id, st)
	e.log.Debug("demo platform", "kind", kind, "id", id, "status", string(st))
}

func demoTags() []ec2types.Tag {
	return []ec2types.Tag{{Key: aws.String(TagKey), Value: aws.String(TagValue)}}
}

func tagSpec(rt ec2types.ResourceType, name string) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{
		ResourceType: rt,
		Tags:         append(demoTags(), ec2types.Tag{Key: aws.String("Name"), Value: aws.String(name)}),
	}}
}

func tagFilter() ec2types.Filter {
	return ec2types.Filter{Name: aws.String("tag:" + TagKey), Values: []string{TagValue}}
}

func hasDemoTag(tags []ec2types.Tag) bool {
	return slices.ContainsFunc(tags, func(t ec2types.Tag) bool {
		return aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == TagValue
	})
}

// vpc finds the demo VPC: the one the vpc-id parameter names (when it is
// tagged as the demo's; a VPC without the tag there means a real platform,
// which is refused), else the tagged one; else creates it.
func (e *ensurer) vpc(ctx context.Context) error {
	params, err := e.c.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{ParamVPCID}})
	if err != nil {
		return fmt.Errorf("reading %s: %w", ParamVPCID, err)
	}
	if len(params.Parameters) == 1 {
		id := aws.ToString(params.Parameters[0].Value)
		out, err := e.c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
		switch {
		case apiCode(err) == "InvalidVpcID.NotFound" || (err == nil && len(out.Vpcs) == 0):
			// A stale parameter (its VPC is gone): overwritten below.
		case err != nil && apiCode(err) == "InvalidVpcID.Malformed":
			return &ForeignPlatformError{Region: e.region, VPCID: id}
		case err != nil:
			return fmt.Errorf("describing %s (named by %s): %w", id, ParamVPCID, err)
		case !hasDemoTag(out.Vpcs[0].Tags):
			return &ForeignPlatformError{Region: e.region, VPCID: id}
		default:
			e.p.VPCID = id
			e.note("vpc", id, Found)
			return nil
		}
	}
	out, err := e.c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{tagFilter()}})
	if err != nil {
		return fmt.Errorf("looking for a VPC tagged %s=%s: %w", TagKey, TagValue, err)
	}
	if len(out.Vpcs) > 0 {
		ids := make([]string, 0, len(out.Vpcs))
		for _, v := range out.Vpcs {
			ids = append(ids, aws.ToString(v.VpcId))
		}
		slices.Sort(ids)
		if len(ids) > 1 {
			e.log.Warn("several demo VPCs; using the first", "vpcs", ids)
		}
		e.p.VPCID = ids[0]
		e.note("vpc", ids[0], Found)
		return nil
	}
	created, err := e.c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:         aws.String(VPCCIDR),
		TagSpecifications: tagSpec(ec2types.ResourceTypeVpc, Name),
	})
	if err != nil {
		return fmt.Errorf("creating a VPC %s: %w", VPCCIDR, err)
	}
	e.p.VPCID = aws.ToString(created.Vpc.VpcId)
	e.note("vpc", e.p.VPCID, Created)
	return nil
}

// subnets finds or creates the two private subnets, each in its own zone.
func (e *ensurer) subnets(ctx context.Context) error {
	zones, err := e.c.EC2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("state"), Values: []string{"available"}},
			{Name: aws.String("zone-type"), Values: []string{"availability-zone"}},
		},
	})
	if err != nil {
		return fmt.Errorf("listing availability zones: %w", err)
	}
	var names []string
	for _, z := range zones.AvailabilityZones {
		names = append(names, aws.ToString(z.ZoneName))
	}
	slices.Sort(names)
	existing, err := e.c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{e.p.VPCID}}},
	})
	if err != nil {
		return fmt.Errorf("listing the subnets of %s: %w", e.p.VPCID, err)
	}
	byCIDR := map[string]ec2types.Subnet{}
	for _, s := range existing.Subnets {
		byCIDR[aws.ToString(s.CidrBlock)] = s
	}
	cidrs := []string{SubnetCIDR1, SubnetCIDR2}
	used := map[string]bool{}
	for _, s := range byCIDR {
		if slices.Contains(cidrs, aws.ToString(s.CidrBlock)) {
			used[aws.ToString(s.AvailabilityZone)] = true
		}
	}
	for i, cidr := range cidrs {
		if s, ok := byCIDR[cidr]; ok {
			e.p.SubnetIDs = append(e.p.SubnetIDs, aws.ToString(s.SubnetId))
			e.p.AvailabilityZones = append(e.p.AvailabilityZones, aws.ToString(s.AvailabilityZone))
			e.note("subnet", aws.ToString(s.SubnetId), Found)
			continue
		}
		// The first zone that no demo subnet uses yet.
		zone := ""
		for _, n := range names {
			if !used[n] {
				zone = n
				break
			}
		}
		if zone == "" {
			return fmt.Errorf("%s has fewer than two available zones (%v); a load balancer needs two", e.region, names)
		}
		used[zone] = true
		created, err := e.c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId:             aws.String(e.p.VPCID),
			CidrBlock:         aws.String(cidr),
			AvailabilityZone:  aws.String(zone),
			TagSpecifications: tagSpec(ec2types.ResourceTypeSubnet, fmt.Sprintf("%s-private-%d", Name, i+1)),
		})
		if err != nil {
			return fmt.Errorf("creating subnet %s in %s: %w", cidr, zone, err)
		}
		id := aws.ToString(created.Subnet.SubnetId)
		e.p.SubnetIDs = append(e.p.SubnetIDs, id)
		e.p.AvailabilityZones = append(e.p.AvailabilityZones, zone)
		e.note("subnet", id, Created)
	}
	return nil
}

// securityGroup finds or creates the load balancer's group: HTTP from
// inside the VPC (the load balancer is internal).
func (e *ensurer) securityGroup(ctx context.Context) error {
	name := Name + "-alb"
	out, err := e.c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{e.p.VPCID}},
			{Name: aws.String("group-name"), Values: []string{name}},
		},
	})
	if err != nil {
		return fmt.Errorf("looking for security group %s: %w", name, err)
	}
	if len(out.SecurityGroups) > 0 {
		e.p.SecurityGroupID = aws.ToString(out.SecurityGroups[0].GroupId)
		e.note("security-group", e.p.SecurityGroupID, Found)
		return nil
	}
	created, err := e.c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:         aws.String(name),
		Description:       aws.String("gantry demo platform: internal load balancer"),
		VpcId:             aws.String(e.p.VPCID),
		TagSpecifications: tagSpec(ec2types.ResourceTypeSecurityGroup, name),
	})
	if err != nil {
		return fmt.Errorf("creating security group %s: %w", name, err)
	}
	id := aws.ToString(created.GroupId)
	_, err = e.c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(id),
		IpPermissions: []ec2types.IpPermission{{
			IpProtocol: aws.String("tcp"),
			FromPort:   aws.Int32(80),
			ToPort:     aws.Int32(80),
			IpRanges:   []ec2types.IpRange{{CidrIp: aws.String(VPCCIDR), Description: aws.String("HTTP from inside the VPC")}},
		}},
	})
	if err != nil {
		return fmt.Errorf("allowing HTTP into security group %s: %w", id, err)
	}
	e.p.SecurityGroupID = id
	e.note("security-group", id, Created)
	return nil
}

func (e *ensurer) loadBalancer(ctx context.Context) error {
	out, err := e.c.ELB.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{Name}})
	var notFound *elbtypes.LoadBalancerNotFoundException
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		return fmt.Errorf("looking for load balancer %s: %w", Name, err)
	case len(out.LoadBalancers) > 0:
		lb := out.LoadBalancers[0]
		if vpc := aws.ToString(lb.VpcId); vpc != e.p.VPCID {
			return fmt.Errorf("a load balancer named %s already exists in %s, not in the demo VPC %s; delete it and run again", Name, vpc, e.p.VPCID)
		}
		e.p.LoadBalancerARN = aws.ToString(lb.LoadBalancerArn)
		e.p.LoadBalancerDNSName = aws.ToString(lb.DNSName)
		e.note("load-balancer", e.p.LoadBalancerARN, Found)
		return nil
	}
	created, err := e.c.ELB.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		Name:           aws.String(Name),
		Type:           elbtypes.LoadBalancerTypeEnumApplication,
		Scheme:         elbtypes.LoadBalancerSchemeEnumInternal,
		IpAddressType:  elbtypes.IpAddressTypeIpv4,
		Subnets:        e.p.SubnetIDs,
		SecurityGroups: []string{e.p.SecurityGroupID},
		Tags:           []elbtypes.Tag{{Key: aws.String(TagKey), Value: aws.String(TagValue)}},
	})
	if err != nil {
		return fmt.Errorf("creating load balancer %s: %w", Name, err)
	}
	if len(created.LoadBalancers) == 0 {
		return fmt.Errorf("creating load balancer %s: the response names no load balancer", Name)
	}
	lb := created.LoadBalancers[0]
	e.p.LoadBalancerARN = aws.ToString(lb.LoadBalancerArn)
	e.p.LoadBalancerDNSName = aws.ToString(lb.DNSName)
	e.note("load-balancer", e.p.LoadBalancerARN, Created)
	return nil
}

// listener finds or creates HTTP:80, answering 404 for any request no
// service's listener rule claims.
func (e *ensurer) listener(ctx context.Context) error {
	out, err := e.c.ELB.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(e.p.LoadBalancerARN)})
	if err != nil {
		return fmt.Errorf("listing the listeners of %s: %w", e.p.LoadBalancerARN, err)
	}
	for _, l := range out.Listeners {
		if aws.ToInt32(l.Port) == 80 {
			e.p.ListenerARN = aws.ToString(l.ListenerArn)
			e.note("listener", e.p.ListenerARN, Found)
			return nil
		}
	}
	created, err := e.c.ELB.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(e.p.LoadBalancerARN),
		Protocol:        elbtypes.ProtocolEnumHttp,
		Port:            aws.Int32(80),
		DefaultActions: []elbtypes.Action{{
			Type: elbtypes.ActionTypeEnumFixedResponse,
			FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
				StatusCode:  aws.String("404"),
				ContentType: aws.String("text/plain"),
				MessageBody: aws.String(NotFoundBody),
			},
		}},
		Tags: []elbtypes.Tag{{Key: aws.String(TagKey), Value: aws.String(TagValue)}},
	})
	if err != nil {
		return fmt.Errorf("creating the HTTP:80 listener: %w", err)
	}
	if len(created.Listeners) == 0 {
		return errors.New("creating the HTTP:80 listener: the response names no listener")
	}
	e.p.ListenerARN = aws.ToString(created.Listeners[0].ListenerArn)
	e.note("listener", e.p.ListenerARN, Created)
	return nil
}

func (e *ensurer) cluster(ctx context.Context) error {
	out, err := e.c.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{Name}})
	if err != nil {
		return fmt.Errorf("looking for cluster %s: %w", Name, err)
	}
	for _, c := range out.Clusters {
		if aws.ToString(c.Status) == "ACTIVE" {
			e.p.ClusterARN = aws.ToString(c.ClusterArn)
			e.note("ecs-cluster", Name, Found)
			return nil
		}
	}
	created, err := e.c.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{
		ClusterName: aws.String(Name),
		Tags:        []ecstypes.Tag{{Key: aws.String(TagKey), Value: aws.String(TagValue)}},
	})
	if err != nil {
		return fmt.Errorf("creating cluster %s: %w", Name, err)
	}
	e.p.ClusterARN = aws.ToString(created.Cluster.ClusterArn)
	e.note("ecs-cluster", Name, Created)
	return nil
}

// parameters publishes the platform, writing only missing or different
// values (so a rerun makes no new parameter version).
func (e *ensurer) parameters(ctx context.Context) error {
	want := e.p.Parameters()
	names := []string{ParamVPCID, ParamPrivateSubnets, ParamECSCluster, ParamALBListenerARN, ParamALBSecurityGroup}
	out, err := e.c.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: names})
	if err != nil {
		return fmt.Errorf("reading %s*: %w", ParameterPrefix, err)
	}
	have := map[string]ssmtypes.Parameter{}
	for _, p := range out.Parameters {
		have[aws.ToString(p.Name)] = p
	}
	for _, name := range names {
		typ := ssmtypes.ParameterTypeString
		if name == ParamPrivateSubnets {
			typ = ssmtypes.ParameterTypeStringList
		}
		cur, ok := have[name]
		if ok && aws.ToString(cur.Value) == want[name] && cur.Type == typ {
			e.note("ssm-parameter", name, Found)
			continue
		}
		_, err := e.c.SSM.PutParameter(ctx, &ssm.PutParameterInput{
			Name:        aws.String(name),
			Value:       aws.String(want[name]),
			Type:        typ,
			Overwrite:   aws.Bool(ok),
			Description: aws.String("gantry demo platform (gantry bootstrap --demo-platform)"),
		})
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		st := Created
		if ok {
			st = Updated
		}
		e.note("ssm-parameter", name, st)
	}
	return nil
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
