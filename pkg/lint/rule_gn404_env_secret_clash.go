package lint

import (
	"maps"
	"slices"
)

func ruleEnvSecretClash() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN404", Name: "env-secret-clash", Severity: Error,
			Title: "a variable is set in `env` or in `secrets`, not both",
			Doc: "env and secrets become the container's environment together; ECS refuses a task definition " +
				"that sets one name twice.",
			Example: Example{
				YAML:    "env:\n  STRIPE_API_KEY: none\nsecrets:\n  STRIPE_API_KEY: ssm:/payments/stripe-api-key\n",
				Message: "STRIPE_API_KEY is set in both env (line 2) and secrets; keep one",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for _, k := range slices.Sorted(maps.Keys(v.Spec.Secrets)) {
					if _, ok := v.Spec.Env[k]; ok {
						v.report(locate(v.Pos, "secrets."+k), "%s is set in both env (line %d) and secrets; keep one", k, locate(v.Pos, "env."+k).Line)
					}
				}
			})
		},
	}
}
