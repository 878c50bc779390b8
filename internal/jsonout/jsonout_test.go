package jsonout

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteIsOneCompactLine(t *testing.T) {
	var b bytes.Buffer
	v := map[string]any{"key": "<service>/<stage>", "list": []int{1, 2}, "nested": map[string]string{"a": "line\nbreak"}}
	if err := Write(&b, v); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	want := `{"key":"<service>/<stage>","list":[1,2],"nested":{"a":"line\nbreak"}}` + "\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if strings.Count(got, "\n") != 1 {
		t.Errorf("not one line: %q", got)
	}
}

func TestWriteError(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, make(chan int)); err == nil || !strings.Contains(err.Error(), "writing JSON") {
		t.Errorf("err = %v, want a wrapped encoding error", err)
	}
}

func TestMarshalKeepsHTMLCharacters(t *testing.T) {
	b, err := Marshal(struct {
		A string `json:"a"`
	}{"<a> & b"})
	if err != nil || string(b) != `{"a":"<a> & b"}` {
		t.Errorf("got %s, %v", b, err)
	}
}
