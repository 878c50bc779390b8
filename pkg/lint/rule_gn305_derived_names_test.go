package lint

import "testing"

func TestGN305DerivedNames(t *testing.T) {
	const web = "compute:\n  cpu: 256\n  memory: 512\n  port: 8080\nrouting:\n  path: /a/*\n"
	stage := func(name, regions string) string {
		return "  - name: " + name + "\n    account: \"111122223333\"\n    regions: " + regions + "\n"
	}
	runRuleCases(t, "GN305", []ruleCase{
		{name: "short names", yaml: web + "resources:\n  db:\n    type: postgres\n  cache:\n    type: redis\n  files:\n    type: s3\n"},
		{
			// 23 + 1 + 10 = 34 > 32; a worker has no target group.
			name: "worker with a long name",
			yaml: "service: payments-reconciliation\nstages:\n" + stage("production", "[us-east-1]"),
		},
		{
			name: "target group too long",
			yaml: "service: payments-reconciliation\n" + web + "stages:\n" + stage("dev", "[us-east-1]") + stage("production", "[us-east-1]"),
			want: []at{{12, 11}}, msg: `target group name "payments-reconciliation-production" (service-stage) is 34 characters; AWS allows at most 32: shorten the service or stage name`,
		},
		{
			name: "replication group with double hyphen",
			yaml: "service: pay--ments\nresources:\n  cache:\n    type: redis\n",
			want: []at{{3, 3}}, msg: `must not contain two consecutive hyphens: change the service, stage or resource name`,
		},
		{
			// 29+1+16+1+20 = 67 > 63 for RDS; 67 > 40 for Redis too.
			name: "db instance too long",
			yaml: "service: abcdefghijabcdefghijabcdefghi\nresources:\n  abcdefghijabcdefghij:\n    type: postgres\n" +
				"stages:\n" + stage("abcdefghijabcdef", "[us-east-1]"),
			want: []at{{3, 3}}, msg: `RDS instance id`,
		},
		{
			// payments-staging-uploads-111122223333-ap-southeast-2 is 52; a longer
			// resource name pushes it past 63 only in the longest region.
			name: "bucket too long in one region",
			yaml: "resources:\n  uploads-archive-euw:\n    type: s3\nstages:\n" + stage("staging", "[us-east-1, ap-southeast-2]"),
			want: []at{{2, 3}}, msg: `S3 bucket name "payments-staging-uploads-archive-euw-111122223333-ap-southeast-2"`,
		},
		{
			name: "bucket fits",
			yaml: "resources:\n  uploads-archive-euw:\n    type: s3\nstages:\n" + stage("staging", "[us-east-1]"),
		},
	})
}
