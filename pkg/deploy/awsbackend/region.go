package awsbackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/kinds"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// stateful reports whether a CloudFormation type holds data that a
// replacement or deletion would lose: each resource kind says which of its
// types do.
func stateful(typ string) bool {
	return slices.ContainsFunc(kinds.Stateful(), func(s kind.Stateful) bool { return s.Type == typ })
}

// priorityParam is the app stack parameter holding the listener rule's
// priority, which must be unique on the shared platform listener.
const priorityParam = "ListenerRulePriority"

// region is one (stage, region) of a rollout.
type region struct {
	stack   string // the app stack's name
	data    string // the data stack's name
	release string // the release stack's name
	cfn     *cfn.Client
	cw      *cloudwatch.Client
	elb     *elbv2.Client
	ssm     *ssm.Client
	// s3 reaches the artifacts bucket, for templates too large to pass
	// inline; account names it.
	s3      *s3.Client
	account string
	// ecs and logs run and follow the release tasks and gantry run's jobs;
	// a canary's abort scales its service to zero with ecs.
	ecs     *ecs.Client
	logs    *cloudwatchlogs.Client
	history storeHistory
	took    *durations // shared by the rollout's regions
	times   *opTimes   // the state table's operation times, shared too
	stash   *stash     // change sets made ahead, shared by the rollout's regions
	views   *appViews  // the app stacks as last described, shared too
	stage   string
	name    string // the AWS region
}

func (r *region) Describe(ctx context.Context, kind naming.StackKind) (deploy.Current, error) {
	name := r.stack
	if kind == naming.Data {
		name = r.data
	}
	st, err := r.cfn.Describe(ctx, name)
	if err != nil {
		return deploy.Current{}, fmt.Errorf("describing %s: %w", name, err)
	}
	if !st.Exists {
		return deploy.Current{}, nil
	}
	return current(st), nil
}

func (r *region) Current(ctx context.Context) (deploy.Current, error) {
	st := r.views.get(r.viewKey())
	if st == nil {
		var err error
		if st, err = r.cfn.Describe(ctx, r.stack); err != nil {
			return deploy.Current{}, fmt.Errorf("describing %s: %w", r.stack, err)
		}
		r.views.put(r.viewKey(), st)
	}
	if !st.Exists {
		return deploy.Current{}, nil
	}
	return current(st), nil
}

// current is the engine's view of a described stack.
func current(st *cfn.Stack) deploy.Current {
	return deploy.Current{
		Exists: true, Status: st.Status, Version: st.Tags[render.TagVersion], Hash: st.Tags[deploy.TagHash], Updated: st.LastUpdated,
		Parameters: st.Parameters, Tags: st.Tags, Outputs: st.Outputs,
	}
}

// changeSet describes the stack (or reuses the region check's view of it),
// fills in the listener rule priority, and makes the change set.
func (r *region) changeSet(ctx context.Context, a deploy.StackApply, tmpl *template) (*cfn.ChangeSet, *cfn.Stack, map[string]string, error) {
	current, err := r.describe(ctx, a.Name)
	if err != nil {
		return nil, nil, nil, err
	}
	cs, params, err := r.makeChangeSet(ctx, a, tmpl, current, "gantry "+a.Tags[render.TagVersion])
	return cs, current, params, err
}

// describe describes a stack, reusing the region check's view of the app
// stack when it is recent.
func (r *region) describe(ctx context.Context, name string) (*cfn.Stack, error) {
	if name == r.stack {
		if current := r.views.get(r.viewKey()); current != nil {
			return current, nil
		}
	}
	current, err := r.cfn.Describe(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("describing %s: %w", name, err)
	}
	return current, nil
}

func (r *region) viewKey() string { return r.stage + "/" + r.name }

// makeChangeSet is the one place a change set is made, for a deploy, a
// change set made ahead and a plan alike: the parameters a deploy passes,
// with the listener rule priority kept or allocated.
func (r *region) makeChangeSet(ctx context.Context, a deploy.StackApply, tmpl *template, current *cfn.Stack, description string) (*cfn.ChangeSet, map[string]string, error) {
	params := maps.Clone(a.Parameters)
	if params == nil {
		params = map[string]string{}
	}
	if _, ok := tmpl.Parameters[priorityParam]; ok {
		var err error
		if params[priorityParam], err = r.priority(ctx, tmpl, current); err != nil {
			return nil, nil, err
		}
	}
	in := cfn.ChangeSetInput{
		StackName:   a.Name,
		Template:    a.Template,
		Parameters:  params,
		Tags:        a.Tags,
		Description: description,
		Current:     current,
	}
	if len(a.Template) > cfn.MaxTemplateBody {
		var err error
		if in.TemplateURL, err = r.templateURL(ctx, a.Name, a.Template); err != nil {
			return nil, nil, err
		}
	}
	cs, err := r.cfn.CreateChangeSet(ctx, in)
	if err != nil {
		return nil, nil, fmt.Errorf("preparing the change set of %s: %w", a.Name, err)
	}
	return cs, params, nil
}

func (r *region) Apply(ctx context.Context, a deploy.StackApply, obs deploy.StackObserver) (deploy.StackOutcome, error) {
	out := deploy.StackOutcome{Name: a.Name, Kind: a.Kind}
	tmpl, err := parseTemplate(a.Template)
	if err != nil {
		return out, fmt.Errorf("reading the template of %s: %w", a.Name, err)
	}
	var (
		cs      *cfn.ChangeSet
		current *cfn.Stack
		params  map[string]string
	)
	if p := r.prepared(ctx, a); p != nil {
		cs, current, params = p.cs, p.current, p.params
		r.cfn.Logger.InfoContext(ctx, "using the change set made ahead", "stack", a.Name, "changeSet", cs.Name, "empty", cs.Empty)
	} else if cs, current, params, err = r.changeSet(ctx, a, tmpl); err != nil {
		return out, err
	}
	out.Parameters = params
	if a.Name == r.stack {
		r.views.drop(r.viewKey()) // used: the apply changes the stack
	}
	if cs.Empty {
		out.Action, out.Status = rollout.ActionUnchanged, current.Status
		if !maps.Equal(current.Tags, a.Tags) && current.Exists {
			if err := r.cfn.UpdateTags(ctx, a.Name, a.Tags); err != nil {
				return out, fmt.Errorf("updating the tags of %s: %w", a.Name, err)
			}
		}
		return out, r.protect(ctx, a, tmpl)
	}
	out.Action = rollout.ActionUpdate
	if cs.Type == "CREATE" {
		out.Action = rollout.ActionCreate
	}
	out.Changes = len(cs.Changes)
	if lossy := dataLoss(a.Name, cs.Changes); lossy != nil {
		if err := deploy.RefuseDataLoss(a.Name, lossy, a.AllowDataLoss); err != nil {
			if derr := r.cfn.DeleteChangeSet(context.WithoutCancel(ctx), cs); derr != nil {
				err = errors.Join(err, derr)
			}
			out.Status = current.Status
			return out, err
		}
		out.DataLoss = lossy
		// The stack policy would stop the replacement the user allowed;
		// protect() puts it back after the update.
		if current.Exists {
			if err := r.cfn.SetStackPolicy(ctx, a.Name, cfn.AllowAllStackPolicy); err != nil {
				return out, fmt.Errorf("lifting the stack policy of %s for --allow-data-loss: %w", a.Name, err)
			}
		}
	}
	key := durationKey(string(a.Kind), cs.Type)
	res, err := r.cfn.Execute(ctx, cs, func(e cfn.Event) {
		if obs != nil {
			obs.StackEvent(rollout.StackEvent{Time: e.Time, Stack: a.Name, LogicalID: e.LogicalID, Type: e.ResourceType, Status: e.Status, Reason: e.Reason})
		}
	}, r.expectation(ctx, key)...)
	if res != nil {
		out.Status = res.Status
		if !res.Failed {
			r.took.put(key, res.Took)
			r.times.record(ctx, r.history, key, res.Took, r.cfn.Logger)
		}
	}
	if err != nil {
		return out, fmt.Errorf("deploying %s: %w", a.Name, err)
	}
	if res.Failed {
		return out, fmt.Errorf("%s failed and was rolled back (%s): %s", a.Name, res.Status, failureText(res))
	}
	return out, r.protect(ctx, a, tmpl)
}

// expectation is what a wait for an operation of kind key expects: what
// the same kind took in an earlier region of this rollout (the same
// templates), else the stack's own last operation (cfn reads it from the
// events), else the time the state table keeps for the service.
func (r *region) expectation(ctx context.Context, key string) []cfn.ExecuteOption {
	if d := r.took.get(key); d > 0 {
		return []cfn.ExecuteOption{cfn.Expecting(d)}
	}
	if d := r.times.expected(ctx, r.history, key, r.cfn.Logger); d > 0 {
		return []cfn.ExecuteOption{cfn.OrExpecting(d)}
	}
	return nil
}

func failureText(res *cfn.Result) string {
	if len(res.Reasons) == 0 {
		return res.StatusReason
	}
	parts := make([]string, len(res.Reasons))
	for i, f := range res.Reasons {
		parts[i] = f.String()
	}
	return strings.Join(parts, "; ")
}

// protect sets termination protection and the stack policy that denies
// replacing or deleting the stateful resources (data stacks).
func (r *region) protect(ctx context.Context, a deploy.StackApply, tmpl *template) error {
	if !a.Protect {
		return nil
	}
	if err := r.cfn.SetTerminationProtection(ctx, a.Name, true); err != nil {
		return fmt.Errorf("protecting %s from deletion: %w", a.Name, err)
	}
	if err := r.cfn.SetStackPolicy(ctx, a.Name, cfn.StackPolicyDenyingReplacement(tmpl.stateful())); err != nil {
		return fmt.Errorf("setting the stack policy of %s: %w", a.Name, err)
	}
	return nil
}

// lossOf is the engine's view of a change that replaces or deletes a
// stateful resource.
func lossOf(stack string, c cfn.Change) deploy.DataLossChange {
	action := "replace"
	if c.Action == "Remove" {
		action = "delete"
	}
	return deploy.DataLossChange{Stack: stack, LogicalID: c.LogicalID, Type: c.ResourceType, Action: action, Causes: c.Causes}
}

// dataLoss finds the changes that replace or delete stateful resources.
func dataLoss(stack string, changes []cfn.Change) []deploy.DataLossChange {
	var bad []deploy.DataLossChange
	for _, c := range changes {
		if losesData(c) {
			bad = append(bad, lossOf(stack, c))
		}
	}
	return bad
}

// losesData reports whether a change replaces (or may replace) or deletes
// a stateful resource.
func losesData(c cfn.Change) bool {
	return stateful(c.ResourceType) && (c.Action == "Remove" || (c.Action == "Modify" && c.Replaces()))
}

// priority keeps the stack's listener rule priority, or allocates the
// lowest one free on the platform listener at the first deploy.
func (r *region) priority(ctx context.Context, tmpl *template, current *cfn.Stack) (string, error) {
	if p := current.Parameters[priorityParam]; current.Exists && p != "" {
		return p, nil
	}
	path, _ := tmpl.Parameters["AlbListenerArn"].Default.(string)
	if path == "" {
		return "", fmt.Errorf("the app template names no listener parameter")
	}
	got, err := r.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(path)})
	if err != nil {
		return "", fmt.Errorf("reading the platform listener from SSM %s (run gantry bootstrap --demo-platform, or publish it): %w", path, err)
	}
	used := map[int]bool{}
	pages := elbv2.NewDescribeRulesPaginator(r.elb, &elbv2.DescribeRulesInput{ListenerArn: got.Parameter.Value})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("listing the rules of listener %s: %w", aws.ToString(got.Parameter.Value), err)
		}
		for _, rule := range page.Rules {
			if n, err := strconv.Atoi(aws.ToString(rule.Priority)); err == nil {
				used[n] = true
			}
		}
	}
	for n := 1; n <= 50000; n++ {
		if !used[n] {
			return strconv.Itoa(n), nil
		}
	}
	return "", fmt.Errorf("listener %s has no free rule priority", aws.ToString(got.Parameter.Value))
}

func (r *region) AlarmsInAlarm(ctx context.Context, names []string) ([]string, error) {
	states, err := r.alarmStates(ctx, names)
	if err != nil {
		return nil, err
	}
	var firing, missing []string
	for _, n := range names {
		switch st, ok := states[n]; {
		case !ok:
			missing = append(missing, n)
		case st == cwtypes.StateValueAlarm:
			firing = append(firing, n)
		}
	}
	slices.Sort(firing)
	if len(missing) > 0 {
		return firing, &deploy.MissingAlarmsError{Names: missing}
	}
	return firing, nil
}

func (r *region) MissingAlarms(ctx context.Context, names []string) ([]string, error) {
	states, err := r.alarmStates(ctx, names)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range names {
		if _, ok := states[n]; !ok {
			missing = append(missing, n)
		}
	}
	return missing, nil
}

// alarmStates reads the named alarms' states, metric and composite alike
// (without AlarmTypes, DescribeAlarms returns metric alarms only).
func (r *region) alarmStates(ctx context.Context, names []string) (map[string]cwtypes.StateValue, error) {
	states := map[string]cwtypes.StateValue{}
	// DescribeAlarms takes at most 100 names a call.
	for chunk := range slices.Chunk(names, 100) {
		pages := cloudwatch.NewDescribeAlarmsPaginator(r.cw, &cloudwatch.DescribeAlarmsInput{
			AlarmNames: chunk,
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("reading alarms: %w", err)
			}
			for _, a := range page.MetricAlarms {
				states[aws.ToString(a.AlarmName)] = a.StateValue
			}
			for _, a := range page.CompositeAlarms {
				states[aws.ToString(a.AlarmName)] = a.StateValue
			}
		}
	}
	return states, nil
}

func (r *region) SaveDeployment(ctx context.Context, d deploy.Deployment) error {
	return r.history.save(ctx, d)
}

func (r *region) Previous(ctx context.Context, notVersion string) (*deploy.Deployment, error) {
	return r.history.previous(ctx, notVersion)
}

func (r *region) MarkBaked(ctx context.Context, d deploy.Deployment, at time.Time) error {
	h := r.history
	return h.store.MarkBaked(ctx, h.service, h.stage, h.region, d.Version, d.DeployedAt, at)
}

func (r *region) Deployment(ctx context.Context, version string) (*deploy.Deployment, error) {
	sd, err := r.history.store.GetDeployment(ctx, r.history.service, r.history.stage, r.history.region, version)
	if err != nil || sd == nil {
		return nil, err
	}
	return fromState(sd), nil
}

func (r *region) Deployments(ctx context.Context) ([]deploy.DeploymentSummary, error) {
	list, err := r.history.store.ListDeployments(ctx, r.history.service, r.history.stage, r.history.region)
	if err != nil {
		return nil, err
	}
	out := make([]deploy.DeploymentSummary, len(list))
	for i, s := range list {
		out[i] = deploy.DeploymentSummary{Version: s.Version, Hash: s.Hash, RolloutID: s.RolloutID, DeployedAt: s.DeployedAt}
	}
	return out, nil
}

// template is the part of a template the backend reads.
type template struct {
	Parameters map[string]struct {
		Default any `json:"Default"`
	} `json:"Parameters"`
	Resources map[string]struct {
		Type string `json:"Type"`
	} `json:"Resources"`
}

func parseTemplate(b []byte) (*template, error) {
	var t template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// stateful lists the logical IDs of the template's stateful resources.
func (t *template) stateful() []string {
	var ids []string
	for id, r := range t.Resources {
		if stateful(r.Type) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
