package lint

import "github.com/gantryhq/gantry/pkg/descriptor"

// ruleApprovalBackups covers what checkov cannot see in a CloudFormation
// template: which stage is production-like. gantry gives Postgres deletion
// protection in every stage with approval (render ties it to the stage), but
// protection from deletion is little use without backups to restore from.
func ruleApprovalBackups() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN309", Name: "approval-backups", Severity: Warning,
			Title: "a stage with `approval` keeps Postgres backups",
			Doc: "A stage that needs approval is production-like: gantry renders its Postgres with deletion protection " +
				"and a final snapshot, but `backupDays: 0` turns off automated backups and point-in-time recovery, so a " +
				"bad migration or a deleted table cannot be undone. Keep at least 1 day (the default is 7).",
			Example: Example{
				YAML: "resources:\n  db:\n    type: postgres\n    backupDays: 0\nstages:\n  - name: prod\n    account: \"777788889999\"\n" +
					"    approval: true\n    regions: [us-east-1]\n",
				Message: "stage \"prod\" needs approval but Postgres \"db\" keeps no automated backups; set `backupDays` to 1 or more for this stage",
			},
		},
		check: func(c *checker) {
			approvalPostgres(c, func(st *descriptor.Stage, name string, pg *descriptor.Postgres, pos descriptor.Positions) {
				if pg.BackupDays != nil && *pg.BackupDays == 0 {
					c.report(locate(pos, "resources."+name+".backupDays"),
						"stage %q needs approval but Postgres %q keeps no automated backups; set `backupDays` to 1 or more for this stage", st.Name, name)
				}
			})
		},
	}
}
