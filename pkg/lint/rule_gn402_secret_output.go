package lint

func ruleSecretOutput() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN402", Name: "secret-output", Severity: Error,
			Title: "secret outputs (password, auth) appear only under `secrets:`",
			Doc: "A database password or a Redis auth token placed in env, command, image or routing would be " +
				"written in plain text into the task definition, visible to anyone who can describe it. Under " +
				"secrets: it becomes an ECS secret read from Secrets Manager when the task starts.",
			Example: Example{
				YAML:    "env:\n  DATABASE_PASSWORD: ${resources.db.password}\nresources:\n  db:\n    type: postgres\n",
				Message: "${resources.db.password} is a secret and would be stored in plain text in env; move DATABASE_PASSWORD under `secrets:`",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for _, t := range templatedValues(v.Spec) {
					if t.env == "secrets" {
						continue
					}
					rs := refs(t.value)
					for _, ref := range rs {
						r := v.Spec.Resources[ref.Resource]
						if ref.Name != "resources" || r == nil || !r.IsSecretOutput(ref.Output) {
							continue
						}
						sp := within(c.d.Source, value(v.Pos, t.path), t.value, ref.Offset, ref.Len)
						whole := len(rs) == 1 && ref.Offset == 0 && ref.Len == len(t.value)
						switch {
						case t.env == "env" && whole:
							v.report(sp, "%s is a secret and would be stored in plain text in env; move %s under `secrets:`", ref, t.path[len("env."):])
						case t.env == "env":
							v.report(sp, "%s is a secret and would be stored in plain text in env; give it its own variable under `secrets:` (a secret is the whole value) and build %s in the service", ref, t.path[len("env."):])
						default:
							v.report(sp, "%s is a secret and would be stored in plain text in `%s`; pass it through `secrets:` as an environment variable instead", ref, t.path)
						}
					}
				}
			})
		},
	}
}
