package lint

import "testing"

func TestGN405SecretNotSecret(t *testing.T) {
	const res = "resources:\n  db:\n    type: postgres\n  files:\n    type: s3\n"
	runRuleCases(t, "GN405", []ruleCase{
		{name: "secret outputs and references", yaml: "secrets:\n  P: ${resources.db.password}\n  K: ssm:/k\n  S: secretsmanager:x#y\n" + res},
		{name: "host under secrets", yaml: "secrets:\n  H: ${resources.db.host}\n" + res, want: []at{{2, 6}}, msg: "move H under `env:`"},
		{name: "bucket under secrets", yaml: "secrets:\n  B: ${resources.files.bucket}\n" + res, want: []at{{2, 6}}},
		{name: "undeclared is GN401's", yaml: "secrets:\n  H: ${resources.nope.host}\n" + res},
	})
}
