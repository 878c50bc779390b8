package preflight

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/gantryhq/gantry/pkg/awsx"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/plan"
	"github.com/gantryhq/gantry/pkg/state"
)

type fakeIdentity struct{ calls int }

func (f *fakeIdentity) CallerIdentity(context.Context, string) (*awsx.Identity, error) {
	f.calls++
	return &awsx.Identity{Account: "999999999999", ARN: "arn:aws:iam::999999999999:user/me"}, nil
}

// tables has the state tables of the stages named true; a stage in errs
// cannot be reached.
type fakeStores struct {
	tables map[string]bool
	errs   map[string]error
}

func (f fakeStores) Store(_ context.Context, st plan.Stage) (*state.Store, error) {
	if err := f.errs[st.Name]; err != nil {
		return nil, err
	}
	return state.New(fakeTable{exists: f.tables[st.Name]}, ""), nil
}

type fakeTable struct {
	state.API
	exists bool
}

func (f fakeTable) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if !f.exists {
		return nil, &ddbtypes.ResourceNotFoundException{Message: new(string)}
	}
	return &dynamodb.DescribeTableOutput{}, nil
}

var stages = []plan.Stage{
	{Name: "dev", Account: "111122223333", StateRegion: "us-east-1"},
	{Name: "prod", Account: "777788889999", StateRegion: "us-west-2"},
}

func TestRunFindsEachProblemOnce(t *testing.T) {
	f, _, _ := cmdutil.TestFactory("dev")
	ctx := context.Background()
	id := &fakeIdentity{}
	denied := &awsx.AssumeRoleError{Account: "777788889999", Role: "arn:aws:iam::777788889999:role/gantry-deploy", Caller: "arn:aws:iam::999999999999:user/me",
		Err: &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole", Err: &smithy.GenericAPIError{Code: "AccessDenied"}}}

	_, err := Run(ctx, f, Check{File: "p.sd.yaml", Stages: stages, Identity: id, Stores: fakeStores{errs: map[string]error{"prod": denied}}})
	var ee *cmdutil.ExitCodeError
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitUsage || !strings.Contains(ee.Err.Error(), "cannot assume role arn:aws:iam::777788889999:role/gantry-deploy") ||
		!strings.Contains(ee.NextStep(), "trust arn:aws:iam::999999999999:user/me") {
		t.Errorf("role refused: %v (%+v)", err, ee)
	}
	if id.calls != 1 {
		t.Errorf("%d identity calls, want 1", id.calls)
	}

	_, err = Run(ctx, f, Check{File: "p.sd.yaml", Stages: stages, Identity: id, Stores: fakeStores{tables: map[string]bool{"dev": true}}})
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitUsage || ee.NextStep() != "run gantry bootstrap p.sd.yaml --stage prod (it creates the table), then run this command again" {
		t.Errorf("prod not bootstrapped: %v (%+v)", err, ee)
	}

	// status shows what it can: one stage bootstrapped is enough.
	res, err := Run(ctx, f, Check{File: "p.sd.yaml", Stages: stages, Identity: id, Stores: fakeStores{tables: map[string]bool{"dev": true}}, SomeTablesMayBeMissing: true})
	if err != nil || len(res.Missing) != 1 || res.Missing[0].Name != "prod" {
		t.Errorf("lenient: %v, missing %+v", err, res.Missing)
	}
	_, err = Run(ctx, f, Check{File: "p.sd.yaml", Stages: stages, Identity: id, Stores: fakeStores{}, SomeTablesMayBeMissing: true})
	if !errors.As(err, &ee) || !strings.Contains(ee.Err.Error(), "stages dev, prod have no state table") || !strings.Contains(ee.NextStep(), "--stage dev --stage prod") {
		t.Errorf("lenient, nothing bootstrapped: %v", err)
	}
}
