package lint

import (
	"maps"
	"slices"
	"strings"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

func rulePlaceholderRef() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN401", Name: "placeholder-ref", Severity: Error,
			Title: "`${resources.NAME.OUTPUT}` names a declared resource and an output of its type",
			Doc: "A resource placeholder resolves to an output of the data stack: postgres offers host, port, " +
				"database, username and password; redis host, port, url and auth; s3 bucket and arn.",
			Example: Example{
				YAML:    "env:\n  DATABASE_HOST: ${resources.dbb.host}\nresources:\n  db:\n    type: postgres\n",
				Message: "${resources.dbb.host} names no declared resource; did you mean \"db\"?",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				names := slices.Sorted(maps.Keys(v.Spec.Resources))
				for _, t := range templatedValues(v.Spec) {
					for _, ref := range refs(t.value) {
						if ref.Name != "resources" {
							continue
						}
						sp := within(c.d.Source, value(v.Pos, t.path), t.value, ref.Offset, ref.Len)
						r, ok := v.Spec.Resources[ref.Resource]
						if !ok {
							if s := descriptor.Suggest(ref.Resource, names); s != "" {
								v.report(sp, "%s names no declared resource; did you mean %q?", ref, s)
							} else if len(names) > 0 {
								v.report(sp, "%s names no declared resource; declared: %s", ref, strings.Join(names, ", "))
							} else {
								v.report(sp, "%s names no declared resource; declare it under `resources:`", ref)
							}
							continue
						}
						if r == nil {
							continue
						}
						outs := r.Outputs()
						if outs == nil || slices.Contains(outs, ref.Output) {
							continue
						}
						if s := descriptor.Suggest(ref.Output, outs); s != "" {
							v.report(sp, "%s: %s resource %q has no output %q; did you mean %q?", ref, r.Type, ref.Resource, ref.Output, s)
						} else {
							v.report(sp, "%s: %s resource %q has no output %q; it offers %s", ref, r.Type, ref.Resource, ref.Output, oneOf(outs))
						}
					}
				}
			})
		},
	}
}
