package lint

import (
	"maps"
	"slices"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// stageSpec is the spec a stage deploys and where its values were written.
func stageSpec(d *descriptor.Descriptor, st *descriptor.Stage) (*descriptor.Spec, descriptor.Positions) {
	if st.Effective != nil && st.EffectivePos != nil {
		return st.Effective, st.EffectivePos
	}
	return &d.Spec, d.Pos
}

func ruleApprovalMultiAZ() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN306", Name: "approval-multiaz", Severity: Warning,
			Title: "a stage with `approval` runs Postgres multiAZ",
			Doc: "A stage that needs approval is production-like: a single-AZ database there goes down with its " +
				"availability zone. Set multiAZ: true, usually in the stage's overrides.",
			Example: Example{
				YAML: "resources:\n  db:\n    type: postgres\nstages:\n  - name: prod\n    account: \"777788889999\"\n" +
					"    approval: true\n    regions: [us-east-1]\n",
				Message: "stage \"prod\" needs approval but Postgres \"db\" is not multiAZ; set `overrides.resources.db.multiAZ: true` for this stage",
			},
		},
		check: func(c *checker) {
			approvalPostgres(c, func(st *descriptor.Stage, name string, pg *descriptor.Postgres, pos descriptor.Positions) {
				if !pg.MultiAZ {
					c.report(locate(pos, "resources."+name+".multiAZ"),
						"stage %q needs approval but Postgres %q is not multiAZ; set `overrides.resources.%s.multiAZ: true` for this stage", st.Name, name, name)
				}
			})
		},
	}
}

// approvalPostgres calls fn for every Postgres resource of every stage that
// needs approval, with the stage's effective settings and their positions.
func approvalPostgres(c *checker, fn func(st *descriptor.Stage, name string, pg *descriptor.Postgres, pos descriptor.Positions)) {
	for i := range c.d.Stages {
		st := &c.d.Stages[i]
		if !st.Approval {
			continue
		}
		spec, pos := stageSpec(c.d, st)
		for _, name := range slices.Sorted(maps.Keys(spec.Resources)) {
			if r := spec.Resources[name]; r != nil && r.Postgres != nil {
				fn(st, name, r.Postgres, pos)
			}
		}
	}
}
