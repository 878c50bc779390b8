package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// RuleInfo describes a rule for docs/rules.md and for SARIF's rule list.
type RuleInfo struct {
	// ID is stable: GN1xx are the loader's codes, GN2xx–GN5xx lint rules.
	ID string
	// Name is a short kebab-case handle, such as fargate-size.
	Name     string
	Severity Severity
	// Title is one line; Doc a short paragraph on why the rule exists.
	Title, Doc string
	Example    Example
	// Secret marks a rule whose findings point at a secret value.
	Secret bool
}

// Example is a descriptor fragment the rule reports, with the message it
// gives. Tests check that the rule gives exactly this message.
type Example struct {
	YAML    string
	Message string
}

// rule is a RuleInfo with the check that implements it.
type rule struct {
	RuleInfo
	check func(c *checker)
}

// lintRules lists every lint rule, in id order. Each is defined in its own
// rule_gnNNN_*.go file, or by a resource kind (kinds.go).
func lintRules() []rule {
	out := append(kindRules(), []rule{
		ruleFargateSize(),
		ruleScaling(),
		rulePortless(),
		ruleRoutingShape(),
		ruleHTTPPaths(),
		ruleImageTag(),
		ruleQueueScaling(),
		ruleRegion(),
		ruleDuplicateRegion(),
		ruleDuplicateStage(),
		rulePartition(),
		ruleDerivedNames(),
		ruleApprovalMinTasks(),
		ruleRolloutFlags(),
		ruleCanaryWorker(),
		ruleCanarySteps(),
		ruleCanaryWeightFlag(),
		ruleCanaryCompare(),
		ruleCanaryStages(),
		rulePlaceholderRef(),
		ruleSecretOutput(),
		ruleCredential(),
		ruleEnvSecretClash(),
		ruleSecretNotSecret(),
		ruleOverrideUndeclared(),
		ruleOverrideType(),
		ruleResourceSettings(),
		ruleLogicalIDs(),
		ruleSidecarSize(),
		rulePortClash(),
		ruleSidecarImage(),
		ruleContainerName(),
		ruleJobSchedule(),
		ruleJobTimezone(),
		ruleJobSize(),
		ruleJobIDs(),
		rulePatch(),
		rulePatchSensitive(),
	}...)
	slices.SortStableFunc(out, func(a, b rule) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Rules lists the loader's problem codes and then every lint rule.
func Rules() []RuleInfo {
	out := loaderRules()
	for _, r := range lintRules() {
		out = append(out, r.RuleInfo)
	}
	return out
}

// Check runs every lint rule on one parsed descriptor. It is safe on a
// best-effort descriptor from a file with problems: rules skip what did not
// load. The findings are sorted and de-duplicated.
func Check(d *descriptor.Descriptor) []Finding {
	if d == nil || len(d.Pos) == 0 {
		return nil // nothing loaded (not YAML, or not a mapping)
	}
	var out []Finding
	for _, r := range lintRules() {
		c := &checker{d: d, rule: &r.RuleInfo}
		r.check(c)
		out = append(out, c.out...)
	}
	return normalize(out)
}

// checker is what a rule sees: the descriptor and a way to report.
type checker struct {
	d    *descriptor.Descriptor
	rule *RuleInfo
	out  []Finding
}

func (c *checker) report(sp descriptor.Span, format string, args ...any) {
	c.out = append(c.out, Finding{
		File:     c.d.File,
		Span:     sp,
		Severity: c.rule.Severity,
		Rule:     c.rule.ID,
		Message:  fmt.Sprintf(format, args...),
		Secret:   c.rule.Secret,
	})
}

// view is one Spec as the top level or one stage sees it.
type view struct {
	descriptor.SpecView
	report func(sp descriptor.Span, format string, args ...any)
}

// stageName is the stage of the view, "" at the top level.
func (v view) stageName() string {
	if v.Stage == nil {
		return ""
	}
	return v.Stage.Name
}

// eachSpec runs f on the top-level Spec and on the effective Spec of every
// stage with overrides. A finding a stage view shares with the top level is
// dropped; one that only the merged spec shows says which stage it is in.
func (c *checker) eachSpec(f func(v view)) {
	type key struct {
		sp  descriptor.Span
		msg string
	}
	top := map[key]bool{}
	for i, sv := range c.d.Specs() {
		if sv.Spec == nil || sv.Pos == nil {
			continue
		}
		v := view{SpecView: sv}
		if i == 0 {
			v.report = func(sp descriptor.Span, format string, args ...any) {
				msg := fmt.Sprintf(format, args...)
				top[key{sp, msg}] = true
				c.report(sp, "%s", msg)
			}
		} else {
			stage := sv.Stage.Name
			v.report = func(sp descriptor.Span, format string, args ...any) {
				msg := fmt.Sprintf(format, args...)
				if top[key{sp, msg}] {
					return
				}
				c.report(sp, "%s (in stage %q, with its overrides)", msg, stage)
			}
		}
		f(v)
	}
}

// locate finds the best span for path: the key of the entry when recorded,
// else the value, else the nearest recorded parent (by key first).
func locate(pos descriptor.Positions, path string) descriptor.Span {
	for p := path; p != ""; {
		if s, ok := pos[p+"#key"]; ok {
			return s
		}
		if s, ok := pos[p]; ok {
			return s
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return descriptor.Span{Line: 1, Column: 1, EndLine: 1, EndColumn: 1}
}

// value finds the span of the value at path, falling back like locate.
func value(pos descriptor.Positions, path string) descriptor.Span {
	if s, ok := pos[path]; ok {
		return s
	}
	return locate(pos, path)
}

// has reports whether path was written in the descriptor.
func has(pos descriptor.Positions, path string) bool {
	_, ok := pos[path]
	return ok
}

// stagePath is the path prefix of stage i.
func stagePath(i int) string { return fmt.Sprintf("stages[%d]", i) }

// regionPath is the path of region k of wave j of stage i; the loader
// records it for the regions: shorthand too.
func regionPath(i, j, k int) string {
	return fmt.Sprintf("stages[%d].waves[%d].regions[%d]", i, j, k)
}

// oneOf joins values as "a, b or c".
func oneOf(vals []string) string {
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	return strings.Join(vals[:len(vals)-1], ", ") + " or " + vals[len(vals)-1]
}
