package secrets_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// scanner looks for secret values (needles) in everything gantry wrote:
// each needle as is and base64-encoded, in text and in gzip-compressed
// bytes (the state table keeps deployed templates gzipped).
type scanner struct {
	needles map[string]string // name -> value
	hits    []hit
}

// hit is a needle found somewhere. It names the needle, never its value, so
// a failing test does not print the secret.
type hit struct{ needle, where string }

func (h hit) String() string { return h.needle + " in " + h.where }

func newScanner() *scanner { return &scanner{needles: map[string]string{}} }

func (s *scanner) add(name, value string) { s.needles[name] = value }

// text searches one piece of output, named by where.
func (s *scanner) text(where, text string) { s.bytes(where, []byte(text)) }

func (s *scanner) bytes(where string, b []byte) {
	for _, name := range slices.Sorted(maps.Keys(s.needles)) {
		v := []byte(s.needles[name])
		if bytes.Contains(b, v) {
			s.hits = append(s.hits, hit{name, where})
		} else if bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString(v))) {
			s.hits = append(s.hits, hit{name, where + " (base64)"})
		}
	}
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		z, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		plain, err := io.ReadAll(io.LimitReader(z, 64<<20))
		if err == nil {
			s.bytes(where+" (gunzipped)", plain)
		}
	}
}

// item searches every attribute of a DynamoDB item, however nested.
func (s *scanner) item(where string, item map[string]ddbtypes.AttributeValue) {
	for _, k := range slices.Sorted(maps.Keys(item)) {
		s.attr(where+"."+k, item[k])
	}
}

func (s *scanner) attr(where string, av ddbtypes.AttributeValue) {
	switch v := av.(type) {
	case *ddbtypes.AttributeValueMemberS:
		s.text(where, v.Value)
	case *ddbtypes.AttributeValueMemberN:
		s.text(where, v.Value)
	case *ddbtypes.AttributeValueMemberB:
		s.bytes(where, v.Value)
	case *ddbtypes.AttributeValueMemberSS:
		for i, x := range v.Value {
			s.text(fmt.Sprintf("%s[%d]", where, i), x)
		}
	case *ddbtypes.AttributeValueMemberBS:
		for i, x := range v.Value {
			s.bytes(fmt.Sprintf("%s[%d]", where, i), x)
		}
	case *ddbtypes.AttributeValueMemberL:
		for i, x := range v.Value {
			s.attr(fmt.Sprintf("%s[%d]", where, i), x)
		}
	case *ddbtypes.AttributeValueMemberM:
		s.item(where, v.Value)
	}
}

// found lists the hits of one needle.
func (s *scanner) found(name string) []string {
	var out []string
	for _, h := range s.hits {
		if h.needle == name {
			out = append(out, h.where)
		}
	}
	return out
}

// TestScanner is the scanner's own positive control: it finds a needle
// plainly, base64-encoded, gzipped and nested in a DynamoDB item, and
// nothing where the needle is not.
func TestScanner(t *testing.T) {
	const secret = "needle-0123456789abcdef"
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	if _, err := w.Write([]byte(`{"Environment":[{"Value":"` + secret + `"}]}`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s := newScanner()
	s.add("secret", secret)
	s.text("plain", "a line with "+secret+" in it")
	s.text("encoded", "token="+base64.StdEncoding.EncodeToString([]byte(secret)))
	s.item("item", map[string]ddbtypes.AttributeValue{
		"template": &ddbtypes.AttributeValueMemberB{Value: z.Bytes()},
		"nested": &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{
			"list": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberS{Value: secret}}},
		}},
	})
	s.text("clean", "needle-0123456789abcde and other near misses")
	got := s.found("secret")
	want := []string{"plain", "encoded (base64)", "item.nested.list[0]", "item.template (gunzipped)"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("found the needle in %v, want %v", got, want)
	}
	if hs := fmt.Sprint(s.hits); strings.Contains(hs, secret) {
		t.Errorf("hits print the secret: %s", hs)
	}
}
