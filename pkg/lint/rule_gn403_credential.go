package lint

import "strings"

func ruleCredential() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN403", Name: "credential-in-env", Severity: Error, Secret: true,
			Title: "no credentials are pasted into `env` or `compute.command`",
			Doc: "env values and command arguments are stored in plain text in the task definition and in the " +
				"repository. The rule looks for AWS access keys and secret keys, private key blocks, well-known token " +
				"formats (GitHub, GitLab, Slack, Stripe, Google, npm, SendGrid, JWT), URLs with a password, variables " +
				"named like a secret (…_PASSWORD, …_TOKEN, …_API_KEY) with a literal value, and long random strings " +
				"(20+ characters of mixed-case letters and digits, high Shannon entropy, few word-like runs). The " +
				"message never repeats the value.",
			Example: Example{
				YAML:    "env:\n  AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE\n",
				Message: "`env.AWS_ACCESS_KEY_ID` looks like an AWS access key id; store it in SSM Parameter Store or Secrets Manager and reference it under `secrets:` (ssm:/path or secretsmanager:NAME)",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for _, t := range templatedValues(v.Spec) {
					name := ""
					switch {
					case t.env == "env":
						name = strings.TrimPrefix(t.path, "env.")
					case strings.HasPrefix(t.path, "compute.command"):
					default:
						continue // secrets are references (the loader checks); image and routing hold no secrets
					}
					what := credential(name, t.value)
					if what == "" {
						continue
					}
					if name != "" {
						v.report(value(v.Pos, t.path), "`%s` looks like %s; store it in SSM Parameter Store or Secrets Manager and reference it under `secrets:` (ssm:/path or secretsmanager:NAME)", t.path, what)
					} else {
						v.report(value(v.Pos, t.path), "`%s` looks like %s; store it in SSM Parameter Store or Secrets Manager, reference it under `secrets:` and read the environment variable instead", t.path, what)
					}
				}
			})
		},
	}
}
