package lint

import "testing"

func TestGN402SecretOutput(t *testing.T) {
	const res = "resources:\n  db:\n    type: postgres\n  cache:\n    type: redis\n"
	runRuleCases(t, "GN402", []ruleCase{
		{name: "under secrets", yaml: "secrets:\n  P: ${resources.db.password}\n  A: ${resources.cache.auth}\n" + res},
		{name: "plain outputs in env", yaml: "env:\n  H: ${resources.db.host}\n  U: ${resources.db.username}\n" + res},
		{name: "password in env", yaml: "env:\n  DB_PASSWORD: ${resources.db.password}\n" + res, want: []at{{2, 16}}, msg: "move DB_PASSWORD under `secrets:`"},
		{name: "auth in env", yaml: "env:\n  REDIS_AUTH: ${resources.cache.auth}\n" + res, want: []at{{2, 15}}},
		{
			name: "password inside a URL",
			yaml: "env:\n  URL: postgres://app:${resources.db.password}@${resources.db.host}/app\n" + res,
			want: []at{{2, 23}}, msg: "give it its own variable under `secrets:`",
		},
		{name: "password in command", yaml: "compute:\n  cpu: 256\n  memory: 512\n  command: [\"--pw=${resources.db.password}\"]\n" + res, want: []at{{4, 19}}, msg: "`compute.command[0]`"},
		{
			name: "password added by an override",
			yaml: res + "stages:\n  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"    overrides:\n      env:\n        PW: ${resources.db.password}\n",
			want: []at{{12, 13}}, msg: `in stage "prod"`,
		},
	})
}
