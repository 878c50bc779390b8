package deploy

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/iostreams"
)

// Data loss stands out in red in what an approval shows.
func TestDescribeApprovalShowsDataLossInRed(t *testing.T) {
	req := deploy.ApprovalRequest{
		Stage: "prod", Version: "2.0.0", Account: "777788889999", Regions: []string{"us-west-2"},
		Preview: func(context.Context) (*deploy.Preview, error) {
			return &deploy.Preview{
				Regions: []deploy.RegionPreview{{Region: "us-west-2", Stacks: []deploy.StackPreview{
					{Name: "payments-prod-data", Kind: "data", Action: "update", Changes: []deploy.Change{
						{Action: "Modify", LogicalID: "DbInstance", Type: "AWS::RDS::DBInstance", Replacement: "True", DataLoss: true},
					}},
					{Name: "payments-prod-app", Kind: "app", Action: "update", Changes: []deploy.Change{{Action: "Modify"}, {Action: "Modify"}}},
				}}},
				Summary: deploy.PreviewSummary{Changes: 3, DataLoss: 1},
			}, nil
		},
	}
	var b bytes.Buffer
	cs := iostreams.NewColorScheme(true)
	describeApproval(context.Background(), &b, cs, req)
	out := b.String()
	for _, want := range []string{
		"Stage prod needs approval: version 2.0.0 to account 777788889999, 1 region: us-west-2",
		"plan: data: update in 1 region (1 change); app: update in 1 region (2 changes); 1 replace or delete data",
		cs.Paint(iostreams.Danger, "  ! data loss in us-west-2: replace DbInstance (AWS::RDS::DBInstance) of payments-prod-data"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}
