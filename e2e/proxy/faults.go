package proxy

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Throttle answers matching requests with the service's throttling error,
// which the SDK's retryer retries after a back-off. Set Every, Rate or
// Fraction, or several (a request is throttled when any says so).
type Throttle struct {
	// Region limits the rule to one region; "" is every region.
	Region string
	// Operation: "" or "*" every operation, "cloudformation:*" one
	// service, "cloudformation:DescribeStacks" one operation, or
	// "DescribeStacks" that operation of any service (path.Match globs).
	Operation string
	// Every throttles the Nth, 2Nth, ... request, counted per region and
	// operation (1 throttles all of them).
	Every int
	// Rate lets through at most this many requests per second per region
	// and operation (a token bucket holding Burst tokens, at least 1) and
	// throttles the rest.
	Rate  float64
	Burst int
	// Fraction throttles that share of requests at random (0..1).
	Fraction float64
}

// ServerError answers matching requests with HTTP 500 or 503 in the
// protocol's error shape; the SDK's retryer retries both.
type ServerError struct {
	Region    string // as in Throttle
	Operation string // as in Throttle
	// Every fails the Nth, 2Nth, ... request per region and operation.
	Every int
	// Fraction fails that share of requests at random (0..1).
	Fraction float64
	// Status is 500 (the default) or 503.
	Status int
}

// bucket is the per (region, operation) state of a rule.
type bucket struct {
	n      int
	tokens float64
	last   time.Time
}

type throttleRule struct {
	Throttle
	buckets map[string]*bucket
}

type serverErrorRule struct {
	ServerError
	buckets map[string]*bucket
}

// DropPoint is when a dropped request's connection is closed.
type DropPoint int

const (
	// BeforeForward closes the connection without forwarding the request:
	// nothing happened upstream.
	BeforeForward DropPoint = iota
	// AfterForward forwards the request, so the emulator does the work,
	// then closes the connection without answering: the client never
	// learns that its call succeeded. The hard case for calls that are not
	// idempotent (ExecuteChangeSet, CreateChangeSet, a conditional PutItem).
	AfterForward
)

func (d DropPoint) String() string {
	if d == AfterForward {
		return "after forward"
	}
	return "before forward"
}

// Drop closes the client's connection without an answer (no status line,
// no bytes), as a network fault or a crashed load balancer would; the
// SDK sees a connection error and retries the call.
type Drop struct {
	Region    string // as in Throttle
	Operation string // as in Throttle
	// Every drops the Nth, 2Nth, ... request per region and operation.
	Every int
	// Fraction drops that share of requests at random (0..1).
	Fraction float64
	// When: BeforeForward (the default) or AfterForward.
	When DropPoint
}

type dropRule struct {
	Drop
	buckets map[string]*bucket
}

func bucketOf(m map[string]*bucket, c *call) *bucket {
	k := c.Region + "|" + c.Key()
	b := m[k]
	if b == nil {
		b = &bucket{}
		m[k] = b
	}
	return b
}

// roll draws a random number for a rule with a Fraction; 1 (never a hit)
// without one.
func roll(fraction float64, rng func() float64) float64 {
	if fraction <= 0 {
		return 1
	}
	return rng()
}

// throttled decides, under p.mu, whether c is throttled.
func (r *throttleRule) throttled(c *call, now time.Time, rng func() float64) bool {
	if (r.Region != "" && r.Region != c.Region) || !matchOperation(r.Operation, c) {
		return false
	}
	b := bucketOf(r.buckets, c)
	b.n++
	hit := (r.Every > 0 && b.n%r.Every == 0) || roll(r.Fraction, rng) < r.Fraction
	if r.Rate > 0 && !b.take(r.Rate, r.Burst, now) {
		hit = true
	}
	return hit
}

// status decides, under p.mu, whether c fails and with which status.
func (r *serverErrorRule) status(c *call, random float64) int {
	if (r.Region != "" && r.Region != c.Region) || !matchOperation(r.Operation, c) {
		return 0
	}
	b := bucketOf(r.buckets, c)
	b.n++
	hit := (r.Every > 0 && b.n%r.Every == 0) || (r.Fraction > 0 && random < r.Fraction)
	if !hit {
		return 0
	}
	if r.Status == http.StatusServiceUnavailable {
		return r.Status
	}
	return http.StatusInternalServerError
}

// dropped decides, under p.mu, whether c's connection is dropped.
func (r *dropRule) dropped(c *call, rng func() float64) bool {
	if (r.Region != "" && r.Region != c.Region) || !matchOperation(r.Operation, c) {
		return false
	}
	b := bucketOf(r.buckets, c)
	b.n++
	return (r.Every > 0 && b.n%r.Every == 0) || roll(r.Fraction, rng) < r.Fraction
}

// apiError is an error answered by the proxy itself.
type apiError struct {
	Status  int
	Code    string
	Message string
	Sender  bool // the client's fault (Type Sender), else the service's (Receiver)
}

// throttleError is the throttling error of c's service, as AWS sends it.
func throttleError(c *call) apiError {
	switch c.Protocol {
	case protoEC2:
		return apiError{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded.", Sender: true}
	case protoQuery:
		return apiError{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded", Sender: true}
	case protoJSON, protoCBOR:
		if c.QueryMode {
			return apiError{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded", Sender: true}
		}
		return apiError{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded", Sender: true}
	default:
		if c.Service == "s3" {
			return apiError{Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: "Please reduce your request rate.", Sender: true}
		}
		return apiError{Status: http.StatusTooManyRequests, Code: "ThrottlingException", Message: "Rate exceeded", Sender: true}
	}
}

// serverError is a 500 or 503 of c's service.
func serverError(c *call, status int) apiError {
	if status == http.StatusServiceUnavailable {
		code := "ServiceUnavailable"
		switch c.Protocol {
		case protoEC2:
			code = "Unavailable"
		case protoJSON, protoCBOR:
			if !c.QueryMode {
				code = "ServiceUnavailableException"
			}
		}
		return apiError{Status: status, Code: code, Message: "Service is unavailable. Please try again later (injected by the gantry test proxy)."}
	}
	code := "InternalFailure"
	if c.Protocol == protoEC2 {
		code = "InternalError"
	}
	return apiError{Status: http.StatusInternalServerError, Code: code, Message: "An internal error occurred (injected by the gantry test proxy)."}
}

// jsonErrorPrefix is the shape namespace some JSON services put before
// the error code in __type.
func jsonErrorPrefix(service string) string {
	switch service {
	case "dynamodb":
		return "com.amazonaws.dynamodb.v20120810#"
	case "monitoring":
		return "com.amazonaws.cloudwatch#"
	}
	return ""
}

// writeError answers c with e in the wire shape of c's protocol.
func writeError(w http.ResponseWriter, c *call, e apiError, requestID string) {
	h := w.Header()
	h.Set("X-Amzn-RequestId", requestID)
	fault := "Receiver"
	if e.Sender {
		fault = "Sender"
	}
	var body []byte
	switch c.Protocol {
	case protoQuery:
		h.Set("Content-Type", "text/xml")
		xmlns := ""
		if c.Service == "cloudformation" {
			xmlns = ` xmlns="` + cfnXMLNS + `"` // as CloudFormation writes it
		}
		body = fmt.Appendf(nil, "<ErrorResponse%s><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>",
			xmlns, fault, escape(e.Code), escape(e.Message), escape(requestID))
	case protoEC2:
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		body = fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>",
			escape(e.Code), escape(e.Message), escape(requestID))
	case protoJSON:
		h.Set("Content-Type", "application/x-amz-json-"+c.JSONVersion)
		h.Set("X-Amzn-ErrorType", e.Code)
		if c.QueryMode {
			h.Set("X-Amzn-Query-Error", e.Code+";"+fault)
		}
		body, _ = json.Marshal(map[string]string{"__type": jsonErrorPrefix(c.Service) + e.Code, "message": e.Message})
		if c.Service == "dynamodb" {
			// DynamoDB checksums every answer; the SDK checks it (and warns
			// on stderr when it is missing).
			h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
		}
	case protoCBOR:
		h.Set("Content-Type", "application/cbor")
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		if c.QueryMode {
			h.Set("X-Amzn-Query-Error", e.Code+";"+fault)
		}
		body = cborStringMap([][2]string{{"__type", jsonErrorPrefix(c.Service) + e.Code}, {"message", e.Message}})
	default:
		if c.Service == "s3" {
			h.Set("Content-Type", "application/xml")
			body = fmt.Appendf(nil, "<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>",
				escape(e.Code), escape(e.Message), escape(requestID))
			break
		}
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-ErrorType", e.Code)
		body, _ = json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// escape is XML character data for s.
func escape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// cborStringMap encodes a definite-length CBOR map of text strings.
func cborStringMap(pairs [][2]string) []byte {
	var b []byte
	b = cborHead(b, 5, uint64(len(pairs)))
	for _, kv := range pairs {
		for _, s := range kv {
			b = cborHead(b, 3, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return b
}

// cborHead appends a CBOR item head: major type and argument.
func cborHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= math.MaxUint8:
		return append(b, m|24, byte(n))
	case n <= math.MaxUint16:
		return append(b, m|25, byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return append(b, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(b, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}
