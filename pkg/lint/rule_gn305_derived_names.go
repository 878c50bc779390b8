package lint

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
)

// plainName reports whether s is made of the characters the loader allows
// in service, stage and resource names; other names are the loader's
// problem (GN107) and would only add noise here.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func ruleDerivedNames() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN305", Name: "derived-names", Severity: Error,
			Title: "names derived from service, stage and resource fit AWS's limits",
			Doc: "gantry names stacks, the target group, the log group, alarms, the RDS instance, the ElastiCache " +
				"replication group and the S3 bucket after the service, the stage and the resource (see pkg/naming). " +
				"AWS limits their length and characters: a target group name has at most 32 characters, an ElastiCache " +
				"replication group id 40 with no two hyphens in a row, an RDS instance id 63, a bucket name 63 " +
				"including account and region. The rule checks every stage and resource.",
			Example: Example{
				YAML: "service: payments-reconciliation\ncompute:\n  cpu: 256\n  memory: 512\n  port: 8080\n" +
					"routing:\n  path: /reconciliation/*\nstages:\n  - name: production\n" +
					"    account: \"777788889999\"\n    regions: [us-east-1]\n",
				Message: "target group name \"payments-reconciliation-production\" (service-stage) is 34 characters; AWS allows at most 32: shorten the service or stage name",
			},
		},
		check: func(c *checker) {
			d := c.d
			if !plainName(d.Service) {
				return
			}
			for i, st := range d.Stages {
				if !plainName(st.Name) {
					continue
				}
				spec := st.Effective
				if spec == nil {
					spec = &d.Spec
				}
				at := value(d.Pos, stagePath(i)+".name")
				check := func(sp descriptor.Span, what, name, pattern, parts string, err error) {
					if err == nil {
						return
					}
					fix := "shorten the " + parts + " name"
					if _, ok := errors.AsType[*naming.LengthError](err); !ok {
						fix = "change the " + parts + " name"
					}
					c.report(sp, "%s %q (%s) %v: %s", what, name, pattern, err, fix)
				}
				const fixStage = "service or stage"
				for _, kind := range []naming.StackKind{naming.Data, naming.App} {
					if kind == naming.Data && len(spec.Resources) == 0 {
						continue
					}
					n := naming.Stack(d.Service, st.Name, kind)
					check(at, "stack name", n, "service-stage-"+string(kind), fixStage, naming.ValidateStack(n))
				}
				web := spec.Compute.Port != nil
				if web {
					n := naming.TargetGroup(d.Service, st.Name)
					check(at, "target group name", n, "service-stage", fixStage, naming.ValidateTargetGroup(n))
				}
				n := naming.LogGroup(d.Service, st.Name)
				check(at, "log group name", n, "/gantry/service/stage", fixStage, naming.ValidateLogGroup(n))
				for _, k := range naming.AlarmKinds(web) {
					n := naming.Alarm(d.Service, st.Name, k)
					check(at, "alarm name", n, "service-stage-"+k, fixStage, naming.ValidateAlarm(n))
				}
				for _, res := range slices.Sorted(maps.Keys(spec.Resources)) {
					r := spec.Resources[res]
					if r == nil || !plainName(res) {
						continue
					}
					rat := locate(d.Pos, "resources."+res)
					const fixRes = "service, stage or resource"
					switch r.Type {
					case descriptor.TypePostgres:
						n := naming.DBInstance(d.Service, st.Name, res)
						check(rat, "RDS instance id", n, fmt.Sprintf("service-stage-resource, stage %q", st.Name), fixRes, naming.ValidateDBInstance(n))
					case descriptor.TypeRedis:
						n := naming.ReplicationGroup(d.Service, st.Name, res)
						check(rat, "ElastiCache replication group id", n, fmt.Sprintf("service-stage-resource, stage %q", st.Name), fixRes, naming.ValidateReplicationGroup(n))
					case descriptor.TypeS3:
						// Report the worst region once per stage.
						var worst string
						var worstErr error
						for _, w := range st.Waves {
							for _, region := range w.Regions {
								n := naming.Bucket(d.Service, st.Name, res, st.Account, region)
								if err := naming.ValidateBucket(n); err != nil && len(n) > len(worst) {
									worst, worstErr = n, err
								}
							}
						}
						check(rat, "S3 bucket name", worst, fmt.Sprintf("service-stage-resource-account-region, stage %q", st.Name), fixRes, worstErr)
					}
				}
			}
		},
	}
}
