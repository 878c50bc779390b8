package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/render"
)

func rulePatch() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN621", Name: "patch", Severity: Error,
			Title: "every patch applies to the rendered stack and leaves a valid template",
			Doc: "Patches are RFC 6902 JSON Patch operations on the templates gantry renders, applied in order " +
				"(the top level's, then a stage's overrides'). Lint renders each stage offline and applies them: a " +
				"path that is not a JSON Pointer, a remove, replace, test, move or copy whose target does not exist, an " +
				"add whose parent does not, a test that fails, or a patch after which the template is no valid " +
				"CloudFormation (a Ref or Fn::GetAtt to nothing, a resource without Type) would fail the deploy.",
			Example: Example{
				YAML:    "patches:\n  - stack: app\n    op: replace\n    path: /Resources/Servce/Properties/DesiredCount\n    value: 3\n",
				Message: "replace: /Resources/Servce/Properties/DesiredCount does not exist in the app template: /Resources has no key \"Servce\" (did you mean \"Service\"?)",
			},
		},
		check: func(c *checker) {
			type finding struct {
				sp     descriptor.Span
				msg    string
				stages []string
			}
			var found []*finding
			for i := range c.d.Stages {
				st := &c.d.Stages[i]
				errs, err := render.CheckPatches(c.d, st.Name)
				if err != nil {
					continue // a rendering that fails otherwise: other rules say why
				}
				pos := c.d.Pos
				if st.Effective != nil && st.EffectivePos != nil {
					pos = st.EffectivePos
				}
				for _, e := range errs {
					path := fmt.Sprintf("patches[%d]", e.Index)
					sp := pos.Lookup(path)
					if e.Field != "" {
						sp = value(pos, path+"."+e.Field)
					}
					at := slices.IndexFunc(found, func(f *finding) bool { return f.sp == sp && f.msg == e.Msg })
					if at < 0 {
						found = append(found, &finding{sp: sp, msg: e.Msg})
						at = len(found) - 1
					}
					found[at].stages = append(found[at].stages, st.Name)
				}
			}
			for _, f := range found {
				if len(f.stages) == len(c.d.Stages) {
					c.report(f.sp, "%s", f.msg)
					continue
				}
				c.report(f.sp, "%s (in stage %s)", f.msg, strings.Join(f.stages, ", "))
			}
		},
	}
}
