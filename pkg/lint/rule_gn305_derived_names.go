package lint

import (
	"errors"
	"fmt"

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
		check: checkDerivedNames,
	}
}

// checkDerivedNames reports, at the stage's name or at the resource, each
// name descriptor.DerivedNames lists that AWS would refuse.
func checkDerivedNames(c *checker) {
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
		var regions []string
		for _, w := range st.Waves {
			regions = append(regions, w.Regions...)
		}
		for _, b := range badNames(descriptor.DerivedNames(d.Service, st.Name, spec, st.Account, regions)) {
			at := value(d.Pos, stagePath(i)+".name")
			pattern, parts := b.Pattern, "service or stage"
			if b.Resource != "" {
				at = locate(d.Pos, "resources."+b.Resource)
				pattern, parts = fmt.Sprintf("%s, stage %q", b.Pattern, st.Name), "service, stage or resource"
			}
			fix := "shorten the " + parts + " name"
			if _, ok := errors.AsType[*naming.LengthError](b.err); !ok {
				fix = "change the " + parts + " name"
			}
			c.report(at, "%s %q (%s) %v: %s", b.Kind.Noun(), b.Value, pattern, b.err, fix)
		}
	}
}

// badName is a derived name with why AWS would refuse it.
type badName struct {
	naming.Derived
	err error
}

// badNames keeps the names AWS would refuse, skipping those of resources
// the loader already reports (GN107). Of a resource's bucket names, one a
// region, it keeps the longest: a stage reports a bucket once.
func badNames(names []naming.Derived) []badName {
	var out []badName
	for _, n := range names {
		if n.Resource != "" && !plainName(n.Resource) {
			continue
		}
		err := n.Validate()
		if err == nil {
			continue
		}
		if k := len(out) - 1; k >= 0 && n.Resource != "" && out[k].Kind == n.Kind && out[k].Resource == n.Resource {
			if len(n.Value) > len(out[k].Value) {
				out[k] = badName{n, err}
			}
			continue
		}
		out = append(out, badName{n, err})
	}
	return out
}
