package dynamodb

import "github.com/gantryhq/gantry/pkg/kind"

// ruleApprovalPITR: a production-like table without point-in-time recovery
// cannot be brought back from a bad write or a deleted item.
func ruleApprovalPITR() kind.Rule {
	return kind.Rule{
		ID: "GN315", Name: "approval-pitr", Severity: kind.Error, Approval: true,
		Title: "a stage with `approval` keeps DynamoDB point-in-time recovery",
		Doc: "A stage that needs approval is production-like: gantry renders its tables with deletion protection, " +
			"but `pointInTimeRecovery: false` leaves no way to restore a table to before a bad write or a deleted " +
			"item. Keep it on (the default) in such stages; turn it off only in stages without approval.",
		ExampleYAML: "resources:\n  orders:\n    type: dynamodb\n    partitionKey: {name: pk, type: string}\n    pointInTimeRecovery: false\n" +
			"stages:\n  - name: prod\n    account: \"777788889999\"\n    approval: true\n    regions: [us-east-1]\n",
		ExampleMessage: "stage \"prod\" needs approval but DynamoDB table \"orders\" has no point-in-time recovery; remove `pointInTimeRecovery: false` for this stage",
		Check: func(c kind.Check) {
			if s, ok := c.Self().Settings.(*Settings); ok && s.PointInTimeRecovery != nil && !*s.PointInTimeRecovery {
				c.Report("pointInTimeRecovery", "stage %q needs approval but DynamoDB table %q has no point-in-time recovery; remove `pointInTimeRecovery: false` for this stage", c.Stage(), c.Self().Name)
			}
		},
	}
}
