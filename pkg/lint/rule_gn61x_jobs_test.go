package lint

import "testing"

func TestGN611JobSchedule(t *testing.T) {
	runRuleCases(t, "GN611", []ruleCase{
		{name: "cron", yaml: "jobs:\n  a:\n    schedule: cron(0 3 * * ? *)\n    command: [x]\n"},
		{name: "release task", yaml: "jobs:\n  a:\n    beforeDeploy: true\n    command: [x]\n"},
		{name: "bad cron at the value", yaml: "jobs:\n  a:\n    schedule: cron(0 3 * * * *)\n    command: [x]\n", want: []at{{3, 15}}, msg: "needs ? in one of them"},
		{name: "bad rate", yaml: "jobs:\n  a:\n    schedule: rate(2 hour)\n    command: [x]\n", want: []at{{3, 15}}, msg: "plural"},
		{name: "neither", yaml: "jobs:\n  a:\n    command: [x]\n", want: []at{{2, 3}}, msg: "has no schedule"},
		{name: "both", yaml: "jobs:\n  a:\n    schedule: rate(1 day)\n    beforeDeploy: true\n    command: [x]\n", want: []at{{3, 15}}, msg: "takes no schedule"},
		{
			name: "a stage's override",
			yaml: "jobs:\n  a:\n    schedule: rate(1 day)\n    command: [x]\nstages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"    overrides:\n      jobs: {a: {schedule: cron(1 2 3)}}\n",
			want: []at{{10, 28}}, msg: "(in stage \"dev\", with its overrides)",
		},
	})
}

func TestGN612JobTimezone(t *testing.T) {
	job := func(tz string) string {
		return "jobs:\n  a:\n    schedule: cron(0 3 * * ? *)\n    timezone: " + tz + "\n    command: [x]\n"
	}
	runRuleCases(t, "GN612", []ruleCase{
		{name: "berlin", yaml: job("Europe/Berlin")},
		{name: "utc", yaml: job("UTC")},
		{name: "typo", yaml: job("Europe/Berln"), want: []at{{4, 15}}},
		{name: "abbreviation", yaml: job("PST"), want: []at{{4, 15}}},
		{name: "local", yaml: job("Local"), want: []at{{4, 15}}},
		{name: "path", yaml: job("../../etc/passwd"), want: []at{{4, 15}}},
	})
}

func TestGN613JobSize(t *testing.T) {
	runRuleCases(t, "GN613", []ruleCase{
		{name: "service's size", yaml: "jobs:\n  a:\n    schedule: rate(1 day)\n    command: [x]\n"},
		{name: "own pair", yaml: "jobs:\n  a:\n    schedule: rate(1 day)\n    command: [x]\n    cpu: 1024\n    memory: 4096\n"},
		{name: "memory only, against the service's cpu", yaml: "jobs:\n  a:\n    schedule: rate(1 day)\n    command: [x]\n    memory: 4096\n", want: []at{{5, 13}}, msg: "for cpu 256"},
		{name: "cpu", yaml: "jobs:\n  a:\n    schedule: rate(1 day)\n    command: [x]\n    cpu: 300\n", want: []at{{5, 10}}, msg: "cpu 300 is not a Fargate size"},
	})
}

func TestGN614JobIDs(t *testing.T) {
	runRuleCases(t, "GN614", []ruleCase{
		{name: "distinct", yaml: "jobs:\n  a-b:\n    schedule: rate(1 day)\n    command: [x]\n  ac:\n    schedule: rate(1 day)\n    command: [x]\n"},
		{name: "clash", yaml: "jobs:\n  a1:\n    schedule: rate(1 day)\n    command: [x]\n  a-1:\n    schedule: rate(1 day)\n    command: [x]\n", want: []at{{5, 3}}},
	})
}
