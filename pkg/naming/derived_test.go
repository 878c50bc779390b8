package naming

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

func TestDerive(t *testing.T) {
	port := 8080
	spec := &descriptor.Spec{
		Compute: descriptor.Compute{Port: &port},
		Resources: map[string]*descriptor.Resource{
			"files": {Type: descriptor.TypeS3, S3: &descriptor.S3{}},
			"db":    {Type: descriptor.TypePostgres, Postgres: &descriptor.Postgres{}},
			"cache": {Type: descriptor.TypeRedis, Redis: &descriptor.Redis{}},
		},
	}
	var got []string
	for _, n := range Derive("shop", "dev", spec, "111122223333", []string{"us-east-1", "eu-west-1"}) {
		got = append(got, fmt.Sprintf("%s %s (%s) %s", n.Kind, n.Value, n.Pattern, n.Resource))
	}
	want := []string{
		"stack name shop-dev-app (service-stage-app) ",
		"log group name /gantry/shop/dev (/gantry/service/stage) ",
		"stack name shop-dev-data (service-stage-data) ",
		"target group name shop-dev (service-stage) ",
		"alarm name shop-dev-5xx (service-stage-5xx) ",
		"alarm name shop-dev-unhealthy-hosts (service-stage-unhealthy-hosts) ",
		"alarm name shop-dev-cpu (service-stage-cpu) ",
		"replication group id shop-dev-cache (service-stage-resource) cache",
		"DB instance identifier shop-dev-db (service-stage-resource) db",
		"bucket name shop-dev-files-111122223333-us-east-1 (service-stage-resource-account-region) files",
		"bucket name shop-dev-files-111122223333-eu-west-1 (service-stage-resource-account-region) files",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Derive =\n%q\nwant\n%q", got, want)
	}

	// A worker without resources: no data stack, no target group, one alarm.
	got = nil
	for _, n := range Derive("shop", "dev", &descriptor.Spec{}, "", nil) {
		got = append(got, n.Value)
	}
	if want := []string{"shop-dev-app", "/gantry/shop/dev", "shop-dev-cpu"}; !slices.Equal(got, want) {
		t.Errorf("worker: Derive = %q, want %q", got, want)
	}
}

func TestKindValidate(t *testing.T) {
	if err := KindTargetGroup.Validate("payments-reconciliation-production"); err == nil {
		t.Error("a 34-character target group name passed")
	}
	n := Derived{Kind: KindBucket, Value: "shop-dev-files-111122223333-us-east-1"}
	if err := n.Validate(); err != nil {
		t.Errorf("bucket %q: %v", n.Value, err)
	}
}
