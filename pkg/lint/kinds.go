package lint

import (
	"maps"
	"slices"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/kinds"
)

// kindRules turns each resource kind's own rules (pkg/kind/...) into lint
// rules: an approval rule runs on every stage that needs approval, with the
// stage's effective spec; the others on every spec view, as the rules of
// this package do.
func kindRules() []rule {
	var out []rule
	for _, k := range kinds.All() {
		for _, kr := range k.Rules() {
			kr, k := kr, k
			out = append(out, rule{
				RuleInfo: RuleInfo{
					ID: kr.ID, Name: kr.Name, Severity: Severity(kr.Severity), Title: kr.Title, Doc: kr.Doc,
					Example: Example{YAML: kr.ExampleYAML, Message: kr.ExampleMessage},
				},
				check: func(c *checker) {
					if kr.Approval {
						approvalResources(c, k, kr.Check)
						return
					}
					c.eachSpec(func(v view) { eachResource(v.Spec, k, v.Pos, v.stageName(), v.report, kr.Check) })
				},
			})
		}
	}
	return out
}

// approvalResources runs check on every resource of kind k in every stage
// that needs approval, with the stage's effective settings and positions.
func approvalResources(c *checker, k kind.Kind, check func(kind.Check)) {
	for i := range c.d.Stages {
		st := &c.d.Stages[i]
		if !st.Approval {
			continue
		}
		spec, pos := stageSpec(c.d, st)
		eachResource(spec, k, pos, st.Name, c.report, check)
	}
}

// stageSpec is the spec a stage deploys and where its values were written.
func stageSpec(d *descriptor.Descriptor, st *descriptor.Stage) (*descriptor.Spec, descriptor.Positions) {
	if st.Effective != nil && st.EffectivePos != nil {
		return st.Effective, st.EffectivePos
	}
	return &d.Spec, d.Pos
}

// eachResource runs check on every resource of spec of kind k (every kind
// when k is nil), in name order.
func eachResource(spec *descriptor.Spec, k kind.Kind, pos descriptor.Positions, stage string,
	report func(descriptor.Span, string, ...any), check func(kind.Check)) {
	for _, name := range slices.Sorted(maps.Keys(spec.Resources)) {
		r := spec.Resources[name]
		if r == nil || r.Settings == nil || (k != nil && r.Kind.Name() != k.Name()) {
			continue
		}
		check(&kindCheck{spec: spec, self: r.View(name), pos: pos, stage: stage, report: report})
	}
}

// kindCheck is one resource as a kind's check sees it (kind.Check).
type kindCheck struct {
	spec   *descriptor.Spec
	self   kind.Resource
	pos    descriptor.Positions
	stage  string
	report func(descriptor.Span, string, ...any)
}

func (k *kindCheck) Self() kind.Resource { return k.self }
func (k *kindCheck) Stage() string       { return k.stage }
func (k *kindCheck) Path(key string) string {
	if key == "" {
		return "resources." + k.self.Name
	}
	return "resources." + k.self.Name + "." + key
}

func (k *kindCheck) Peer(name string) (kind.Resource, bool) {
	r := k.spec.Resources[name]
	if r == nil || r.Settings == nil {
		return kind.Resource{}, false
	}
	return r.View(name), true
}

func (k *kindCheck) Report(key, format string, args ...any) {
	k.report(value(k.pos, k.Path(key)), format, args...)
}

func (k *kindCheck) ReportKey(key, format string, args ...any) {
	k.report(locate(k.pos, k.Path(key)), format, args...)
}
