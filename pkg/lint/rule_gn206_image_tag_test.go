package lint

import "testing"

func TestGN206ImageTag(t *testing.T) {
	const repo = "111122223333.dkr.ecr.us-east-1.amazonaws.com/payments"
	runRuleCases(t, "GN206", []ruleCase{
		{name: "repository", yaml: "image: " + repo + "\n"},
		{name: "registry with port", yaml: "image: localhost:5000/team/payments\n"},
		{name: "docker hub name", yaml: "image: nginx\n"},
		{name: "tag", yaml: "image: " + repo + ":v1.4.2\n", want: []at{{1, 8}}, msg: `pins the tag "v1.4.2"`},
		{name: "latest", yaml: "image: nginx:latest\n", want: []at{{1, 8}}, msg: `"latest"`},
		{name: "registry port and tag", yaml: "image: localhost:5000/payments:dev\n", want: []at{{1, 8}}, msg: `"dev"`},
		{name: "version placeholder", yaml: "image: \"" + repo + ":${version}\"\n", want: []at{{1, 8}}},
		{name: "digest", yaml: "image: " + repo + "@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n", want: []at{{1, 8}}, msg: "pins a digest (@sha256:9f86d081884c…)"},
		{
			name: "override pins a tag",
			yaml: "stages:\n  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"    overrides:\n      image: nginx:1.27\n",
			want: []at{{6, 14}}, msg: `in stage "prod"`,
		},
	})
}
