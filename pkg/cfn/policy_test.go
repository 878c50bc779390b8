package cfn_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gantryhq/gantry/pkg/cfn"
)

func TestStackPolicyDenyingReplacement(t *testing.T) {
	var got map[string]any
	if err := json.Unmarshal([]byte(cfn.StackPolicyDenyingReplacement([]string{"Db", "Cache", "Db"})), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Statement": []any{
		map[string]any{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
		map[string]any{"Effect": "Deny", "Action": []any{"Update:Replace", "Update:Delete"}, "Principal": "*",
			"Resource": []any{"LogicalResourceId/Cache", "LogicalResourceId/Db"}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("policy = %v\nwant %v", got, want)
	}
	if a, b := cfn.StackPolicyDenyingReplacement([]string{"B", "A"}), cfn.StackPolicyDenyingReplacement([]string{"A", "B"}); a != b {
		t.Errorf("policy depends on input order:\n%s\n%s", a, b)
	}
	if got := cfn.StackPolicyDenyingReplacement(nil); got != cfn.AllowAllStackPolicy {
		t.Errorf("no stateful resources: %s; want the allow-all policy", got)
	}
}
