package render

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/rds"
	"gopkg.in/yaml.v3"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
)

// shop is a web service with one store of each type; tests adjust it.
const shop = `
schemaVersion: 1
service: shop
team: web
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/shop
compute:
  cpu: 256
  memory: 512
  port: 8080
  healthcheck: /healthz
routing:
  path: /shop/*
env:
  DB_HOST: ${resources.db.host}
secrets:
  DB_PASSWORD: ${resources.db.password}
resources:
  db:
    type: postgres
  cache:
    type: redis
  files:
    type: s3
stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1, eu-west-1]
  - name: prod
    account: "444455556666"
    approval: true
    regions: [us-west-2]
`

func parse(t *testing.T, src string) *descriptor.Descriptor {
	t.Helper()
	d, probs := descriptor.Parse("test.sd.yaml", []byte(src))
	if len(probs) > 0 {
		t.Fatalf("test descriptor has problems: %v", probs)
	}
	return d
}

func renderOK(t *testing.T, d *descriptor.Descriptor, stage, region string) []Stack {
	t.Helper()
	stacks, err := Render(d, Target{Stage: stage, Region: region, Version: "v1"})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return stacks
}

// doc decodes a stack's JSON template.
func doc(t *testing.T, s Stack) map[string]any {
	t.Helper()
	data, err := s.Encode("json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func get(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %q: not a mapping: %v", p, v)
		}
		if v, ok = m[p]; !ok {
			t.Fatalf("no %q in %v", p, keysOf(m))
		}
	}
	return v
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func compact(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func stackOf(t *testing.T, stacks []Stack, kind naming.StackKind) Stack {
	t.Helper()
	for _, s := range stacks {
		if s.Kind == kind {
			return s
		}
	}
	t.Fatalf("no %s stack among %d", kind, len(stacks))
	return Stack{}
}

// container returns the app stack's one container definition.
func container(t *testing.T, app map[string]any) map[string]any {
	t.Helper()
	defs := get(t, app, "Resources", "TaskDefinition", "Properties", "ContainerDefinitions").([]any)
	if len(defs) != 1 {
		t.Fatalf("%d containers", len(defs))
	}
	return defs[0].(map[string]any)
}

// namedValues maps Name to the compact JSON of Value (or ValueFrom).
func namedValues(t *testing.T, list any, field string) map[string]string {
	t.Helper()
	out := map[string]string{}
	items, _ := list.([]any)
	for _, it := range items {
		m := it.(map[string]any)
		out[m["Name"].(string)] = compact(t, m[field])
	}
	return out
}

func TestPlaceholders(t *testing.T) {
	cases := []struct{ value, want string }{
		{"plain", `"plain"`},
		{"${service}-${stage}", `"shop-dev"`},
		{"${region}", `{"Ref":"AWS::Region"}`},
		{"${account}", `{"Ref":"AWS::AccountId"}`},
		{"v=${version}", `{"Fn::Join":["",["v=",{"Ref":"Version"}]]}`},
		{"${resources.db.host}", `{"Fn::ImportValue":"shop-dev-data:DbHost"}`},
		{"${resources.db.username}", `{"Fn::ImportValue":"shop-dev-data:DbUsername"}`},
		{"${resources.cache.url}", `{"Fn::ImportValue":"shop-dev-data:CacheUrl"}`},
		{"${resources.files.arn}", `{"Fn::ImportValue":"shop-dev-data:FilesBucketArn"}`},
		{"${resources.files.bucket}", `{"Fn::ImportValue":"shop-dev-data:FilesBucketName"}`},
		{"$${HOME}/${service}", `"${HOME}/shop"`},
		{"pg://${resources.db.host}:${resources.db.port}/x",
			`{"Fn::Join":["",["pg://",{"Fn::ImportValue":"shop-dev-data:DbHost"},":",{"Fn::ImportValue":"shop-dev-data:DbPort"},"/x"]]}`},
	}
	var env strings.Builder
	for i, c := range cases {
		fmt.Fprintf(&env, "  V%02d: %q\n", i, c.value)
	}
	src := strings.Replace(shop, "env:\n  DB_HOST: ${resources.db.host}\n", "env:\n"+env.String(), 1)
	src = strings.Replace(src, "image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/shop",
		`image: "${account}.dkr.ecr.${region}.amazonaws.com/shop"`, 1)
	src = strings.Replace(src, "  healthcheck: /healthz\n", "  healthcheck: /healthz\n  command: [\"run\", \"--stage=${stage}\", \"$${LITERAL}\"]\n", 1)
	app := doc(t, stackOf(t, renderOK(t, parse(t, src), "dev", "us-east-1"), naming.App))
	ct := container(t, app)
	got := namedValues(t, ct["Environment"], "Value")
	for i, c := range cases {
		if g := got[fmt.Sprintf("V%02d", i)]; g != c.want {
			t.Errorf("%q resolved to %s, want %s", c.value, g, c.want)
		}
	}
	wantImage := `{"Fn::Join":["",[{"Ref":"AWS::AccountId"},".dkr.ecr.",{"Ref":"AWS::Region"},".amazonaws.com/shop:",{"Ref":"Version"}]]}`
	if g := compact(t, ct["Image"]); g != wantImage {
		t.Errorf("image = %s, want %s", g, wantImage)
	}
	if g := compact(t, ct["Command"]); g != `["run","--stage=dev","${LITERAL}"]` {
		t.Errorf("command = %s", g)
	}
	// Environment is sorted by name.
	var names []string
	for _, e := range ct["Environment"].([]any) {
		names = append(names, e.(map[string]any)["Name"].(string))
	}
	if !slices.IsSorted(names) {
		t.Errorf("environment not sorted: %v", names)
	}
}

func TestSecrets(t *testing.T) {
	src := strings.Replace(shop, "secrets:\n  DB_PASSWORD: ${resources.db.password}\n", `secrets:
  DB_PASSWORD: ${resources.db.password}
  CACHE_AUTH: ${resources.cache.auth}
  STRIPE: ssm:/shop/stripe
  RELATIVE: ssm:shop/relative
  API: secretsmanager:shop/api
  JSON_KEY: secretsmanager:shop/creds#token
  FULL: secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:x-AbCdEf
`, 1)
	stacks := renderOK(t, parse(t, src), "dev", "us-east-1")
	app := doc(t, stackOf(t, stacks, naming.App))
	ct := container(t, app)

	ssmARN := func(name string) string {
		return `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ssm:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":parameter` + name + `"]]}`
	}
	smARN := func(name, suffix string) string {
		return `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":secretsmanager:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":secret:` + name + suffix + `"]]}`
	}
	want := map[string]string{
		"DB_PASSWORD": `{"Fn::Join":["",[{"Fn::ImportValue":"shop-dev-data:DbSecretArn"},":password::"]]}`,
		"CACHE_AUTH":  `{"Fn::Join":["",[{"Fn::ImportValue":"shop-dev-data:CacheSecretArn"},":auth::"]]}`,
		"STRIPE":      ssmARN("/shop/stripe"),
		"RELATIVE":    ssmARN("/shop/relative"),
		"API":         smARN("shop/api", ""),
		"JSON_KEY":    smARN("shop/creds", ":token::"),
		"FULL":        `"arn:aws:secretsmanager:us-east-1:111122223333:secret:x-AbCdEf"`,
	}
	got := namedValues(t, ct["Secrets"], "ValueFrom")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("secrets:\n got %v\nwant %v", got, want)
	}
	// Secrets are never plain environment variables.
	env := namedValues(t, ct["Environment"], "Value")
	for name := range want {
		if _, ok := env[name]; ok {
			t.Errorf("secret %s is also a plain environment variable", name)
		}
	}

	// The execution role reads exactly these secrets, and nothing by "*".
	stmts := get(t, app, "Resources", "ExecutionRole", "Properties", "Policies").([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)
	resources := map[string][]string{}
	for _, s := range stmts {
		m := s.(map[string]any)
		action := m["Action"].([]any)[0].(string)
		for _, r := range m["Resource"].([]any) {
			resources[action] = append(resources[action], compact(t, r))
		}
	}
	wantRes := map[string][]string{
		"ssm:GetParameters": {ssmARN("/shop/relative"), ssmARN("/shop/stripe")},
		"secretsmanager:GetSecretValue": {
			smARN("shop/api", "-??????"),
			`{"Fn::ImportValue":"shop-dev-data:CacheSecretArn"}`,
			`{"Fn::ImportValue":"shop-dev-data:DbSecretArn"}`,
			`"arn:aws:secretsmanager:us-east-1:111122223333:secret:x-AbCdEf"`,
			smARN("shop/creds", "-??????"),
		},
		// The Redis AUTH secret is encrypted with the data stack's key.
		"kms:Decrypt": {`{"Fn::ImportValue":"shop-dev-data:SecretsKeyArn"}`},
	}
	if !reflect.DeepEqual(resources, wantRes) {
		t.Errorf("execution role resources:\n got %v\nwant %v", resources, wantRes)
	}
	for _, role := range []string{"ExecutionRole", "TaskRole"} {
		for _, p := range get(t, app, "Resources", role, "Properties", "Policies").([]any) {
			for _, s := range p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				if r := compact(t, s.(map[string]any)["Resource"]); strings.Contains(r, "*\"") && !strings.Contains(r, "/*") {
					t.Errorf("%s grants a wildcard resource: %s", role, r)
				}
			}
		}
	}

	// The data stack exports secret ARNs, never values.
	data := doc(t, stackOf(t, stacks, naming.Data))
	outs := compact(t, data["Outputs"])
	for _, bad := range []string{"{{resolve", "SecretString", "MasterUserPassword"} {
		if strings.Contains(outs, bad) {
			t.Errorf("data stack outputs mention %s: %s", bad, outs)
		}
	}
	if g := compact(t, get(t, data, "Outputs", "DbSecretArn", "Value")); g != `{"Fn::GetAtt":["DbInstance","MasterUserSecret.SecretArn"]}` {
		t.Errorf("DbSecretArn = %s", g)
	}
	if g := compact(t, get(t, data, "Outputs", "CacheSecretArn", "Value")); g != `{"Ref":"CacheAuthSecret"}` {
		t.Errorf("CacheSecretArn = %s", g)
	}
	if g := compact(t, get(t, data, "Resources", "CacheReplicationGroup", "Properties", "AuthToken")); g != `{"Fn::Join":["",["{{resolve:secretsmanager:",{"Ref":"CacheAuthSecret"},":SecretString:auth}}"]]}` {
		t.Errorf("AuthToken = %s", g)
	}
}

func TestSecretOutputInEnvIsRefused(t *testing.T) {
	for _, v := range []string{"${resources.db.password}", "x${resources.cache.auth}"} {
		d := parse(t, shop)
		d.SpecFor("dev").Env["LEAK"] = v
		_, err := Render(d, Target{Stage: "dev", Region: "us-east-1"})
		if err == nil || !strings.Contains(err.Error(), "env.LEAK") || !strings.Contains(err.Error(), "secret") {
			t.Errorf("env %q: got %v, want a secret-in-env error", v, err)
		}
	}
	d := parse(t, shop)
	d.SpecFor("dev").Secrets["HOST"] = "${resources.db.host}"
	if _, err := Render(d, Target{Stage: "dev", Region: "us-east-1"}); err == nil || !strings.Contains(err.Error(), "not a secret") {
		t.Errorf("non-secret output under secrets: got %v", err)
	}
}

func TestNoResourcesNoDataStack(t *testing.T) {
	src := strings.Replace(shop, `env:
  DB_HOST: ${resources.db.host}
secrets:
  DB_PASSWORD: ${resources.db.password}
resources:
  db:
    type: postgres
  cache:
    type: redis
  files:
    type: s3
`, "", 1)
	stacks := renderOK(t, parse(t, src), "dev", "us-east-1")
	if len(stacks) != 1 || stacks[0].Kind != naming.App || stacks[0].Name != "shop-dev-app" {
		t.Fatalf("want only shop-dev-app, got %d stacks", len(stacks))
	}
	data, err := stacks[0].Encode("json")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("Fn::ImportValue")) {
		t.Error("app stack imports from a data stack that does not exist")
	}
	app := doc(t, stacks[0])
	groups := get(t, app, "Resources", "Service", "Properties", "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups").([]any)
	if len(groups) != 1 {
		t.Errorf("tasks join %d security groups, want only their own", len(groups))
	}
	if _, ok := get(t, app, "Resources", "TaskRole", "Properties").(map[string]any)["Policies"]; ok {
		t.Error("task role has policies though the service has no buckets")
	}
}

func TestWorker(t *testing.T) {
	src := strings.Replace(shop, "  port: 8080\n  healthcheck: /healthz\n", "", 1)
	src = strings.Replace(src, "routing:\n  path: /shop/*\n", "", 1)
	app := doc(t, stackOf(t, renderOK(t, parse(t, src), "dev", "us-east-1"), naming.App))
	res := app["Resources"].(map[string]any)
	for _, id := range []string{"TargetGroup", "ListenerRule", "ErrorRateAlarm", "UnhealthyHostsAlarm"} {
		if _, ok := res[id]; ok {
			t.Errorf("worker has %s", id)
		}
	}
	if _, ok := res["CpuAlarm"]; !ok {
		t.Error("worker has no CPU alarm")
	}
	params := app["Parameters"].(map[string]any)
	for _, p := range []string{"AlbListenerArn", "AlbSecurityGroup", "ListenerRulePriority"} {
		if _, ok := params[p]; ok {
			t.Errorf("worker has parameter %s", p)
		}
	}
	svc := res["Service"].(map[string]any)
	if _, ok := svc["DependsOn"]; ok {
		t.Error("worker service depends on something")
	}
	if _, ok := svc["Properties"].(map[string]any)["LoadBalancers"]; ok {
		t.Error("worker service has load balancers")
	}
	if _, ok := container(t, app)["PortMappings"]; ok {
		t.Error("worker container maps a port")
	}
	if _, ok := get(t, res, "ServiceSecurityGroup", "Properties").(map[string]any)["SecurityGroupIngress"]; ok {
		t.Error("worker security group admits traffic")
	}
}

func TestWeb(t *testing.T) {
	src := strings.Replace(shop, "routing:\n  path: /shop/*\n", "routing:\n  path: /shop/*\n  host: shop.example.com\n", 1)
	app := doc(t, stackOf(t, renderOK(t, parse(t, src), "prod", "us-west-2"), naming.App))
	res := app["Resources"].(map[string]any)
	if g := compact(t, get(t, res, "ListenerRule", "Properties", "Priority")); g != `{"Ref":"ListenerRulePriority"}` {
		t.Errorf("priority = %s", g)
	}
	if g := get(t, app, "Parameters", "ListenerRulePriority", "Default"); g != fmt.Sprint(RulePriority("shop", "prod")) {
		t.Errorf("priority default = %v", g)
	}
	if g := compact(t, get(t, res, "ListenerRule", "Properties", "Conditions")); g != `[{"Field":"host-header","HostHeaderConfig":{"Values":["shop.example.com"]}},{"Field":"path-pattern","PathPatternConfig":{"Values":["/shop/*"]}}]` {
		t.Errorf("conditions = %s", g)
	}
	if g := compact(t, get(t, res, "Service", "DependsOn")); g != `["ListenerRule"]` {
		t.Errorf("service DependsOn = %s", g)
	}
	tg := get(t, res, "TargetGroup", "Properties").(map[string]any)
	if tg["Name"] != "shop-prod" || tg["TargetType"] != "ip" || tg["HealthCheckPath"] != "/healthz" {
		t.Errorf("target group = %v", tg)
	}
	for id, name := range map[string]string{"ErrorRateAlarm": "shop-prod-5xx", "UnhealthyHostsAlarm": "shop-prod-unhealthy-hosts", "CpuAlarm": "shop-prod-cpu"} {
		if g := get(t, res, id, "Properties", "AlarmName"); g != name {
			t.Errorf("%s name = %v, want %s", id, g, name)
		}
	}
	metrics := compact(t, get(t, res, "ErrorRateAlarm", "Properties", "Metrics"))
	for _, want := range []string{"HTTPCode_Target_5XX_Count", "RequestCount", `"Expression":"100 * FILL(errors, 0) / requests"`, `"Fn::Split":["/",{"Ref":"AlbListenerArn"}]`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("5xx alarm metrics lack %s: %s", want, metrics)
		}
	}
	ingress := compact(t, get(t, res, "ServiceSecurityGroup", "Properties", "SecurityGroupIngress"))
	if ingress != `[{"Description":"From the platform load balancer","FromPort":8080,"IpProtocol":"tcp","SourceSecurityGroupId":{"Ref":"AlbSecurityGroup"},"ToPort":8080}]` {
		t.Errorf("ingress = %s", ingress)
	}
	svc := get(t, res, "Service", "Properties").(map[string]any)
	if compact(t, svc["DeploymentConfiguration"].(map[string]any)["DeploymentCircuitBreaker"]) != `{"Enable":true,"Rollback":true}` {
		t.Error("no circuit breaker with rollback")
	}
	if compact(t, svc["DesiredCount"]) != "2" {
		t.Errorf("desired count = %v, want scaling.min", svc["DesiredCount"])
	}
	// Tasks run in the private subnets, a Ref to the list parameter itself.
	if g := compact(t, get(t, svc, "NetworkConfiguration", "AwsvpcConfiguration")); g != `{"AssignPublicIp":"DISABLED","SecurityGroups":[{"Fn::GetAtt":["ServiceSecurityGroup","GroupId"]},{"Fn::ImportValue":"shop-prod-data:ClientSecurityGroupId"}],"Subnets":{"Ref":"PrivateSubnets"}}` {
		t.Errorf("awsvpc = %s", g)
	}
	if g := compact(t, get(t, res, "LogGroup", "Properties", "RetentionInDays")); g != "30" {
		t.Errorf("log retention = %s", g)
	}
}

func TestRulePriority(t *testing.T) {
	seen := map[int]bool{}
	for i := range 2000 {
		p := RulePriority(fmt.Sprintf("svc-%d", i), "prod")
		if p < MinRulePriority || p > MaxRulePriority {
			t.Fatalf("priority %d out of range", p)
		}
		seen[p] = true
	}
	if len(seen) < 1900 {
		t.Errorf("only %d distinct priorities for 2000 services", len(seen))
	}
	if RulePriority("shop", "prod") != RulePriority("shop", "prod") || RulePriority("shop", "prod") == RulePriority("shop", "dev") {
		t.Error("priority not a function of service and stage")
	}
}

func TestDeterministic(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "fixtures", "ledger.sd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for i := range 5 {
		d := parse(t, string(src))
		var all []byte
		for _, s := range renderOK(t, d, "prod", "us-west-2") {
			for _, f := range []string{"json", "yaml"} {
				data, err := s.Encode(f)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, data...)
			}
			p, err := s.EncodeParameters()
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, p...)
		}
		if i == 0 {
			first = all
		} else if !bytes.Equal(first, all) {
			t.Fatalf("render %d differs from the first:\n%s", i, firstDiff(first, all))
		}
	}
}

func TestStatefulResourcesKeepData(t *testing.T) {
	data := doc(t, stackOf(t, renderOK(t, parse(t, shop), "dev", "us-east-1"), naming.Data))
	want := map[string]string{
		"DbInstance":            "Snapshot",
		"CacheReplicationGroup": "Snapshot",
		"CacheAuthSecret":       "Retain",
		"FilesBucket":           "Retain",
	}
	for id, policy := range want {
		r := get(t, data, "Resources", id).(map[string]any)
		if r["DeletionPolicy"] != policy || r["UpdateReplacePolicy"] != policy {
			t.Errorf("%s: DeletionPolicy %v, UpdateReplacePolicy %v, want %s", id, r["DeletionPolicy"], r["UpdateReplacePolicy"], policy)
		}
	}
	db := get(t, data, "Resources", "DbInstance", "Properties").(map[string]any)
	for k, v := range map[string]any{"StorageEncrypted": true, "PubliclyAccessible": false, "ManageMasterUserPassword": true,
		"CopyTagsToSnapshot": true, "DBInstanceIdentifier": "shop-dev-db", "Engine": "postgres", "EngineVersion": "16",
		"DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20", "BackupRetentionPeriod": 7.0, "MultiAZ": false} {
		if !reflect.DeepEqual(db[k], v) {
			t.Errorf("DbInstance %s = %v, want %v", k, db[k], v)
		}
	}
	ingress := compact(t, get(t, data, "Resources", "StoreSecurityGroup", "Properties", "SecurityGroupIngress"))
	for _, port := range []string{`"FromPort":5432`, `"FromPort":6379`} {
		if !strings.Contains(ingress, port) {
			t.Errorf("store security group lacks %s: %s", port, ingress)
		}
	}
	if strings.Contains(ingress, "CidrIp") {
		t.Errorf("store security group admits an address range: %s", ingress)
	}
}

func TestDeletionProtection(t *testing.T) {
	cases := []struct {
		stage   string
		multiAZ bool
		want    bool
	}{
		{"dev", false, false},
		{"dev", true, true},
		{"prod", false, true}, // prod needs approval
	}
	for _, c := range cases {
		src := strings.Replace(shop, "  db:\n    type: postgres\n", fmt.Sprintf("  db:\n    type: postgres\n    multiAZ: %v\n", c.multiAZ), 1)
		region := "us-east-1"
		if c.stage == "prod" {
			region = "us-west-2"
		}
		data := doc(t, stackOf(t, renderOK(t, parse(t, src), c.stage, region), naming.Data))
		if g := get(t, data, "Resources", "DbInstance", "Properties", "DeletionProtection"); g != c.want {
			t.Errorf("stage %s multiAZ %v: DeletionProtection %v, want %v", c.stage, c.multiAZ, g, c.want)
		}
	}
}

func TestRedisReplicas(t *testing.T) {
	for _, c := range []struct {
		replicas, clusters int
		failover           bool
	}{{0, 1, false}, {2, 3, true}} {
		src := strings.Replace(shop, "  cache:\n    type: redis\n", fmt.Sprintf("  cache:\n    type: redis\n    replicas: %d\n", c.replicas), 1)
		data := doc(t, stackOf(t, renderOK(t, parse(t, src), "dev", "us-east-1"), naming.Data))
		rg := get(t, data, "Resources", "CacheReplicationGroup", "Properties").(map[string]any)
		if rg["NumCacheClusters"] != float64(c.clusters) || rg["AutomaticFailoverEnabled"] != c.failover || rg["MultiAZEnabled"] != c.failover {
			t.Errorf("replicas %d: %v", c.replicas, rg)
		}
		if rg["AtRestEncryptionEnabled"] != true || rg["TransitEncryptionEnabled"] != true || rg["ReplicationGroupId"] != "shop-dev-cache" {
			t.Errorf("replication group = %v", rg)
		}
	}
	data := doc(t, stackOf(t, renderOK(t, parse(t, shop), "dev", "us-east-1"), naming.Data))
	gen := compact(t, get(t, data, "Resources", "CacheAuthSecret", "Properties", "GenerateSecretString"))
	if gen != `{"ExcludePunctuation":true,"GenerateStringKey":"auth","PasswordLength":64,"SecretStringTemplate":"{}"}` {
		t.Errorf("GenerateSecretString = %s", gen)
	}
}

func TestBucket(t *testing.T) {
	cases := []struct {
		yaml, versioning, rules string
	}{
		{"", "Enabled", `[{"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7},"Id":"abort-incomplete-multipart-uploads","Status":"Enabled"}]`},
		{"    versioning: false\n    expireDays: 30\n", "Suspended",
			`[{"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7},"Id":"abort-incomplete-multipart-uploads","Status":"Enabled"},{"ExpirationInDays":30,"Id":"expire-objects","Status":"Enabled"}]`},
		{"    expireDays: 9\n", "Enabled",
			`[{"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7},"Id":"abort-incomplete-multipart-uploads","Status":"Enabled"},{"ExpirationInDays":9,"Id":"expire-objects","NoncurrentVersionExpiration":{"NoncurrentDays":9},"Status":"Enabled"}]`},
	}
	for _, c := range cases {
		src := strings.Replace(shop, "  files:\n    type: s3\n", "  files:\n    type: s3\n"+c.yaml, 1)
		data := doc(t, stackOf(t, renderOK(t, parse(t, src), "dev", "eu-west-1"), naming.Data))
		b := get(t, data, "Resources", "FilesBucket", "Properties").(map[string]any)
		if g := get(t, b, "VersioningConfiguration", "Status"); g != c.versioning {
			t.Errorf("%q: versioning %v, want %s", c.yaml, g, c.versioning)
		}
		if g := compact(t, get(t, b, "LifecycleConfiguration", "Rules")); g != c.rules {
			t.Errorf("%q: rules %s\nwant %s", c.yaml, g, c.rules)
		}
		if g := compact(t, b["PublicAccessBlockConfiguration"]); g != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
			t.Errorf("public access block = %s", g)
		}
		if b["BucketName"] != "shop-dev-files-111122223333-eu-west-1" {
			t.Errorf("bucket name = %v", b["BucketName"])
		}
		if g := compact(t, get(t, b, "OwnershipControls")); g != `{"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]}` {
			t.Errorf("ownership = %s", g)
		}
		pol := compact(t, get(t, data, "Resources", "FilesBucketPolicy", "Properties", "PolicyDocument"))
		if !strings.Contains(pol, `"Effect":"Deny"`) || !strings.Contains(pol, `"aws:SecureTransport":"false"`) {
			t.Errorf("bucket policy does not deny plain HTTP: %s", pol)
		}
	}
	// The task role reaches only the service's own bucket.
	app := doc(t, stackOf(t, renderOK(t, parse(t, shop), "dev", "us-east-1"), naming.App))
	pol := compact(t, get(t, app, "Resources", "TaskRole", "Properties", "Policies"))
	want := `[{"PolicyDocument":{"Statement":[{"Action":["s3:GetBucketLocation","s3:ListBucket"],"Effect":"Allow","Resource":[{"Fn::ImportValue":"shop-dev-data:FilesBucketArn"}],"Sid":"ListBuckets"},{"Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:GetObject","s3:PutObject"],"Effect":"Allow","Resource":[{"Fn::Join":["",[{"Fn::ImportValue":"shop-dev-data:FilesBucketArn"},"/*"]]}],"Sid":"UseObjects"}],"Version":"2012-10-17"},"PolicyName":"service-buckets"}]`
	if pol != want {
		t.Errorf("task role policies:\n got %s\nwant %s", pol, want)
	}
}

func TestTags(t *testing.T) {
	stacks := renderOK(t, parse(t, shop), "dev", "us-east-1")
	for _, s := range stacks {
		d := doc(t, s)
		tagged := 0
		for id, r := range d["Resources"].(map[string]any) {
			tags, ok := r.(map[string]any)["Properties"].(map[string]any)["Tags"]
			if !ok {
				continue
			}
			tagged++
			var keys []string
			for _, tg := range tags.([]any) {
				keys = append(keys, tg.(map[string]any)["Key"].(string))
			}
			want := []string{TagService, TagStage, TagTeam}
			if s.Kind == naming.App {
				want = append(want, TagVersion)
			}
			if !slices.Equal(keys, want) {
				t.Errorf("%s %s tags %v, want %v", s.Name, id, keys, want)
			}
		}
		if tagged < 5 {
			t.Errorf("%s: only %d tagged resources", s.Name, tagged)
		}
	}
	// Only the version changes between two versions' renders of the data
	// stack: nothing, so a version-only deploy leaves it alone.
	d := parse(t, shop)
	a, _ := Render(d, Target{Stage: "dev", Region: "us-east-1", Version: "v1"})
	b, _ := Render(d, Target{Stage: "dev", Region: "us-east-1", Version: "v2"})
	ja, _ := a[0].Encode("json")
	jb, _ := b[0].Encode("json")
	if a[0].Kind != naming.Data || !bytes.Equal(ja, jb) {
		t.Error("data stack changes with the version")
	}
	if a[1].Parameters["Version"] != "v1" || b[1].Parameters["Version"] != "v2" {
		t.Error("app stack parameters do not carry the version")
	}
}

func TestEncodeFormats(t *testing.T) {
	for _, s := range renderOK(t, parse(t, shop), "dev", "us-east-1") {
		j, err := s.Encode("json")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(j, []byte("}\n")) || !bytes.HasPrefix(j, []byte("{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n")) {
			t.Errorf("json not 2-space indented with a trailing newline:\n%.80s", j)
		}
		if bytes.Contains(j, []byte(`\u003c`)) {
			t.Error("json escapes < as \\u003c")
		}
		y, err := s.Encode("yaml")
		if err != nil {
			t.Fatal(err)
		}
		var fromJSON, fromYAML any
		if err := json.Unmarshal(j, &fromJSON); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(y, &fromYAML); err != nil {
			t.Fatal(err)
		}
		// Compare through JSON so numbers read alike.
		yj, err := json.Marshal(fromYAML)
		if err != nil {
			t.Fatal(err)
		}
		var norm any
		_ = json.Unmarshal(yj, &norm)
		if !reflect.DeepEqual(fromJSON, norm) {
			t.Errorf("%s: yaml and json templates differ", s.Name)
		}
		if _, err := s.Encode("xml"); err == nil {
			t.Error("xml format accepted")
		}
	}
}

func TestEncodeParameters(t *testing.T) {
	stacks := renderOK(t, parse(t, shop), "dev", "us-east-1")
	data, err := stacks[0].EncodeParameters()
	if err != nil || string(data) != "[]\n" {
		t.Errorf("data parameters = %q, %v", data, err)
	}
	s := Stack{Parameters: map[string]string{"Version": "v1", "A": "x"}}
	data, err = s.EncodeParameters()
	want := "[\n  {\n    \"ParameterKey\": \"A\",\n    \"ParameterValue\": \"x\"\n  },\n  {\n    \"ParameterKey\": \"Version\",\n    \"ParameterValue\": \"v1\"\n  }\n]\n"
	if err != nil || string(data) != want {
		t.Errorf("parameters = %s, %v", data, err)
	}
}

// A literal that happens to look like goformation's encoding of a function
// stays a literal.
func TestLookalikeLiteralStaysLiteral(t *testing.T) {
	tok := base64.StdEncoding.EncodeToString([]byte(`{"Ref":"Version"}`))
	d := parse(t, shop)
	d.SpecFor("dev").Env["TRICK"] = tok
	app := doc(t, stackOf(t, renderOK(t, d, "dev", "us-east-1"), naming.App))
	if g := namedValues(t, container(t, app)["Environment"], "Value")["TRICK"]; g != `"`+tok+`"` {
		t.Errorf("lookalike became %s", g)
	}
}

func TestListParametersNotNested(t *testing.T) {
	data := doc(t, stackOf(t, renderOK(t, parse(t, shop), "dev", "us-east-1"), naming.Data))
	for _, p := range [][]string{{"DbSubnetGroup", "SubnetIds"}, {"CacheSubnetGroup", "SubnetIds"}} {
		if g := compact(t, get(t, data, "Resources", p[0], "Properties", p[1])); g != `{"Ref":"PrivateSubnets"}` {
			t.Errorf("%s.%s = %s", p[0], p[1], g)
		}
	}
}

func TestLogicalIDs(t *testing.T) {
	for in, want := range map[string]string{"db": "Db", "user-db": "UserDb", "a1-b2": "A1B2", "x": "X"} {
		if g := logicalStem(in); g != want {
			t.Errorf("logicalStem(%q) = %q, want %q", in, g, want)
		}
	}
	src := strings.Replace(shop, "  files:\n    type: s3\n", "  a1b:\n    type: s3\n  a-1b:\n    type: s3\n", 1)
	_, err := Render(parse(t, src), Target{Stage: "dev", Region: "us-east-1"})
	if err == nil || !strings.Contains(err.Error(), "logical ID") {
		t.Errorf("colliding resource names: got %v", err)
	}
}

func TestRenderErrors(t *testing.T) {
	cases := []struct {
		name   string
		change func(d *descriptor.Descriptor)
		target Target
		want   string
	}{
		{"unknown stage", nil, Target{Stage: "qa", Region: "us-east-1"}, `unknown stage "qa": the descriptor's stages are dev, prod`},
		{"region not in stage", nil, Target{Stage: "prod", Region: "us-east-1"}, `region "us-east-1" is not in stage "prod" (its regions: us-west-2)`},
		{"bad version", nil, Target{Stage: "dev", Region: "us-east-1", Version: "-bad tag"}, "not a valid image tag"},
		{"tagged image", func(d *descriptor.Descriptor) { d.SpecFor("dev").Image = "repo/shop:1.2" }, Target{Stage: "dev", Region: "us-east-1"}, "carries a tag"},
		{"port without routing", func(d *descriptor.Descriptor) { d.SpecFor("dev").Routing = nil }, Target{Stage: "dev", Region: "us-east-1"}, "routing"},
		{"undeclared resource", func(d *descriptor.Descriptor) { d.SpecFor("dev").Env["X"] = "${resources.nope.host}" }, Target{Stage: "dev", Region: "us-east-1"}, `names resource "nope"`},
		{"missing output", func(d *descriptor.Descriptor) { d.SpecFor("dev").Env["X"] = "${resources.files.host}" }, Target{Stage: "dev", Region: "us-east-1"}, `has no output "host"`},
		{"name too long", func(d *descriptor.Descriptor) { d.Service = strings.Repeat("s", 30) }, Target{Stage: "dev", Region: "us-east-1"}, "target group name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := parse(t, shop)
			if c.change != nil {
				c.change(d)
			}
			_, err := Render(d, c.target)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	if _, err := Render(nil, Target{}); err == nil {
		t.Error("nil descriptor rendered")
	}
}

func TestWriteAll(t *testing.T) {
	d := parse(t, shop)
	dir := t.TempDir()
	paths, err := WriteAll(d, dir, Options{Regions: []string{"eu-west-1"}, Format: "yaml"})
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, p := range paths {
		r, _ := filepath.Rel(dir, p)
		rel = append(rel, filepath.ToSlash(r))
	}
	want := []string{
		"dev/eu-west-1/shop-dev-app.parameters.json",
		"dev/eu-west-1/shop-dev-app.template.yaml",
		"dev/eu-west-1/shop-dev-data.parameters.json",
		"dev/eu-west-1/shop-dev-data.template.yaml",
	}
	if !slices.Equal(rel, want) {
		t.Errorf("wrote %v, want %v", rel, want)
	}
	params, _ := os.ReadFile(filepath.Join(dir, "dev/eu-west-1/shop-dev-app.parameters.json"))
	if !strings.Contains(string(params), `"ParameterValue": "latest"`) {
		t.Errorf("default version not latest: %s", params)
	}

	targets, err := Targets(d, Options{Stages: []string{"prod", "dev"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range targets {
		got = append(got, tg.Stage+"/"+tg.Region+"/"+tg.Account)
	}
	if !slices.Equal(got, []string{"dev/us-east-1/111122223333", "dev/eu-west-1/111122223333", "prod/us-west-2/444455556666"}) {
		t.Errorf("targets = %v", got)
	}

	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Stages: []string{"qa"}}, `unknown stage "qa"`},
		{Options{Stages: []string{"prod"}, Regions: []string{"eu-west-1"}}, `region "eu-west-1" is not in stage "prod" (its regions: us-west-2)`},
		{Options{Regions: []string{"mars-1"}}, `region "mars-1" is in none of the stages dev, prod`},
		{Options{Format: "toml"}, `unknown template format "toml"`},
	} {
		empty := t.TempDir()
		if _, err := WriteAll(d, empty, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.o, err, c.want)
		}
		if entries, _ := os.ReadDir(empty); len(entries) > 0 {
			t.Errorf("%+v: wrote files despite the error", c.o)
		}
	}
}

// A Stack built by hand with goformation's own intrinsic helpers encodes too.
func TestHandBuiltStack(t *testing.T) {
	tpl := cloudformation.NewTemplate()
	tpl.Parameters["Subnets"] = cloudformation.Parameter{Type: "List<AWS::EC2::Subnet::Id>"}
	tpl.Resources["Group"] = &rds.DBSubnetGroup{
		DBSubnetGroupDescription: cloudformation.Join("-", []string{"a", cloudformation.Ref("AWS::Region")}),
		SubnetIds:                []string{cloudformation.Ref("Subnets")},
	}
	data, err := Stack{Name: "x", Template: tpl}.Encode("json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	props := compact(t, get(t, m, "Resources", "Group", "Properties"))
	if props != `{"DBSubnetGroupDescription":{"Fn::Join":["-",["a",{"Ref":"AWS::Region"}]]},"SubnetIds":{"Ref":"Subnets"}}` {
		t.Errorf("properties = %s", props)
	}
}
