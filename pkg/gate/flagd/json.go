package flagd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf8"
)

// node is a JSON value with the byte offset where it starts, so that a
// problem found after decoding can still name its line and column.
type node struct {
	off  int64
	kind kind
	// object members in file order
	keys    []string
	keyOffs []int64
	vals    []*node
	// array elements
	elems []*node
	// scalars
	str string
	num float64
	b   bool
}

type kind int

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	switch k {
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	case kindObject:
		return "an object"
	}
	return "null"
}

// get returns an object's member by key (the last one when repeated, as
// encoding/json does) and its key's offset.
func (n *node) get(key string) (*node, int64) {
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i] == key {
			return n.vals[i], n.keyOffs[i]
		}
	}
	return nil, 0
}

// value converts the node to the plain Go values encoding/json produces:
// map[string]any, []any, float64, string, bool and nil.
func (n *node) value() any {
	switch n.kind {
	case kindBool:
		return n.b
	case kindNumber:
		return n.num
	case kindString:
		return n.str
	case kindArray:
		out := make([]any, len(n.elems))
		for i, e := range n.elems {
			out[i] = e.value()
		}
		return out
	case kindObject:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			out[k] = n.vals[i].value()
		}
		return out
	}
	return nil
}

// parser walks encoding/json's tokens, recording where each value starts.
type parser struct {
	data  []byte
	dec   *json.Decoder
	depth int
}

// parseJSON decodes data into a positioned tree. A syntax error carries the
// offset where the decoder stopped.
func parseJSON(data []byte) (*node, error) {
	p := &parser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	off := p.start()
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, &offsetError{off: off, msg: "unexpected data after the top-level JSON value"}
	}
	return n, nil
}

// offsetError is a problem at a byte offset of the file.
type offsetError struct {
	off int64
	msg string
}

func (e *offsetError) Error() string { return e.msg }

// start is the offset of the next token: past the last one, whitespace and
// the separators the decoder consumes silently.
func (p *parser) start() int64 {
	off := p.dec.InputOffset()
	for off < int64(len(p.data)) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (p *parser) token() (json.Token, int64, error) {
	off := p.start()
	t, err := p.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, off, &offsetError{off: max(se.Offset-1, 0), msg: "invalid JSON: " + se.Error()}
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, int64(len(p.data)), &offsetError{off: int64(len(p.data)), msg: "invalid JSON: unexpected end of file"}
		}
		return nil, off, &offsetError{off: off, msg: "invalid JSON: " + err.Error()}
	}
	return t, off, nil
}

func (p *parser) value() (*node, error) {
	t, off, err := p.token()
	if err != nil {
		return nil, err
	}
	return p.valueFrom(t, off)
}

func (p *parser) valueFrom(t json.Token, off int64) (*node, error) {
	n := &node{off: off}
	switch v := t.(type) {
	case nil:
		n.kind = kindNull
	case bool:
		n.kind, n.b = kindBool, v
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, &offsetError{off: off, msg: fmt.Sprintf("number %s is out of range", v)}
		}
		n.kind, n.num = kindNumber, f
	case string:
		n.kind, n.str = kindString, v
	case json.Delim:
		// The tree is built recursively: the depth budget keeps a deeply
		// nested file from overflowing the stack.
		if p.depth++; p.depth > MaxDepth {
			return nil, &offsetError{off: off, msg: fmt.Sprintf("JSON nested more than %d levels deep (flag file budget)", MaxDepth)}
		}
		defer func() { p.depth-- }()
		switch v {
		case '{':
			n.kind = kindObject
			for p.dec.More() {
				kt, koff, err := p.token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, &offsetError{off: koff, msg: "invalid JSON: object key is not a string"}
				}
				val, err := p.value()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.keyOffs = append(n.keyOffs, koff)
				n.vals = append(n.vals, val)
			}
		case '[':
			n.kind = kindArray
			for p.dec.More() {
				val, err := p.value()
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, val)
			}
		default:
			return nil, &offsetError{off: off, msg: fmt.Sprintf("invalid JSON: unexpected %q", rune(v))}
		}
		if _, _, err := p.token(); err != nil { // the closing delimiter
			return nil, err
		}
	}
	return n, nil
}

// positions turns byte offsets into 1-based lines and columns (in runes).
// Line starts are found once; a column is counted from the previous answer
// when it is on the same line and further on, so asking for the offsets of
// a file in order is linear overall however long its lines are.
type positions struct {
	data   []byte
	starts []int64 // offset of each line's first byte
	// the last answer, to count on from
	lastOff       int64
	lastLine      int
	lastCol       int
	haveLastState bool
}

func newPositions(data []byte) *positions {
	starts := []int64{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, int64(i)+1)
		}
	}
	return &positions{data: data, starts: starts}
}

func (p *positions) lineCol(off int64) (int, int) {
	off = min(max(off, 0), int64(len(p.data)))
	line := sort.Search(len(p.starts), func(i int) bool { return p.starts[i] > off }) // 1-based
	from, col := p.starts[line-1], 1
	if p.haveLastState && p.lastLine == line && p.lastOff <= off {
		from, col = p.lastOff, p.lastCol
	}
	col += utf8.RuneCount(p.data[from:off])
	p.lastOff, p.lastLine, p.lastCol, p.haveLastState = off, line, col, true
	return line, col
}

// lineCol turns a byte offset into a 1-based line and column (in runes).
func lineCol(data []byte, off int64) (int, int) {
	return newPositions(data).lineCol(off)
}
