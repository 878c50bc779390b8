package deploy

import (
	"testing"

	"github.com/gantryhq/gantry/pkg/naming"
)

func stacksOf(dataOutputs, appImports string) []DeployedStack {
	return []DeployedStack{
		{Name: "svc-dev-data", Kind: naming.Data, Template: []byte(`{"Outputs":{` + dataOutputs + `}}`)},
		{Name: "svc-dev-app", Kind: naming.App, Template: []byte(`{"Resources":{"Task":{"Properties":{"Env":[` + appImports + `]}}}}`)},
	}
}

// Going back to a data stack without an export the running app imports:
// the app stack goes back first (CloudFormation refuses to remove an
// export in use); otherwise data first, as a deploy does.
func TestRestoreOrder(t *testing.T) {
	older := &Deployment{Stacks: stacksOf(`"A":{"Export":{"Name":"svc-dev-data:A"}}`, `{"Fn::ImportValue":"svc-dev-data:A"}`)}
	newer := &Deployment{Stacks: stacksOf(`"A":{"Export":{"Name":"svc-dev-data:A"}},"B":{"Export":{"Name":"svc-dev-data:B"}}`,
		`{"Fn::ImportValue":"svc-dev-data:A"},{"Fn::ImportValue":"svc-dev-data:B"}`)}
	for _, tc := range []struct {
		name          string
		dep, running  *Deployment
		wantFirstKind naming.StackKind
	}{
		{"back to a version without B", older, newer, naming.App},
		{"forward to a version with B", newer, older, naming.Data},
		{"running unknown", older, nil, naming.Data},
		{"same exports", older, older, naming.Data},
	} {
		if got := restoreOrder(tc.dep, tc.running)[0].Kind; got != tc.wantFirstKind {
			t.Errorf("%s: %s first, want %s", tc.name, got, tc.wantFirstKind)
		}
	}
}
