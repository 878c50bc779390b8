package postgres

import "github.com/gantryhq/gantry/pkg/kind"

// The approval rules cover what checkov cannot see in a template: which
// stage is production-like.

func ruleApprovalMultiAZ() kind.Rule {
	return kind.Rule{
		ID: "GN306", Name: "approval-multiaz", Severity: kind.Warning, Approval: true,
		Title: "a stage with `approval` runs Postgres multiAZ",
		Doc: "A stage that needs approval is production-like: a single-AZ database there goes down with its " +
			"availability zone. Set multiAZ: true, usually in the stage's overrides.",
		ExampleYAML: "resources:\n  db:\n    type: postgres\nstages:\n  - name: prod\n    account: \"777788889999\"\n" +
			"    approval: true\n    regions: [us-east-1]\n",
		ExampleMessage: "stage \"prod\" needs approval but Postgres \"db\" is not multiAZ; set `overrides.resources.db.multiAZ: true` for this stage",
		Check: func(c kind.Check) {
			if s, ok := c.Self().Settings.(*Settings); ok && !s.MultiAZ {
				name := c.Self().Name
				c.ReportKey("multiAZ", "stage %q needs approval but Postgres %q is not multiAZ; set `overrides.resources.%s.multiAZ: true` for this stage", c.Stage(), name, name)
			}
		},
	}
}

// ruleApprovalBackups: gantry gives Postgres deletion protection in every
// stage with approval, but protection from deletion is little use without
// backups to restore from.
func ruleApprovalBackups() kind.Rule {
	return kind.Rule{
		ID: "GN309", Name: "approval-backups", Severity: kind.Warning, Approval: true,
		Title: "a stage with `approval` keeps Postgres backups",
		Doc: "A stage that needs approval is production-like: gantry renders its Postgres with deletion protection " +
			"and a final snapshot, but `backupDays: 0` turns off automated backups and point-in-time recovery, so a " +
			"bad migration or a deleted table cannot be undone. Keep at least 1 day (the default is 7).",
		ExampleYAML: "resources:\n  db:\n    type: postgres\n    backupDays: 0\nstages:\n  - name: prod\n    account: \"777788889999\"\n" +
			"    approval: true\n    regions: [us-east-1]\n",
		ExampleMessage: "stage \"prod\" needs approval but Postgres \"db\" keeps no automated backups; set `backupDays` to 1 or more for this stage",
		Check: func(c kind.Check) {
			if s, ok := c.Self().Settings.(*Settings); ok && s.BackupDays != nil && *s.BackupDays == 0 {
				c.ReportKey("backupDays", "stage %q needs approval but Postgres %q keeps no automated backups; set `backupDays` to 1 or more for this stage", c.Stage(), c.Self().Name)
			}
		},
	}
}
