package lint

import (
	"strings"
	"testing"
)

func TestGN403Credential(t *testing.T) {
	env := func(k, v string) string { return "env:\n  " + k + ": " + v + "\n" }
	runRuleCases(t, "GN403", []ruleCase{
		// Ordinary values stay quiet.
		{name: "log level", yaml: env("LOG_LEVEL", "info")},
		{name: "url", yaml: env("API_URL", "https://api.example.com/v1/payments?region=eu")},
		{name: "path", yaml: env("DATA_DIR", "/var/lib/payments/data/2024/uploads")},
		{name: "host", yaml: env("UPSTREAM", "payments-internal.eu-west-1.example.com")},
		{name: "uuid", yaml: env("TENANT", "550e8400-e29b-41d4-a716-446655440000")},
		{name: "git sha", yaml: env("BUILD", "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9012345")},
		{name: "java class", yaml: env("MAIN", "com.example.payments.PaymentServiceApplication")},
		{name: "camel case", yaml: env("APP_NAME", "PaymentsReconciliationService2024")},
		{name: "jvm flags", yaml: env("JAVA_OPTS", "-Xmx1024m -XX:+UseG1GC -XX:MaxGCPauseMillis=200")},
		{name: "placeholders", yaml: env("NAME", "${service}-${stage}-${region}-${version}")},
		{name: "arn", yaml: env("TOPIC", "arn:aws:sns:us-east-1:111122223333:payments-alerts")},
		{name: "url with placeholder password is GN402's", yaml: env("URL", "postgres://app:${resources.db.password}@db/app") + "resources:\n  db:\n    type: postgres\n"},
		{name: "token ttl", yaml: env("TOKEN_TTL", "1h")},
		{name: "password min length", yaml: env("PASSWORD_MIN_LENGTH", "\"12\"")},
		{name: "secret name setting", yaml: env("API_KEY", "ssm:/payments/key")},
		// Credentials are caught, at the value, without repeating it.
		{name: "aws access key id", yaml: env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"), want: []at{{2, 22}}, msg: "an AWS access key id"},
		{name: "aws session key id", yaml: env("KEY", "ASIAY34FZKBOKMUTVV7A"), want: []at{{2, 8}}},
		{name: "aws secret key", yaml: env("AWS_SECRET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), want: []at{{2, 15}}, msg: "an AWS secret access key"},
		{name: "private key", yaml: "env:\n  KEY: |\n    -----BEGIN RSA PRIVATE KEY-----\n    MIIEowIBAAKCAQEA\n    -----END RSA PRIVATE KEY-----\n", want: []at{{2, 8}}, msg: "a private key"},
		{name: "openssh key", yaml: env("KEY", "\"-----BEGIN OPENSSH PRIVATE KEY-----\""), want: []at{{2, 8}}},
		{name: "github token", yaml: env("GH", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"), want: []at{{2, 7}}, msg: "a GitHub token"},
		{name: "slack token", yaml: env("SLACK", "xoxb-123456789012-abcdefghijkl"), want: []at{{2, 10}}},
		{name: "stripe key", yaml: env("STRIPE", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"), want: []at{{2, 11}}},
		{name: "jwt", yaml: env("BEARER", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"), want: []at{{2, 11}}},
		{name: "url password", yaml: env("DATABASE_URL", "postgres://app:s3cretPass@db.internal:5432/app"), want: []at{{2, 17}}, msg: "a URL with a password"},
		{name: "random token", yaml: env("X_CONFIG", "X9fLq2Rw8ZtK4mNv7Bp3Yc6Hs1Dj5Ga0"), want: []at{{2, 13}}, msg: "a long random string"},
		{name: "random token after a word", yaml: env("AUTHZ", "\"Bearer X9fLq2Rw8ZtK4mNv7Bp3Yc6H\""), want: []at{{2, 10}}},
		{name: "named secret", yaml: env("JWT_SECRET", "correct-horse-battery"), want: []at{{2, 15}}, msg: "its name says so"},
		{name: "named password", yaml: env("DB_PASSWORD", "hunter22hunter"), want: []at{{2, 16}}},
		// An escaped $${...} is literal text in the template, not a placeholder.
		{name: "escaped placeholder", yaml: env("AWS_SECRET_ACCESS_KEY", "\"$${wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY}\""), want: []at{{2, 26}}, msg: "an AWS secret access key"},
		{name: "escaped access key", yaml: env("K", "\"x$${AKIAIOSFODNN7EXAMPLE}\""), want: []at{{2, 6}}},
		{name: "in command", yaml: "compute:\n  cpu: 256\n  memory: 512\n  command: [\"./run\", \"--token=ghp_16C7e42F292c6912E7710c838347Ae178B4a\"]\n", want: []at{{4, 22}}, msg: "`compute.command[1]`"},
		{
			name: "in an override",
			yaml: "stages:\n  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"    overrides:\n      env:\n        KEY: AKIAIOSFODNN7EXAMPLE\n",
			want: []at{{7, 14}}, msg: `in stage "prod"`,
		},
	})
}

// The message says what a value looks like and never the value.
func TestGN403NeverEchoesValue(t *testing.T) {
	secrets := []string{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "s3cretPass", "X9fLq2Rw8ZtK4mNv7Bp3Yc6Hs1Dj5Ga0", "correct-horse-battery"}
	frag := "env:\n  A: AKIAIOSFODNN7EXAMPLE\n  B: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n  C: postgres://app:s3cretPass@db/app\n" +
		"  D: X9fLq2Rw8ZtK4mNv7Bp3Yc6Hs1Dj5Ga0\n  E_TOKEN: correct-horse-battery\n"
	_, fs := lintFragment(t, frag)
	if got := len(only(fs, "GN403")); got != 5 {
		t.Fatalf("want 5 findings, got %d: %+v", got, fs)
	}
	for _, f := range fs {
		for _, s := range secrets {
			if strings.Contains(f.Message, s) {
				t.Errorf("%s message repeats the secret: %s", f.Rule, f.Message)
			}
		}
	}
}
