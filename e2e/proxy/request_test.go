package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseCall(t *testing.T) {
	auth := func(region, service string) string {
		return "AWS4-HMAC-SHA256 Credential=AKID/20260101/" + region + "/" + service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
	}
	tests := []struct {
		name     string
		req      func() *http.Request
		body     string
		key      string
		region   string
		protocol protocol
		query    bool
	}{
		{"query", func() *http.Request {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("Authorization", auth("eu-west-1", "cloudformation"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			return r
		}, "Action=DescribeStacks&Version=2010-05-15", "cloudformation:DescribeStacks", "eu-west-1", protoQuery, false},
		{"ec2", func() *http.Request {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("Authorization", auth("us-east-1", "ec2"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, "Action=DescribeVpcs&Version=2016-11-15", "ec2:DescribeVpcs", "us-east-1", protoEC2, false},
		{"json", func() *http.Request {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("Authorization", auth("ap-south-1", "dynamodb"))
			r.Header.Set("Content-Type", "application/x-amz-json-1.0")
			r.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
			return r
		}, "{}", "dynamodb:PutItem", "ap-south-1", protoJSON, false},
		{"cbor", func() *http.Request {
			r := httptest.NewRequest("POST", "/service/GraniteServiceVersion20100801/operation/DescribeAlarms", nil)
			r.Header.Set("Authorization", auth("us-west-2", "monitoring"))
			r.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
			r.Header.Set("X-Amzn-Query-Mode", "true")
			return r
		}, "", "monitoring:DescribeAlarms", "us-west-2", protoCBOR, true},
		{"presigned get", func() *http.Request {
			return httptest.NewRequest("GET", "/?Action=GetCallerIdentity&X-Amz-Credential=AKID%2F20260101%2Feu-north-1%2Fsts%2Faws4_request", nil)
		}, "", "sts:GetCallerIdentity", "eu-north-1", protoQuery, false},
		{"rest", func() *http.Request {
			r := httptest.NewRequest("PUT", "/bucket/key", nil)
			r.Header.Set("Authorization", auth("us-east-1", "s3"))
			return r
		}, "data", "s3:PUT", "us-east-1", protoREST, false},
		{"unsigned", func() *http.Request { return httptest.NewRequest("POST", "/moto-api/reset", nil) }, "", "unknown:POST", "", protoREST, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseCall(tt.req(), []byte(tt.body))
			if c.Key() != tt.key || c.Region != tt.region || c.Protocol != tt.protocol || c.QueryMode != tt.query {
				t.Errorf("got key %q region %q protocol %d query %v; want %q %q %d %v", c.Key(), c.Region, c.Protocol, c.QueryMode, tt.key, tt.region, tt.protocol, tt.query)
			}
		})
	}
}

func TestMatchOperation(t *testing.T) {
	c := &call{Service: "cloudformation", Operation: "DescribeStacks"}
	for pattern, want := range map[string]bool{
		"": true, "*": true, "cloudformation:*": true, "cloudformation:DescribeStacks": true,
		"DescribeStacks": true, "Describe*": true, "dynamodb:*": false, "cloudformation:ListStacks": false,
		"ListStacks": false,
	} {
		if got := matchOperation(pattern, c); got != want {
			t.Errorf("matchOperation(%q) = %v, want %v", pattern, got, want)
		}
	}
}

func TestIsMutating(t *testing.T) {
	for op, want := range map[string]bool{
		"cloudformation:ExecuteChangeSet": true, "cloudformation:CreateChangeSet": true, "dynamodb:PutItem": true,
		"dynamodb:BatchWriteItem": true, "ssm:PutParameter": true, "s3:PUT": true,
		"cloudformation:DescribeStacks": false, "dynamodb:Query": false, "dynamodb:BatchGetItem": false,
		"sts:GetCallerIdentity": false, "sts:AssumeRole": false, "s3:GET": false, "ec2:Settings": false,
		"Describe": false, "Create": true,
	} {
		if got := IsMutating(op); got != want {
			t.Errorf("IsMutating(%q) = %v, want %v", op, got, want)
		}
	}
}

func TestStackNameOf(t *testing.T) {
	for in, want := range map[string]string{
		"payments-dev-app": "payments-dev-app",
		"arn:aws:cloudformation:us-east-1:123456789012:stack/payments-dev-app/0a1b": "payments-dev-app",
		"arn:aws:cloudformation:us-east-1:123456789012:changeSet/cs/0a1b":           "arn:aws:cloudformation:us-east-1:123456789012:changeSet/cs/0a1b",
	} {
		if got := stackNameOf(in); got != want {
			t.Errorf("stackNameOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMemberRangesAndEdits(t *testing.T) {
	body := `<R><Res><Stacks><member><StackName>a</StackName><Parameters><member><ParameterKey>k</ParameterKey></member></Parameters>` +
		`<StackStatus>CREATE_COMPLETE</StackStatus></member><member><StackName>b</StackName><Tags/><StackStatus>UPDATE_COMPLETE</StackStatus>` +
		`<StackStatusReason>x</StackStatusReason></member></Stacks></Res></R>`
	ranges, err := memberRanges([]byte(body), "Stacks")
	if err != nil || len(ranges) != 2 {
		t.Fatalf("ranges %v, %v; want the two stacks, not the nested parameter", ranges, err)
	}
	first := body[ranges[0][0]:ranges[0][1]]
	if !strings.HasPrefix(first, "<member><StackName>a<") || !strings.HasSuffix(first, "</StackStatus></member>") {
		t.Errorf("first member %q", first)
	}
	m := setElement([]byte(first), "StackStatus", "CREATE_IN_PROGRESS", "StackName")
	m = setElement(m, "StackStatusReason", "a < b", "StackStatus")
	if !strings.Contains(string(m), "<StackStatus>CREATE_IN_PROGRESS</StackStatus><StackStatusReason>a &lt; b</StackStatusReason>") {
		t.Errorf("edited %q", m)
	}
	second := removeElement([]byte(body[ranges[1][0]:ranges[1][1]]), "StackStatusReason")
	if strings.Contains(string(second), "Reason") || text(second, "Tags") != "" {
		t.Errorf("removed %q", second)
	}
	empty := []byte(`<R><Res><StackEvents/></Res></R>`)
	if got := string(insertMembers(empty, "StackEvents", "<member>e</member>", nil)); got != `<R><Res><StackEvents><member>e</member></StackEvents></Res></R>` {
		t.Errorf("insert into empty list: %s", got)
	}
}

func TestCBORStringMap(t *testing.T) {
	got := cborStringMap([][2]string{{"a", strings.Repeat("x", 30)}})
	// map(1), text(1) "a", text(30) with a one-byte length.
	want := append([]byte{0xa1, 0x61, 'a', 0x78, 30}, strings.Repeat("x", 30)...)
	if string(got) != string(want) {
		t.Errorf("cbor % x, want % x", got, want)
	}
}
