package lint

import (
	"slices"
	"strings"
	"time"
	// The IANA time zone database, so that time zones are checked the same
	// on every machine, with no system zoneinfo needed.
	_ "time/tzdata"

	"github.com/gantryhq/gantry/pkg/naming"
)

func ruleJobSchedule() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN611", Name: "job-schedule", Severity: Error,
			Title: "a job has a schedule EventBridge Scheduler takes, or is a release task",
			Doc: "A job runs on `schedule`, in EventBridge Scheduler's syntax: cron(minutes hours day-of-month month " +
				"day-of-week year), six fields with ? in one of the two day fields, or rate(N unit) with minute(s), " +
				"hour(s) or day(s). A release task (`beforeDeploy: true`) runs at deploy and takes no schedule. A bad " +
				"expression would fail the app stack in the middle of a rollout.",
			Example: Example{
				YAML:    "jobs:\n  nightly-report:\n    schedule: cron(0 3 * * *)\n    command: [bin/report]\n",
				Message: "cron(0 3 * * *) has 5 fields; AWS's cron takes 6: minutes hours day-of-month month day-of-week year (Unix cron has 5; AWS adds the year: append *)",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for _, n := range jobNames(v) {
					j, p := v.Spec.Jobs[n], "jobs."+n
					switch {
					case j == nil:
					case j.BeforeDeploy && j.Schedule != "":
						v.report(value(v.Pos, p+".schedule"), "job %s is a release task (beforeDeploy: true), which runs at each deploy and takes no schedule; remove one of the two", n)
					case !j.BeforeDeploy && j.Schedule == "":
						v.report(locate(v.Pos, p), "job %s has no schedule: give one, such as schedule: cron(0 3 * * ? *), or make it a release task with beforeDeploy: true", n)
					case j.Schedule != "":
						if msg := checkSchedule(j.Schedule); msg != "" {
							v.report(value(v.Pos, p+".schedule"), "%s", msg)
						}
					}
				}
			})
		},
	}
}

func ruleJobTimezone() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN612", Name: "job-timezone", Severity: Error,
			Title: "a job's timezone is an IANA time zone",
			Doc: "`timezone` is the zone a cron schedule is read in (UTC when omitted), named as the IANA time zone " +
				"database names it: Europe/Berlin, America/New_York, UTC. An abbreviation such as CET or PST is " +
				"ambiguous and EventBridge Scheduler refuses it.",
			Example: Example{
				YAML:    "jobs:\n  nightly-report:\n    schedule: cron(0 3 * * ? *)\n    timezone: Europe/Berln\n    command: [bin/report]\n",
				Message: "timezone \"Europe/Berln\" is not an IANA time zone; name one such as Europe/Berlin or America/New_York",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for _, n := range jobNames(v) {
					j := v.Spec.Jobs[n]
					if j == nil || j.Timezone == "" {
						continue
					}
					if !validZone(j.Timezone) {
						v.report(value(v.Pos, "jobs."+n+".timezone"), "timezone %q is not an IANA time zone; name one such as Europe/Berlin or America/New_York", j.Timezone)
					}
				}
			})
		},
	}
}

// validZone reports whether name is a zone of the IANA database (not
// "Local", which means the machine's).
func validZone(name string) bool {
	if name == "Local" || strings.HasPrefix(name, "/") || len(name) > 64 {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

func ruleJobSize() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN613", Name: "job-size", Severity: Error,
			Title: "a job's cpu and memory are a Fargate size",
			Doc: "A job runs as its own Fargate task, by default of the service's size (compute.cpu and " +
				"compute.memory). A job that sets its own cpu or memory needs a pair Fargate runs, as GN201 checks " +
				"for the service.",
			Example: Example{
				YAML:    "jobs:\n  migrate:\n    command: [bin/migrate]\n    beforeDeploy: true\n    cpu: 256\n    memory: 4096\n",
				Message: "job migrate: memory 4096 MiB is not a Fargate size for cpu 256; use 512, 1024 or 2048",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for _, n := range jobNames(v) {
					j, p := v.Spec.Jobs[n], "jobs."+n
					if j == nil || (!has(v.Pos, p+".cpu") && !has(v.Pos, p+".memory")) {
						continue // the service's size: GN201's
					}
					allowed := fargateMemory(j.CPU)
					if allowed == nil {
						v.report(value(v.Pos, p+".cpu"), "job %s: cpu %d is not a Fargate size; use 256, 512, 1024, 2048, 4096, 8192 or 16384", n, j.CPU)
						continue
					}
					if !slices.Contains(allowed, j.Memory) {
						v.report(value(v.Pos, p+".memory"), "job %s: memory %d MiB is not a Fargate size for cpu %d; use %s", n, j.Memory, j.CPU, describeSizes(allowed))
					}
				}
			})
		},
	}
}

func ruleJobIDs() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN614", Name: "job-logical-ids", Severity: Error,
			Title: "job names give distinct CloudFormation logical IDs",
			Doc: "A job's resources in the templates are named from the job in CamelCase (nightly-report → " +
				"JobNightlyReport…); two names that differ only in hyphens would give the same IDs.",
			Example: Example{
				YAML:    "jobs:\n  report1:\n    schedule: rate(1 day)\n    command: [a]\n  report-1:\n    schedule: rate(1 day)\n    command: [b]\n",
				Message: "job \"report-1\" gives the same CloudFormation logical IDs (JobReport1…) as \"report1\" (line 2); rename one",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				first := map[string]string{}
				for _, n := range jobNames(v) {
					stem := "Job" + naming.LogicalStem(n)
					if prev, ok := first[stem]; ok {
						v.report(locate(v.Pos, "jobs."+n), "job %q gives the same CloudFormation logical IDs (%s…) as %q (line %d); rename one", n, stem, prev, locate(v.Pos, "jobs."+prev).Line)
						continue
					}
					first[stem] = n
				}
			})
		},
	}
}
