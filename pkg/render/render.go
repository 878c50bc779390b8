// Package render turns a service descriptor into the CloudFormation templates
// of one (stage, region): a data stack for the service's stores and an app
// stack for its containers. It builds goformation templates and makes no
// network call; the same input always gives the same bytes.
package render

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/tags"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/kinds"
	"github.com/gantryhq/gantry/pkg/naming"
)

// DefaultVersion is the image tag rendered when no version is given.
const DefaultVersion = "latest"

// Target is where a stack pair is deployed.
type Target struct{ Stage, Region, Account, Version string }

// Stack is one rendered CloudFormation stack.
type Stack struct {
	Name     string // <service>-<stage>-data | <service>-<stage>-app
	Kind     naming.StackKind
	Template *cloudformation.Template
	// Parameters are the values gantry passes at deploy (written as the
	// parameters file); every other parameter keeps its default.
	Parameters map[string]string

	// fns are the intrinsic-function tokens the template's strings hold.
	fns fns
	// patches are the descriptor's JSON Patch operations on this stack,
	// applied by Encode after the template is resolved.
	patches []patchOp
}

// versionRe is what an image tag may be (Docker's rule), which is also the
// Version parameter's AllowedPattern.
var versionRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// CheckVersion says why v cannot be rendered as the image tag, or nil
// ("" is DefaultVersion). Commands check it before any work, as usage.
func CheckVersion(v string) error {
	if v != "" && !versionRe.MatchString(v) {
		return fmt.Errorf("version %q is not a valid image tag: use up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", v)
	}
	return nil
}

// Render builds the stacks of one (stage, region): the data stack (only when
// the service has resources), the release stack (only when it has release
// tasks), then the app stack. It uses d.SpecFor(t.Stage).
// The stage's patches are applied to the stacks' encodings; one that fails
// is an error naming its line.
func Render(d *descriptor.Descriptor, t Target) ([]Stack, error) {
	return render(d, t, true)
}

func render(d *descriptor.Descriptor, t Target, patched bool) ([]Stack, error) {
	if d == nil {
		return nil, fmt.Errorf("rendering: no descriptor")
	}
	st, err := findStage(d, t.Stage)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(stageRegions(st), t.Region) {
		return nil, fmt.Errorf("region %q is not in stage %q (its regions: %s)", t.Region, st.Name, strings.Join(stageRegions(st), ", "))
	}
	spec := d.SpecFor(st.Name)
	if spec == nil {
		return nil, fmt.Errorf("rendering stage %q: no spec for the stage", st.Name)
	}
	if t.Version == "" {
		t.Version = DefaultVersion
	}
	if !versionRe.MatchString(t.Version) {
		return nil, fmt.Errorf("version %q is not a valid image tag: use up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", t.Version)
	}
	if t.Account == "" {
		t.Account = st.Account
	}
	c := &ctx{d: d, stage: st, spec: spec, t: t}
	if err := c.prepare(); err != nil {
		return nil, fmt.Errorf("rendering %s for stage %s, region %s: %w", d.Service, st.Name, t.Region, err)
	}
	var out []Stack
	if len(spec.Resources) > 0 {
		s, err := c.dataStack()
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", naming.Stack(d.Service, st.Name, naming.Data), err)
		}
		out = append(out, s)
	}
	if len(c.releaseJobs()) > 0 {
		s, err := c.releaseStack()
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", naming.Stack(d.Service, st.Name, naming.Release), err)
		}
		out = append(out, s)
	}
	s, err := c.appStack()
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", naming.Stack(d.Service, st.Name, naming.App), err)
	}
	out = append(out, s)
	if patched && len(spec.Patches) > 0 {
		if err := c.patch(out); err != nil {
			return nil, fmt.Errorf("patching %s for stage %s: %w", d.Service, st.Name, err)
		}
	}
	return out, nil
}

func findStage(d *descriptor.Descriptor, name string) (*descriptor.Stage, error) {
	var names []string
	for i := range d.Stages {
		if d.Stages[i].Name == name {
			return &d.Stages[i], nil
		}
		names = append(names, d.Stages[i].Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("unknown stage %q: the descriptor has no stages", name)
	}
	return nil, fmt.Errorf("unknown stage %q: the descriptor's stages are %s", name, strings.Join(names, ", "))
}

// stageRegions lists a stage's regions in wave order.
func stageRegions(st *descriptor.Stage) []string {
	var out []string
	waves := st.Waves
	if len(waves) == 0 && len(st.Regions) > 0 {
		waves = []descriptor.Wave{{Regions: st.Regions}}
	}
	for _, w := range waves {
		for _, r := range w.Regions {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// ctx is one rendering of one (stage, region).
type ctx struct {
	d     *descriptor.Descriptor
	stage *descriptor.Stage
	spec  *descriptor.Spec
	t     Target

	// resources are the resource names, sorted; logical maps each to the
	// CamelCase stem of its logical IDs.
	resources []string
	logical   map[string]string
	// canaryParts is set while the canary's resources are rendered: they
	// run CanaryVersion.
	canaryParts bool
}

func (c *ctx) service() string   { return c.d.Service }
func (c *ctx) stageName() string { return c.stage.Name }

func (c *ctx) web() bool { return c.spec.Compute.Port != nil }

func (c *ctx) has(typ string) bool {
	for _, r := range c.spec.Resources {
		if r != nil && r.Type == typ {
			return true
		}
	}
	return false
}

// network reports whether the data stack holds stores reached over the VPC
// (and so the client and store security groups).
func (c *ctx) network() bool {
	for _, r := range c.spec.Resources {
		if r != nil && r.Kind != nil && r.Kind.Port() != 0 {
			return true
		}
	}
	return false
}

// prepare checks what both stacks rely on: resource types, logical IDs and
// the explicit names AWS limits.
func (c *ctx) prepare() error {
	c.resources = slices.Sorted(maps.Keys(c.spec.Resources))
	c.logical = map[string]string{}
	byID := map[string]string{}
	for _, name := range c.resources {
		r := c.spec.Resources[name]
		if r == nil || r.Settings == nil {
			return fmt.Errorf("resource %q has no known type: use %s", name, strings.Join(kinds.Names(), ", "))
		}
		id := logicalStem(name)
		if id == "" {
			return fmt.Errorf("resource name %q has no letters or digits to name its CloudFormation resources with", name)
		}
		if other, dup := byID[id]; dup {
			return fmt.Errorf("resources %q and %q would share the CloudFormation logical ID stem %q; rename one", other, name, id)
		}
		byID[id] = name
		c.logical[name] = id
	}
	if c.web() && (c.spec.Routing == nil || (c.spec.Routing.Path == "" && c.spec.Routing.Host == "")) {
		return fmt.Errorf("compute.port is set but routing is not: add routing.path or routing.host so the load balancer can reach the service, or remove port for a worker")
	}
	return c.checkNames()
}

// checkNames refuses the first explicit name AWS would refuse; lint checks
// the same names (descriptor.DerivedNames) before anyone renders.
func (c *ctx) checkNames() error {
	for _, n := range descriptor.DerivedNames(c.service(), c.stageName(), c.spec, c.t.Account, []string{c.t.Region}) {
		if err := n.Validate(); err != nil {
			return fmt.Errorf("%s %q (from %s) %w", n.Kind, n.Value, derivedFrom(n), err)
		}
	}
	return nil
}

// derivedFrom names the descriptor fields a derived name is built from.
func derivedFrom(n naming.Derived) string {
	from := "service, stages[].name"
	if n.Resource != "" {
		from += ", resources." + n.Resource
	}
	if strings.Contains(n.Pattern, "account-region") {
		from += ", stages[].account, region"
	}
	return from
}

// logicalStem turns a resource name into the CamelCase stem of its logical
// IDs (db → Db, user-db → UserDb); lint checks collisions with the same rule.
func logicalStem(name string) string { return naming.LogicalStem(name) }

// exportName is the name under which the data stack exports an output.
func (c *ctx) exportName(output string) string {
	return naming.Stack(c.service(), c.stageName(), naming.Data) + ":" + output
}

// stackBuilder assembles one template and refuses a logical ID used twice.
type stackBuilder struct {
	fns fns
	tpl *cloudformation.Template
	ids map[string]bool
	err error
}

func newStackBuilder(description string) *stackBuilder {
	tpl := cloudformation.NewTemplate()
	tpl.Description = description
	return &stackBuilder{fns: newFns(), tpl: tpl, ids: map[string]bool{}}
}

// fail records the first error of the build.
func (b *stackBuilder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func (b *stackBuilder) claim(id string) bool {
	if b.ids[id] {
		if b.err == nil {
			b.err = fmt.Errorf("two parts of the template would have the logical ID %q; rename a resource", id)
		}
		return false
	}
	b.ids[id] = true
	return true
}

func (b *stackBuilder) resource(id string, r cloudformation.Resource) {
	if b.claim(id) {
		b.tpl.Resources[id] = r
	}
}

func (b *stackBuilder) param(id string, p cloudformation.Parameter) {
	if b.claim(id) {
		b.tpl.Parameters[id] = p
	}
}

func (b *stackBuilder) output(id string, o cloudformation.Output) {
	if b.claim(id) {
		b.tpl.Outputs[id] = o
	}
}

func (b *stackBuilder) stack(name string, kind naming.StackKind, params map[string]string) (Stack, error) {
	if b.err != nil {
		return Stack{}, b.err
	}
	if params == nil {
		params = map[string]string{}
	}
	return Stack{Name: name, Kind: kind, Template: b.tpl, Parameters: params, fns: b.fns}, nil
}

// Tag keys gantry puts on every taggable resource.
const (
	TagService = "gantry:service"
	TagStage   = "gantry:stage"
	TagTeam    = "gantry:team"
	TagVersion = "gantry:version"
)

// tags gives the resource tags, sorted by key. The app stack's carry the
// version; the data stack's do not, so a version-only deploy leaves it
// unchanged.
func (c *ctx) tags(f fns, withVersion bool) []tags.Tag {
	out := []tags.Tag{
		{Key: TagService, Value: c.service()},
		{Key: TagStage, Value: c.stageName()},
		{Key: TagTeam, Value: c.d.Team},
	}
	if withVersion {
		out = append(out, tags.Tag{Key: TagVersion, Value: f.ref(c.versionParam())})
	}
	return out
}

// Platform parameters: what the platform owns reaches the stacks through
// SSM parameters under /gantry/platform/.
const (
	paramVpc          = "VpcId"
	paramSubnets      = "PrivateSubnets"
	paramCluster      = "EcsCluster"
	paramListener     = "AlbListenerArn"
	paramAlbSG        = "AlbSecurityGroup"
	paramVersion      = "Version"
	paramRulePriority = "ListenerRulePriority"
)

// PlatformPrefix is where the platform publishes its SSM parameters.
const PlatformPrefix = "/gantry/platform/"

func platformParam(id string) cloudformation.Parameter {
	var typ, key, desc string
	switch id {
	case paramVpc:
		typ, key, desc = "AWS::SSM::Parameter::Value<AWS::EC2::VPC::Id>", "vpc-id", "SSM parameter holding the platform VPC id"
	case paramSubnets:
		typ, key, desc = "AWS::SSM::Parameter::Value<List<AWS::EC2::Subnet::Id>>", "private-subnets", "SSM parameter holding the platform's private subnet ids"
	case paramCluster:
		typ, key, desc = "AWS::SSM::Parameter::Value<String>", "ecs-cluster", "SSM parameter holding the platform ECS cluster name"
	case paramListener:
		typ, key, desc = "AWS::SSM::Parameter::Value<String>", "alb-listener-arn", "SSM parameter holding the platform load balancer listener ARN"
	case paramAlbSG:
		typ, key, desc = "AWS::SSM::Parameter::Value<AWS::EC2::SecurityGroup::Id>", "alb-security-group", "SSM parameter holding the platform load balancer's security group id"
	}
	return cloudformation.Parameter{Type: typ, Default: PlatformPrefix + key, Description: &desc}
}

func ptr[T any](v T) *T { return &v }
