package lint

import (
	"maps"
	"slices"
)

func ruleSecretNotSecret() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN405", Name: "secret-not-secret", Severity: Error,
			Title: "`secrets:` takes only secret outputs of resources",
			Doc: "Under secrets:, a resource placeholder becomes an ECS secret read from Secrets Manager; only " +
				"password (postgres) and auth (redis) are stored there. Other outputs such as host or bucket are plain " +
				"values and belong under env.",
			Example: Example{
				YAML:    "secrets:\n  DATABASE_HOST: ${resources.db.host}\nresources:\n  db:\n    type: postgres\n",
				Message: "${resources.db.host} is not a secret output (only password and auth are); move DATABASE_HOST under `env:`",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for _, k := range slices.Sorted(maps.Keys(v.Spec.Secrets)) {
					val := v.Spec.Secrets[k]
					for _, ref := range refs(val) {
						r := v.Spec.Resources[ref.Resource]
						if ref.Name != "resources" || r == nil || !slices.Contains(r.Outputs(), ref.Output) {
							continue // GN401 or the loader reports these
						}
						if !r.IsSecretOutput(ref.Output) {
							v.report(within(c.d.Source, value(v.Pos, "secrets."+k), val, ref.Offset, ref.Len),
								"%s is not a secret output (only password and auth are); move %s under `env:`", ref, k)
						}
					}
				}
			})
		},
	}
}
