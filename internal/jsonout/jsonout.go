// Package jsonout writes gantry's machine-readable output: every JSON
// document a command prints is one compact line ending in a newline, so
// scripts can read it with one line read and log collectors see one record.
// It lives below both pkg/lint and pkg/cmd, which must not import each
// other's CLI plumbing.
package jsonout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Write writes v to w as one compact JSON line. HTML characters are left
// as they are ("<service>/<stage>" stays readable): the output is never
// embedded in a web page.
func Write(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// Marshal is json.Marshal in the same style (HTML characters as they are),
// for MarshalJSON methods whose output Write embeds.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
