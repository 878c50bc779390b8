package lint

import "testing"

func TestGN401PlaceholderRef(t *testing.T) {
	const res = "resources:\n  db:\n    type: postgres\n  cache:\n    type: redis\n"
	runRuleCases(t, "GN401", []ruleCase{
		{name: "valid outputs", yaml: "env:\n  H: ${resources.db.host}\n  U: \"redis://${resources.cache.host}:${resources.cache.port}\"\n  S: ${service}-${stage}\n" + res},
		{name: "escaped", yaml: "env:\n  X: $${resources.nope.host}\n" + res},
		{name: "undeclared with suggestion", yaml: "env:\n  H: ${resources.dbb.host}\n" + res, want: []at{{2, 6}}, msg: `${resources.dbb.host} names no declared resource; did you mean "db"?`},
		{name: "undeclared, none close", yaml: "env:\n  H: ${resources.queue.url}\n" + res, want: []at{{2, 6}}, msg: "declared: cache, db"},
		{name: "no resources at all", yaml: "env:\n  H: ${resources.db.host}\n", want: []at{{2, 6}}, msg: "declare it under `resources:`"},
		{name: "output the type lacks", yaml: "env:\n  H: ${resources.cache.bucket}\n" + res, want: []at{{2, 6}}, msg: `redis resource "cache" has no output "bucket"; it offers host, port, url or auth`},
		{name: "output typo", yaml: "env:\n  H: ${resources.db.hots}\n" + res, want: []at{{2, 6}}, msg: `did you mean "host"?`},
		{
			name: "inside a quoted value",
			yaml: "env:\n  U: \"redis://${resources.cach.host}:6379\"\n" + res,
			want: []at{{2, 15}},
		},
		{name: "after a multibyte character", yaml: "env:\n  A: \"é ${resources.dbb.host}\"\n  B: ü${resources.dbb.host}\n" + res, want: []at{{2, 9}, {3, 7}}},
		{name: "in command", yaml: "compute:\n  cpu: 256\n  memory: 512\n  command: [\"./run\", \"--db=${resources.pg.host}\"]\n" + res, want: []at{{4, 28}}},
		{name: "in secrets", yaml: "secrets:\n  P: ${resources.d.password}\n" + res, want: []at{{2, 6}}, msg: `did you mean "db"?`},
	})
}
