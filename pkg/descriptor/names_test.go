package descriptor

import (
	"fmt"
	"slices"
	"testing"
)

func TestDerivedNames(t *testing.T) {
	src := "schemaVersion: 1\nservice: shop\nteam: t\nimage: x\ncompute: {cpu: 256, memory: 512, port: 8080}\n" +
		"routing: {path: /x}\nresources:\n  files: {type: s3}\n  db: {type: postgres}\n  cache: {type: redis}\n" +
		"stages:\n  - {name: dev, account: \"111122223333\", regions: [us-east-1]}\n"
	d, probs := Parse("shop.sd.yaml", []byte(src))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	spec := &d.Spec
	var got []string
	for _, n := range DerivedNames("shop", "dev", spec, "111122223333", []string{"us-east-1", "eu-west-1"}) {
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
	for _, n := range DerivedNames("shop", "dev", &Spec{}, "", nil) {
		got = append(got, n.Value)
	}
	if want := []string{"shop-dev-app", "/gantry/shop/dev", "shop-dev-cpu"}; !slices.Equal(got, want) {
		t.Errorf("worker: Derive = %q, want %q", got, want)
	}
}
