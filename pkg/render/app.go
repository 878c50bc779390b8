package render

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/applicationautoscaling"
	"github.com/awslabs/goformation/v7/cloudformation/cloudwatch"
	"github.com/awslabs/goformation/v7/cloudformation/ec2"
	"github.com/awslabs/goformation/v7/cloudformation/ecs"
	"github.com/awslabs/goformation/v7/cloudformation/elasticloadbalancingv2"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/logs"
	"github.com/awslabs/goformation/v7/cloudformation/tags"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/kinds"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Fixed logical IDs of the app stack.
const (
	idLogGroup       = "LogGroup"
	idExecutionRole  = "ExecutionRole"
	idTaskRole       = "TaskRole"
	idTaskDef        = "TaskDefinition"
	idServiceSG      = "ServiceSecurityGroup"
	idService        = "Service"
	idTargetGroup    = "TargetGroup"
	idListenerRule   = "ListenerRule"
	idScalableTarget = "ScalableTarget"
	idScalingPolicy  = "CpuScalingPolicy"
	idBacklogPolicy  = "BacklogScalingPolicy"
)

// alarmID is the logical ID of an alarm of naming's kind.
func alarmID(kind string) string {
	switch kind {
	case naming.Alarm5xx:
		return "ErrorRateAlarm"
	case naming.AlarmUnhealthy:
		return "UnhealthyHostsAlarm"
	}
	return "CpuAlarm"
}

// LogRetentionDays is how long the service's container logs are kept.
const LogRetentionDays = 30

// Listener rule priorities a rule may take.
const (
	MinRulePriority = 1
	MaxRulePriority = 50000
)

// RulePriority is the listener rule priority a service gets by default in a
// stage: a hash of service and stage, so services sharing a listener rarely
// collide and the value never changes between renders. Deploy may pass
// another through the ListenerRulePriority parameter.
func RulePriority(service, stage string) int {
	h := fnv.New32a()
	h.Write([]byte(service + "/" + stage))
	return int(h.Sum32()%MaxRulePriority) + MinRulePriority
}

func (c *ctx) appStack() (Stack, error) {
	name := naming.Stack(c.service(), c.stageName(), naming.App)
	b := newStackBuilder(fmt.Sprintf("gantry app stack of %s in %s: the service's containers, their roles, routing, scaling and alarms", c.service(), c.stageName()))
	f := b.fns
	tg := c.tags(f, true)

	c.appParams(b)
	c.logGroup(b, tg)
	container, arns, err := c.container(f)
	if err != nil {
		return Stack{}, err
	}
	sidecars, err := c.sidecars(f, &container, &arns)
	if err != nil {
		return Stack{}, err
	}
	c.roles(b, tg, arns.policy(f))
	c.taskDefinition(b, tg, append([]ecs.TaskDefinition_ContainerDefinition{container}, sidecars...))
	c.serviceSecurityGroup(b, tg)
	if err := c.jobs(b, tg, container); err != nil {
		return Stack{}, err
	}
	c.ecsService(b, tg)
	c.scaling(b)
	c.alarms(b, tg)
	if c.canaryOn() {
		if err := c.canary(b); err != nil {
			return Stack{}, err
		}
	}

	b.output("ServiceName", cloudformation.Output{Value: f.getAtt(idService, "Name"), Description: ptr("ECS service name")})
	b.output("LogGroupName", cloudformation.Output{Value: f.ref(idLogGroup), Description: ptr("Log group of the service's containers")})
	params := map[string]string{paramVersion: c.t.Version}
	if c.canaryOn() {
		params = CanaryParameters(c.spec, c.t.Version, c.t.Version, 0)
	}
	return b.stack(name, naming.App, params)
}

// appParams declares the version and the platform parameters the app stack
// reads; a web service also reads the listener's.
func (c *ctx) appParams(b *stackBuilder) {
	b.param(paramVersion, versionParam())
	b.param(paramVpc, platformParam(paramVpc))
	b.param(paramSubnets, platformParam(paramSubnets))
	b.param(paramCluster, platformParam(paramCluster))
	if c.web() {
		b.param(paramListener, platformParam(paramListener))
		b.param(paramAlbSG, platformParam(paramAlbSG))
		b.param(paramRulePriority, cloudformation.Parameter{
			Type:        "Number",
			Description: ptr("Priority of the service's rule on the platform listener; unique per listener"),
			Default:     strconv.Itoa(RulePriority(c.service(), c.stageName())),
			MinValue:    ptr(float64(MinRulePriority)),
			MaxValue:    ptr(float64(MaxRulePriority)),
		})
	}
	if c.canaryOn() {
		c.canaryParams(b)
	}
}

// logGroup adds the containers' log group and the key that encrypts it.
func (c *ctx) logGroup(b *stackBuilder, tg []tags.Tag) {
	c.logKey(b)
	b.resource(idLogGroup, &logs.LogGroup{
		LogGroupName:    ptr(naming.LogGroup(c.service(), c.stageName())),
		RetentionInDays: ptr(LogRetentionDays),
		KmsKeyId:        ptr(b.fns.getAtt(idLogKey, "Arn")),
		Tags:            tg,
	})
}

// roles adds the execution role (ECS pulls, logs and reads secrets with it)
// and the task role (the containers' own identity).
func (c *ctx) roles(b *stackBuilder, tg []tags.Tag, execPolicy map[string]any) {
	f := b.fns
	execRole := &iam.Role{
		Description:              ptr(fmt.Sprintf("Lets ECS pull the image, write logs and read the secrets of %s %s", c.service(), c.stageName())),
		AssumeRolePolicyDocument: ecsTasksTrust(f),
		ManagedPolicyArns:        []string{f.join("", "arn:", f.partition(), ":iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")},
		Tags:                     tg,
	}
	if execPolicy != nil {
		execRole.Policies = []iam.Role_Policy{{PolicyName: "read-service-secrets", PolicyDocument: execPolicy}}
	}
	b.resource(idExecutionRole, execRole)
	taskRole := &iam.Role{
		Description:              ptr(fmt.Sprintf("Identity of the %s %s containers: its own buckets and nothing else", c.service(), c.stageName())),
		AssumeRolePolicyDocument: ecsTasksTrust(f),
		Tags:                     tg,
	}
	taskRole.Policies = c.resourcePolicies(f)
	b.resource(idTaskRole, taskRole)
}

// taskDefinition adds the Fargate task of the app container (and its
// sidecars), run by the two roles.
func (c *ctx) taskDefinition(b *stackBuilder, tg []tags.Tag, containers []ecs.TaskDefinition_ContainerDefinition) {
	f := b.fns
	b.resource(idTaskDef, &ecs.TaskDefinition{
		Family:                  ptr(c.service() + "-" + c.stageName()),
		RequiresCompatibilities: []string{"FARGATE"},
		NetworkMode:             ptr("awsvpc"),
		Cpu:                     ptr(strconv.Itoa(c.spec.Compute.CPU)),
		Memory:                  ptr(strconv.Itoa(c.spec.Compute.Memory)),
		ExecutionRoleArn:        ptr(f.getAtt(idExecutionRole, "Arn")),
		TaskRoleArn:             ptr(f.getAtt(idTaskRole, "Arn")),
		ContainerDefinitions:    containers,
		Tags:                    tg,
	})
}

// serviceSecurityGroup adds the tasks' security group; a web service's lets
// the platform load balancer in on its port.
func (c *ctx) serviceSecurityGroup(b *stackBuilder, tg []tags.Tag) {
	f := b.fns
	sg := &ec2.SecurityGroup{
		GroupDescription: fmt.Sprintf("Tasks of %s %s", c.service(), c.stageName()),
		VpcId:            ptr(f.ref(paramVpc)),
		Tags:             tg,
	}
	if c.web() {
		port := *c.spec.Compute.Port
		sg.SecurityGroupIngress = []ec2.SecurityGroup_Ingress{{
			Description:           ptr("From the platform load balancer"),
			IpProtocol:            "tcp",
			FromPort:              ptr(port),
			ToPort:                ptr(port),
			SourceSecurityGroupId: ptr(f.ref(paramAlbSG)),
		}}
	}
	b.resource(idServiceSG, sg)
}

// ecsService adds the ECS service; a web service's also gets its routing
// and sits behind the target group.
func (c *ctx) ecsService(b *stackBuilder, tg []tags.Tag) {
	f := b.fns
	groups := c.taskSecurityGroups(f, f.getAtt(idServiceSG, "GroupId"))
	svc := &ecs.Service{
		Cluster:        ptr(f.ref(paramCluster)),
		LaunchType:     ptr("FARGATE"),
		TaskDefinition: ptr(f.ref(idTaskDef)),
		DesiredCount:   ptr(c.spec.Scaling.Min),
		DeploymentConfiguration: &ecs.Service_DeploymentConfiguration{
			DeploymentCircuitBreaker: &ecs.Service_DeploymentCircuitBreaker{Enable: true, Rollback: true},
			MaximumPercent:           ptr(200),
			MinimumHealthyPercent:    ptr(100),
		},
		NetworkConfiguration: &ecs.Service_NetworkConfiguration{AwsvpcConfiguration: &ecs.Service_AwsVpcConfiguration{
			AssignPublicIp: ptr("DISABLED"),
			Subnets:        []string{f.ref(paramSubnets)},
			SecurityGroups: groups,
		}},
		EnableECSManagedTags: ptr(true),
		PropagateTags:        ptr("SERVICE"),
		Tags:                 tg,
	}
	if c.web() {
		c.routing(b, tg)
		svc.LoadBalancers = []ecs.Service_LoadBalancer{{
			ContainerName:  ptr(c.service()),
			ContainerPort:  c.spec.Compute.Port,
			TargetGroupArn: ptr(f.ref(idTargetGroup)),
		}}
		svc.HealthCheckGracePeriodSeconds = ptr(60)
		// The target group must be on the listener before ECS registers
		// tasks in it.
		svc.AWSCloudFormationDependsOn = []string{idListenerRule}
	}
	b.resource(idService, svc)
}

// scaling adds the service's scalable target and its tracking policy: of
// average CPU, or of a queue's backlog per running task.
func (c *ctx) scaling(b *stackBuilder) {
	f := b.fns
	b.resource(idScalableTarget, &applicationautoscaling.ScalableTarget{
		ServiceNamespace:  "ecs",
		ScalableDimension: "ecs:service:DesiredCount",
		ResourceId:        f.join("/", "service", f.ref(paramCluster), f.getAtt(idService, "Name")),
		MinCapacity:       c.spec.Scaling.Min,
		MaxCapacity:       c.spec.Scaling.Max,
	})
	if q := c.spec.Scaling.Queue; q != nil {
		c.backlogScaling(b, q)
		return
	}
	b.resource(idScalingPolicy, &applicationautoscaling.ScalingPolicy{
		PolicyName:      naming.Alarm(c.service(), c.stageName(), "cpu-target"),
		PolicyType:      "TargetTrackingScaling",
		ScalingTargetId: ptr(f.ref(idScalableTarget)),
		TargetTrackingScalingPolicyConfiguration: &applicationautoscaling.ScalingPolicy_TargetTrackingScalingPolicyConfiguration{
			PredefinedMetricSpecification: &applicationautoscaling.ScalingPolicy_PredefinedMetricSpecification{
				PredefinedMetricType: "ECSServiceAverageCPUUtilization",
			},
			TargetValue:      float64(c.spec.Scaling.CPUTarget),
			ScaleInCooldown:  ptr(120),
			ScaleOutCooldown: ptr(60),
		},
	})
}

// backlogScaling tracks a queue's visible messages over the service's
// running tasks (metric math, as AWS Copilot's worker services scale), so
// that each task carries about MessagesPerTask. RunningTaskCount comes from
// Container Insights, which the platform's cluster turns on.
func (c *ctx) backlogScaling(b *stackBuilder, q *descriptor.QueueScaling) {
	f := b.fns
	r := c.spec.Resources[q.Resource]
	queue, ok := r.Settings.(kind.Queue)
	if r == nil || !ok {
		b.fail(fmt.Errorf("scaling.queue.resource %q is not an sqs resource of the service", q.Resource))
		return
	}
	metric := func(id, namespace, name string, dims ...string) applicationautoscaling.ScalingPolicy_TargetTrackingMetricDataQuery {
		m := &applicationautoscaling.ScalingPolicy_TargetTrackingMetric{Namespace: ptr(namespace), MetricName: ptr(name)}
		for i := 0; i+1 < len(dims); i += 2 {
			m.Dimensions = append(m.Dimensions, applicationautoscaling.ScalingPolicy_TargetTrackingMetricDimension{Name: ptr(dims[i]), Value: ptr(dims[i+1])})
		}
		return applicationautoscaling.ScalingPolicy_TargetTrackingMetricDataQuery{
			Id: ptr(id), ReturnData: ptr(false),
			MetricStat: &applicationautoscaling.ScalingPolicy_TargetTrackingMetricStat{Metric: m, Stat: ptr("Average")},
		}
	}
	queueName := f.importValue(c.exportName(OutputName(q.Resource, r, queue.BacklogOutput())))
	b.resource(idBacklogPolicy, &applicationautoscaling.ScalingPolicy{
		PolicyName:      naming.Alarm(c.service(), c.stageName(), "backlog-target"),
		PolicyType:      "TargetTrackingScaling",
		ScalingTargetId: ptr(f.ref(idScalableTarget)),
		TargetTrackingScalingPolicyConfiguration: &applicationautoscaling.ScalingPolicy_TargetTrackingScalingPolicyConfiguration{
			CustomizedMetricSpecification: &applicationautoscaling.ScalingPolicy_CustomizedMetricSpecification{
				Metrics: []applicationautoscaling.ScalingPolicy_TargetTrackingMetricDataQuery{
					metric("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queueName),
					metric("tasks", "ECS/ContainerInsights", "RunningTaskCount", "ClusterName", f.ref(paramCluster), "ServiceName", f.getAtt(idService, "Name")),
					{Id: ptr("backlog"), Expression: ptr("visible / tasks"), Label: ptr("Visible messages per running task"), ReturnData: ptr(true)},
				},
			},
			TargetValue:      float64(q.MessagesPerTask),
			ScaleInCooldown:  ptr(120),
			ScaleOutCooldown: ptr(60),
		},
	})
}

// container builds the task's app container and what the execution role
// must read for its secrets.
func (c *ctx) container(f fns) (ecs.TaskDefinition_ContainerDefinition, secretARNs, error) {
	var zero ecs.TaskDefinition_ContainerDefinition
	spec := c.spec
	if i := strings.LastIndexByte(spec.Image, '/'); strings.ContainsAny(spec.Image[i+1:], ":@") {
		return zero, secretARNs{}, fmt.Errorf("image %q carries a tag or digest; give the repository only, the tag is the deployed version", spec.Image)
	}
	image, err := c.value(f, spec.Image, "image")
	if err != nil {
		return zero, secretARNs{}, err
	}
	ct := ecs.TaskDefinition_ContainerDefinition{
		Name:             c.service(),
		Image:            f.join("", image, ":", f.ref(c.versionParam())),
		Essential:        ptr(true),
		LogConfiguration: c.logConfig(f, f.ref(idLogGroup)),
	}
	if spec.Compute.Port != nil {
		ct.PortMappings = []ecs.TaskDefinition_PortMapping{{ContainerPort: spec.Compute.Port, Protocol: ptr("tcp")}}
	}
	for i, arg := range spec.Compute.Command {
		v, err := c.value(f, arg, fmt.Sprintf("compute.command[%d]", i))
		if err != nil {
			return zero, secretARNs{}, err
		}
		ct.Command = append(ct.Command, v)
	}
	var arns secretARNs
	if err := c.envAndSecrets(f, &ct, spec.Env, spec.Secrets, "", &arns); err != nil {
		return zero, arns, err
	}
	return ct, arns, nil
}

// ecsTasksTrust lets ECS tasks of this account assume a role.
func ecsTasksTrust(f fns) map[string]any { return serviceTrust(f, "ecs-tasks.amazonaws.com") }

// serviceTrust lets an AWS service assume a role on behalf of this account
// only.
func serviceTrust(f fns, service string) map[string]any {
	return kind.ServiceTrust(kindFns{f}, service)
}

// resourcePolicies are the task role's policies on the service's own
// resources: one per kind, whose statements of one Sid are merged across
// the kind's resources, in resource order.
func (c *ctx) resourcePolicies(f fns) []iam.Role_Policy {
	type policy struct {
		name  string
		sids  []string
		stmts map[string]*kind.Statement
	}
	var policies []*policy
	byName := map[string]*policy{}
	for _, k := range kinds.All() {
		for _, rn := range c.resources {
			r := c.spec.Resources[rn]
			if r.Kind.Name() != k.Name() {
				continue
			}
			for _, st := range r.Settings.Grants(appView{kindFns{f}, c, rn, r}) {
				p := byName[st.Policy]
				if p == nil {
					p = &policy{name: st.Policy, stmts: map[string]*kind.Statement{}}
					byName[st.Policy] = p
					policies = append(policies, p)
				}
				if have := p.stmts[st.Sid]; have != nil {
					if !st.Once {
						have.Resources = append(have.Resources, st.Resources...)
					}
					continue
				}
				p.sids = append(p.sids, st.Sid)
				p.stmts[st.Sid] = &st
			}
		}
	}
	var out []iam.Role_Policy
	for _, p := range policies {
		var stmts []any
		for _, sid := range p.sids {
			st := p.stmts[sid]
			m := map[string]any{"Sid": st.Sid, "Effect": "Allow", "Action": st.Actions, "Resource": st.Resources}
			if st.Condition != nil {
				m["Condition"] = st.Condition
			}
			stmts = append(stmts, m)
		}
		out = append(out, iam.Role_Policy{PolicyName: p.name, PolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": stmts}})
	}
	return out
}

// appView is one resource as its kind's Grants sees the app stack.
type appView struct {
	kindFns
	c    *ctx
	name string
	r    *descriptor.Resource
}

func (a appView) Import(output string) string {
	return a.f.importValue(a.c.exportName(OutputName(a.name, a.r, output)))
}

func (a appView) Access() string { return a.r.Access }

func (a appView) DataKey() string { return a.f.importValue(a.c.exportName(OutputDataKey)) }

// routing adds the target group and the rule on the platform listener.
func (c *ctx) routing(b *stackBuilder, tg []tags.Tag) {
	f := b.fns
	b.resource(idTargetGroup, &elasticloadbalancingv2.TargetGroup{
		Name:                ptr(naming.TargetGroup(c.service(), c.stageName())),
		TargetType:          ptr("ip"),
		Protocol:            ptr("HTTP"),
		Port:                c.spec.Compute.Port,
		VpcId:               ptr(f.ref(paramVpc)),
		HealthCheckEnabled:  ptr(true),
		HealthCheckProtocol: ptr("HTTP"),
		HealthCheckPath:     ptr(c.spec.Compute.Healthcheck),
		Matcher:             &elasticloadbalancingv2.TargetGroup_Matcher{HttpCode: ptr("200-399")},
		TargetGroupAttributes: []elasticloadbalancingv2.TargetGroup_TargetGroupAttribute{
			{Key: ptr("deregistration_delay.timeout_seconds"), Value: ptr("30")},
		},
		Tags: tg,
	})
	var conds []elasticloadbalancingv2.ListenerRule_RuleCondition
	if r := c.spec.Routing; r.Host != "" {
		conds = append(conds, elasticloadbalancingv2.ListenerRule_RuleCondition{
			Field:            ptr("host-header"),
			HostHeaderConfig: &elasticloadbalancingv2.ListenerRule_HostHeaderConfig{Values: []string{r.Host}},
		})
	}
	if r := c.spec.Routing; r.Path != "" {
		conds = append(conds, elasticloadbalancingv2.ListenerRule_RuleCondition{
			Field:             ptr("path-pattern"),
			PathPatternConfig: &elasticloadbalancingv2.ListenerRule_PathPatternConfig{Values: []string{r.Path}},
		})
	}
	b.resource(idListenerRule, &listenerRule{
		ListenerRule: elasticloadbalancingv2.ListenerRule{
			ListenerArn: ptr(f.ref(paramListener)),
			Actions: []elasticloadbalancingv2.ListenerRule_Action{{
				Type:           "forward",
				TargetGroupArn: ptr(f.ref(idTargetGroup)),
			}},
			Conditions: conds,
		},
		priority: f.ref(paramRulePriority),
	})
}

// alarms adds the CloudWatch alarms the bake watches: 5xx rate, unhealthy
// hosts and CPU for a web service, CPU only for a worker.
func (c *ctx) alarms(b *stackBuilder, tg []tags.Tag) {
	f := b.fns
	svc, stage := c.service(), c.stageName()
	var lb, tgDim string
	if c.web() {
		// A listener ARN is arn:...:listener/app/<name>/<id>/<listener-id>;
		// the LoadBalancer dimension is app/<name>/<id>.
		parts := f.split("/", f.ref(paramListener))
		lb = f.join("/", f.selectFn(1, parts), f.selectFn(2, parts), f.selectFn(3, parts))
		tgDim = f.getAtt(idTargetGroup, "TargetGroupFullName")
	}
	for _, kind := range naming.AlarmKinds(c.web()) {
		a := &cloudwatch.Alarm{
			AlarmName:         ptr(naming.Alarm(svc, stage, kind)),
			EvaluationPeriods: 3,
			DatapointsToAlarm: ptr(3),
			TreatMissingData:  ptr("notBreaching"),
			Tags:              tg,
		}
		switch kind {
		case naming.Alarm5xx:
			a.AlarmDescription = ptr(fmt.Sprintf("%s %s: more than 5%% of requests answered 5xx in 2 of 3 minutes", svc, stage))
			a.DatapointsToAlarm = ptr(2)
			a.ComparisonOperator = "GreaterThanThreshold"
			a.Threshold = ptr(5.0)
			metric := func(id, name string) cloudwatch.Alarm_MetricDataQuery {
				return cloudwatch.Alarm_MetricDataQuery{
					Id:         id,
					ReturnData: ptr(false),
					MetricStat: &cloudwatch.Alarm_MetricStat{
						Metric: &cloudwatch.Alarm_Metric{
							Namespace:  ptr("AWS/ApplicationELB"),
							MetricName: ptr(name),
							Dimensions: []cloudwatch.Alarm_Dimension{{Name: "LoadBalancer", Value: lb}, {Name: "TargetGroup", Value: tgDim}},
						},
						Period: 60,
						Stat:   "Sum",
					},
				}
			}
			a.Metrics = []cloudwatch.Alarm_MetricDataQuery{
				metric("errors", "HTTPCode_Target_5XX_Count"),
				metric("requests", "RequestCount"),
				// No requests gives no datapoint (missing, so not breaching);
				// no 5xx count means none happened.
				{Id: "rate", Expression: ptr("100 * FILL(errors, 0) / requests"), Label: ptr("5xx rate (%)"), ReturnData: ptr(true)},
			}
		case naming.AlarmUnhealthy:
			a.AlarmDescription = ptr(fmt.Sprintf("%s %s: a target stayed unhealthy for 3 minutes", svc, stage))
			a.Namespace = ptr("AWS/ApplicationELB")
			a.MetricName = ptr("UnHealthyHostCount")
			a.Dimensions = []cloudwatch.Alarm_Dimension{{Name: "LoadBalancer", Value: lb}, {Name: "TargetGroup", Value: tgDim}}
			a.Statistic = ptr("Maximum")
			a.Period = ptr(60)
			a.ComparisonOperator = "GreaterThanThreshold"
			a.Threshold = ptr(0.0)
		case naming.AlarmCPU:
			a.AlarmDescription = ptr(fmt.Sprintf("%s %s: average CPU above 90%% for 3 minutes", svc, stage))
			a.Namespace = ptr("AWS/ECS")
			a.MetricName = ptr("CPUUtilization")
			a.Dimensions = []cloudwatch.Alarm_Dimension{{Name: "ClusterName", Value: f.ref(paramCluster)}, {Name: "ServiceName", Value: f.getAtt(idService, "Name")}}
			a.Statistic = ptr("Average")
			a.Period = ptr(60)
			a.ComparisonOperator = "GreaterThanThreshold"
			a.Threshold = ptr(90.0)
		}
		b.resource(alarmID(kind), a)
	}
}

// listenerRule is goformation's ListenerRule with a Priority that may be a
// function: goformation types it int, and gantry's comes from a parameter.
type listenerRule struct {
	elasticloadbalancingv2.ListenerRule
	priority string
	// weights are the forward action's target group weights (a canary's),
	// from parameters.
	weights []string
}

func (r *listenerRule) AWSCloudFormationType() string {
	return r.ListenerRule.AWSCloudFormationType()
}

func (r listenerRule) MarshalJSON() ([]byte, error) {
	data, err := r.ListenerRule.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var res map[string]any
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("re-reading listener rule: %w", err)
	}
	props, ok := res["Properties"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("listener rule has no properties")
	}
	props["Priority"] = r.priority
	if r.weights != nil {
		if err := setWeights(props, r.weights); err != nil {
			return nil, err
		}
	}
	return json.Marshal(res)
}
