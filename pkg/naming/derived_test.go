package naming

import "testing"

func TestKindValidate(t *testing.T) {
	if err := KindTargetGroup.Validate("payments-reconciliation-production"); err == nil {
		t.Error("a 34-character target group name passed")
	}
	n := Derived{Kind: KindBucket, Value: "shop-dev-files-111122223333-us-east-1"}
	if err := n.Validate(); err != nil {
		t.Errorf("bucket %q: %v", n.Value, err)
	}
}
