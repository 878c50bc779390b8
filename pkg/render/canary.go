package render

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/cloudwatch"
	"github.com/awslabs/goformation/v7/cloudformation/ecs"
	"github.com/awslabs/goformation/v7/cloudformation/elasticloadbalancingv2"
	"github.com/awslabs/goformation/v7/cloudformation/tags"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Parameters of an app stack with a canary. gantry deploy passes them all:
// during the canary's steps the stable service keeps Version and the canary
// runs CanaryVersion with CanaryWeight percent of the traffic; rendered (and
// after a promotion) both versions are the deployed one and the canary has
// no traffic and no tasks.
const (
	ParamVersion       = paramVersion
	ParamCanaryVersion = "CanaryVersion"
	ParamCanaryWeight  = "CanaryWeight"
	ParamStableWeight  = "StableWeight"
	ParamCanaryTasks   = "CanaryTasks"
)

// Logical IDs of the canary's resources.
const (
	idCanaryTaskDef     = "CanaryTaskDefinition"
	idCanaryService     = "CanaryService"
	idCanaryTargetGroup = "CanaryTargetGroup"
)

// Outputs of an app stack with a canary: what an abort needs to move the
// traffic back and stop the canary's tasks without waiting for
// CloudFormation.
const (
	OutputListenerRule      = "ListenerRuleArn"
	OutputStableTargetGroup = "StableTargetGroupArn"
	OutputCanaryTargetGroup = "CanaryTargetGroupArn"
	OutputCanaryService     = "CanaryServiceArn"
)

// Alarm kinds of a canary (naming.Alarm names them <service>-<stage>-<kind>).
const (
	AlarmCanary5xx     = "canary-5xx"
	AlarmCanaryMargin  = "canary-5xx-margin"
	AlarmCanaryLatency = "canary-latency"
)

// CanaryAlarmNames are the alarms a stage's canary steps watch beside the
// service's own: the canary's 5xx rate, and the compare alarms it asks for.
func CanaryAlarmNames(service, stage string, c *descriptor.Canary) []string {
	if c == nil {
		return nil
	}
	out := []string{naming.Alarm(service, stage, AlarmCanary5xx)}
	if c.Compare != nil && c.Compare.ErrorRateMargin != nil {
		out = append(out, naming.Alarm(service, stage, AlarmCanaryMargin))
	}
	if c.Compare != nil && c.Compare.LatencyFactor != nil {
		out = append(out, naming.Alarm(service, stage, AlarmCanaryLatency))
	}
	return out
}

// CanaryTasks is how many tasks the canary runs at weight percent of a
// service that runs min tasks: its share of min, rounded up, at least one
// while it has traffic and none without.
func CanaryTasks(min, weight int) int {
	if weight <= 0 {
		return 0
	}
	return max(1, (min*weight+99)/100)
}

// CanaryParameters are an app stack's canary parameters: stable runs
// stable, the canary runs canary with weight percent of the traffic.
func CanaryParameters(spec *descriptor.Spec, stable, canary string, weight int) map[string]string {
	return map[string]string{
		ParamVersion:       stable,
		ParamCanaryVersion: canary,
		ParamCanaryWeight:  strconv.Itoa(weight),
		ParamStableWeight:  strconv.Itoa(100 - weight),
		ParamCanaryTasks:   strconv.Itoa(CanaryTasks(spec.Scaling.Min, weight)),
	}
}

// canaryOn reports whether this stage's app stack carries a canary.
func (c *ctx) canaryOn() bool { return c.d.CanaryFor(c.stageName()) != nil }

// versionParam is the parameter of the version being rendered: the
// canary's parts run CanaryVersion.
func (c *ctx) versionParam() string {
	if c.canaryParts {
		return ParamCanaryVersion
	}
	return paramVersion
}

// canaryParams declares the canary's parameters.
func (c *ctx) canaryParams(b *stackBuilder) {
	b.param(ParamCanaryVersion, imageTagParam("Image tag the canary service runs"))
	weight := func(desc, def string) cloudformation.Parameter {
		return cloudformation.Parameter{Type: "Number", Description: ptr(desc), Default: def, MinValue: ptr(0.0), MaxValue: ptr(100.0)}
	}
	b.param(ParamCanaryWeight, weight("Percent of the service's traffic the listener rule sends to the canary", "0"))
	b.param(ParamStableWeight, weight("Percent of the service's traffic the listener rule sends to the stable service (100 - CanaryWeight)", "100"))
	b.param(ParamCanaryTasks, cloudformation.Parameter{
		Type: "Number", Description: ptr("Tasks the canary service runs: none without traffic"),
		Default: "0", MinValue: ptr(0.0), MaxValue: ptr(float64(c.spec.Scaling.Max)),
	})
}

// canary adds the canary beside the stable service: its task definition
// (the same containers on CanaryVersion), its target group, its service,
// the listener rule's weighted forward action, its alarms and the outputs
// an abort reads.
func (c *ctx) canary(b *stackBuilder) error {
	cn := c.d.CanaryFor(c.stageName())
	if !c.web() {
		return fmt.Errorf("rollout.canary needs compute.port: a worker gets no load balancer traffic to split")
	}
	if err := checkCompare(cn.Compare); err != nil {
		return err
	}
	f := b.fns
	c.canaryParts = true
	defer func() { c.canaryParts = false }()
	tg := c.tags(f, true)

	stableTD, ok1 := b.tpl.Resources[idTaskDef].(*ecs.TaskDefinition)
	stableSvc, ok2 := b.tpl.Resources[idService].(*ecs.Service)
	stableTG, ok3 := b.tpl.Resources[idTargetGroup].(*elasticloadbalancingv2.TargetGroup)
	rule, ok4 := b.tpl.Resources[idListenerRule].(*listenerRule)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return fmt.Errorf("rendering the canary: the stable service's parts are missing")
	}
	container, _, err := c.container(f)
	if err != nil {
		return err
	}
	td := *stableTD
	td.Family = ptr(*stableTD.Family + "-canary")
	td.ContainerDefinitions = slices.Clone(stableTD.ContainerDefinitions)
	for i := range td.ContainerDefinitions {
		if td.ContainerDefinitions[i].Name == container.Name {
			td.ContainerDefinitions[i] = container
		}
	}
	td.Tags = tg
	b.resource(idCanaryTaskDef, &td)

	ctg := *stableTG
	ctg.Name = nil // CloudFormation names it: no second name to fit in 32 characters
	ctg.Tags = tg
	b.resource(idCanaryTargetGroup, &ctg)

	svc := *stableSvc
	svc.TaskDefinition = ptr(f.ref(idCanaryTaskDef))
	svc.DesiredCount = nil
	svc.LoadBalancers = slices.Clone(stableSvc.LoadBalancers)
	svc.LoadBalancers[0].TargetGroupArn = ptr(f.ref(idCanaryTargetGroup))
	svc.Tags = tg
	b.resource(idCanaryService, &patched{Resource: &svc, props: map[string]any{"DesiredCount": f.ref(ParamCanaryTasks)}})

	rule.Actions = []elasticloadbalancingv2.ListenerRule_Action{{
		Type: "forward",
		ForwardConfig: &elasticloadbalancingv2.ListenerRule_ForwardConfig{TargetGroups: []elasticloadbalancingv2.ListenerRule_TargetGroupTuple{
			{TargetGroupArn: ptr(f.ref(idTargetGroup))},
			{TargetGroupArn: ptr(f.ref(idCanaryTargetGroup))},
		}},
	}}
	rule.weights = []string{f.ref(ParamStableWeight), f.ref(ParamCanaryWeight)}

	c.canaryAlarms(b, tg, cn)
	b.output(OutputListenerRule, cloudformation.Output{Value: f.ref(idListenerRule), Description: ptr("The service's listener rule, whose weights an abort sets")})
	b.output(OutputStableTargetGroup, cloudformation.Output{Value: f.ref(idTargetGroup), Description: ptr("Target group of the stable service")})
	b.output(OutputCanaryTargetGroup, cloudformation.Output{Value: f.ref(idCanaryTargetGroup), Description: ptr("Target group of the canary service")})
	b.output(OutputCanaryService, cloudformation.Output{Value: f.ref(idCanaryService), Description: ptr("The canary ECS service, which an abort scales to zero")})
	clusterOutput(b)
	return nil
}

// checkCompare refuses compare values lint reports (GN313).
func checkCompare(cmp *descriptor.Compare) error {
	if cmp == nil {
		return nil
	}
	if m := cmp.ErrorRateMargin; m != nil && (*m <= 0 || *m >= descriptor.MaxErrorRateMargin) {
		return fmt.Errorf("rollout.canary.compare.errorRateMargin %g is out of range: above 0 and below 100", *m)
	}
	if l := cmp.LatencyFactor; l != nil && (*l <= descriptor.MinLatencyFactor || *l > descriptor.MaxLatencyFactor) {
		return fmt.Errorf("rollout.canary.compare.latencyFactor %g is out of range: above 1 and at most 100", *l)
	}
	return nil
}

// canaryAlarms adds the canary's own 5xx alarm and the compare alarms.
func (c *ctx) canaryAlarms(b *stackBuilder, tg []tags.Tag, cn *descriptor.Canary) {
	f := b.fns
	svc, stage := c.service(), c.stageName()
	parts := f.split("/", f.ref(paramListener))
	lb := f.join("/", f.selectFn(1, parts), f.selectFn(2, parts), f.selectFn(3, parts))
	stableDim := f.getAtt(idTargetGroup, "TargetGroupFullName")
	canaryDim := f.getAtt(idCanaryTargetGroup, "TargetGroupFullName")
	metric := func(id, name, stat, tgDim string) cloudwatch.Alarm_MetricDataQuery {
		return cloudwatch.Alarm_MetricDataQuery{
			Id: id, ReturnData: ptr(false),
			MetricStat: &cloudwatch.Alarm_MetricStat{
				Metric: &cloudwatch.Alarm_Metric{
					Namespace: ptr("AWS/ApplicationELB"), MetricName: ptr(name),
					Dimensions: []cloudwatch.Alarm_Dimension{{Name: "LoadBalancer", Value: lb}, {Name: "TargetGroup", Value: tgDim}},
				},
				Period: 60, Stat: stat,
			},
		}
	}
	alarm := func(kind, desc string, threshold float64, metrics ...cloudwatch.Alarm_MetricDataQuery) *cloudwatch.Alarm {
		return &cloudwatch.Alarm{
			AlarmName: ptr(naming.Alarm(svc, stage, kind)), AlarmDescription: ptr(desc),
			EvaluationPeriods: 3, DatapointsToAlarm: ptr(2), TreatMissingData: ptr("notBreaching"),
			ComparisonOperator: "GreaterThanThreshold", Threshold: ptr(threshold), Metrics: metrics, Tags: tg,
		}
	}
	b.resource("CanaryErrorRateAlarm", alarm(AlarmCanary5xx,
		fmt.Sprintf("%s %s canary: more than 5%% of its requests answered 5xx in 2 of 3 minutes", svc, stage), 5,
		metric("errors", "HTTPCode_Target_5XX_Count", "Sum", canaryDim),
		metric("requests", "RequestCount", "Sum", canaryDim),
		mathQuery("rate", "100 * FILL(errors, 0) / requests", "canary 5xx rate (%)"),
	))
	if cn.Compare != nil && cn.Compare.ErrorRateMargin != nil {
		m := *cn.Compare.ErrorRateMargin
		b.resource("CanaryErrorMarginAlarm", alarm(AlarmCanaryMargin,
			fmt.Sprintf("%s %s canary: its 5xx rate more than %g percentage points above the stable version's in 2 of 3 minutes", svc, stage, m), m,
			metric("canaryErrors", "HTTPCode_Target_5XX_Count", "Sum", canaryDim),
			metric("canaryRequests", "RequestCount", "Sum", canaryDim),
			metric("stableErrors", "HTTPCode_Target_5XX_Count", "Sum", stableDim),
			metric("stableRequests", "RequestCount", "Sum", stableDim),
			mathQuery("margin", "100 * FILL(canaryErrors, 0) / canaryRequests - 100 * FILL(stableErrors, 0) / stableRequests",
				"canary 5xx rate over stable (percentage points)"),
		))
	}
	if cn.Compare != nil && cn.Compare.LatencyFactor != nil {
		l := *cn.Compare.LatencyFactor
		b.resource("CanaryLatencyAlarm", alarm(AlarmCanaryLatency,
			fmt.Sprintf("%s %s canary: its p99 latency more than %g times the stable version's in 2 of 3 minutes", svc, stage, l), l,
			metric("canaryP99", "TargetResponseTime", "p99", canaryDim),
			metric("stableP99", "TargetResponseTime", "p99", stableDim),
			mathQuery("factor", "canaryP99 / stableP99", "canary p99 over stable p99"),
		))
	}
}

// mathQuery is an alarm's metric math expression, the value it alarms on.
func mathQuery(id, expression, label string) cloudwatch.Alarm_MetricDataQuery {
	return cloudwatch.Alarm_MetricDataQuery{Id: id, Expression: ptr(expression), Label: ptr(label), ReturnData: ptr(true)}
}

// imageTagParam is a String parameter holding an image tag.
func imageTagParam(description string) cloudformation.Parameter {
	return cloudformation.Parameter{
		Type:                  "String",
		Description:           ptr(description),
		AllowedPattern:        ptr(versionRe.String()),
		ConstraintDescription: ptr("a container image tag"),
	}
}

// patched is a resource with properties goformation types wrongly for
// gantry: a Ref to a Number parameter where goformation wants an int.
type patched struct {
	cloudformation.Resource
	props map[string]any
}

func (p *patched) AWSCloudFormationType() string { return p.Resource.AWSCloudFormationType() }

func (p patched) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal(p.Resource)
	if err != nil {
		return nil, err
	}
	var res map[string]any
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("re-reading %s: %w", p.AWSCloudFormationType(), err)
	}
	props, ok := res["Properties"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s has no properties", p.AWSCloudFormationType())
	}
	for k, v := range p.props {
		props[k] = v
	}
	return json.Marshal(res)
}

// setWeights writes the forward action's target group weights, which
// goformation types int and gantry takes from parameters.
func setWeights(props map[string]any, weights []string) error {
	actions, _ := props["Actions"].([]any)
	if len(actions) != 1 {
		return fmt.Errorf("listener rule: want one action to weigh, have %d", len(actions))
	}
	action, _ := actions[0].(map[string]any)
	fc, _ := action["ForwardConfig"].(map[string]any)
	groups, _ := fc["TargetGroups"].([]any)
	if len(groups) != len(weights) {
		return fmt.Errorf("listener rule: %d target groups for %d weights", len(groups), len(weights))
	}
	for i, g := range groups {
		m, ok := g.(map[string]any)
		if !ok {
			return fmt.Errorf("listener rule: target group %d is not an object", i)
		}
		m["Weight"] = weights[i]
	}
	return nil
}
