package proxy

import (
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// protocol is how an AWS API call is put on the wire.
type protocol int

const (
	protoREST  protocol = iota // REST protocols (S3, ...): the operation is not on the wire; Method stands in
	protoQuery                 // awsQuery: form field Action, XML replies (CloudFormation, STS, ELBv2)
	protoEC2                   // ec2Query: like awsQuery, EC2's error shape
	protoJSON                  // awsJson 1.0/1.1: X-Amz-Target (DynamoDB, ECS, SSM)
	protoCBOR                  // smithy-rpc-v2-cbor: /service/S/operation/O (CloudWatch)
)

// call is what the proxy knows about one request.
type call struct {
	Region    string // from the SigV4 credential scope; "" when unsigned
	AccessKey string // the signing access key ID; "" when unsigned
	Account   string // the access key's account (see Proxy.accountLocked)
	Service   string // the SigV4 signing name: cloudformation, dynamodb, sts, monitoring, ...
	Operation string // DescribeStacks, PutItem, ... (the method for REST protocols)
	Protocol  protocol
	// QueryMode is set when the client asked for awsQuery-compatible error
	// codes (X-Amzn-Query-Mode: true), as CloudWatch's CBOR client does.
	QueryMode   bool
	JSONVersion string     // "1.0" or "1.1" for protoJSON
	Form        url.Values // the parameters of query-protocol calls
}

// Key names the operation as "<service>:<Operation>", the way IAM names
// actions (the service part is the SigV4 signing name).
func (c *call) Key() string { return c.Service + ":" + c.Operation }

// parseCall reads the region, service, operation and protocol of r, whose
// body has already been read into body.
func parseCall(r *http.Request, body []byte) *call {
	c := &call{}
	c.AccessKey, c.Region, c.Service = credentialScope(r)
	c.QueryMode = strings.EqualFold(r.Header.Get("X-Amzn-Query-Mode"), "true")
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))

	switch {
	case r.Header.Get("X-Amz-Target") != "":
		target := r.Header.Get("X-Amz-Target")
		c.Protocol = protoJSON
		c.Operation = target[strings.LastIndexByte(target, '.')+1:]
		c.JSONVersion = "1.0"
		if strings.HasSuffix(mediaType, "json-1.1") {
			c.JSONVersion = "1.1"
		}
		if c.Service == "" {
			c.Service = strings.ToLower(strings.SplitN(target, "_", 2)[0])
		}
	case strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor") || strings.Contains(r.URL.Path, "/operation/"):
		c.Protocol = protoCBOR
		c.Operation = path.Base(r.URL.Path)
	case mediaType == "application/x-www-form-urlencoded" || (r.Method == http.MethodGet && r.URL.Query().Get("Action") != ""):
		form := r.URL.Query()
		if mediaType == "application/x-www-form-urlencoded" {
			if f, err := url.ParseQuery(string(body)); err == nil {
				form = f
			}
		}
		if action := form.Get("Action"); action != "" {
			c.Form = form
			c.Operation = action
			c.Protocol = protoQuery
			if c.Service == "ec2" {
				c.Protocol = protoEC2
			}
			break
		}
		fallthrough
	default:
		c.Protocol = protoREST
		c.Operation = r.Method
	}
	if c.Service == "" {
		c.Service = "unknown"
	}
	return c
}

// credentialScope returns the access key, region and service of the SigV4
// credential scope, from the Authorization header or a presigned URL's
// X-Amz-Credential: AKID/DATE/REGION/SERVICE/aws4_request.
func credentialScope(r *http.Request) (accessKey, region, service string) {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		if _, rest, ok := strings.Cut(auth, "Credential="); ok {
			cred, _, _ = strings.Cut(rest, ",")
		}
	}
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return "", "", ""
	}
	return parts[0], parts[2], parts[3]
}

// matchOperation reports whether the pattern names c's operation: "" or
// "*" match everything, "cloudformation:*" a service, "cloudformation:
// DescribeStacks" one operation, and a pattern without a colon
// ("DescribeStacks", "Describe*") the operation of any service.
func matchOperation(pattern string, c *call) bool {
	if pattern == "" || pattern == "*" {
		return true
	}
	subject := c.Key()
	if !strings.Contains(pattern, ":") {
		subject = c.Operation
	}
	ok, err := path.Match(pattern, subject)
	return err == nil && ok
}

// matchStack reports whether the glob (path.Match syntax; "" matches all)
// names stack.
func matchStack(glob, stack string) bool {
	if glob == "" {
		return true
	}
	ok, err := path.Match(glob, stack)
	return err == nil && ok
}

// stackNameOf returns the stack name of a name or a stack ARN
// (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID).
func stackNameOf(nameOrID string) string {
	if !strings.HasPrefix(nameOrID, "arn:") {
		return nameOrID
	}
	parts := strings.SplitN(nameOrID, ":", 6)
	if len(parts) != 6 {
		return nameOrID
	}
	res := strings.Split(parts[5], "/")
	if len(res) >= 2 && res[0] == "stack" {
		return res[1]
	}
	return nameOrID
}
