package proxy

import (
	"bytes"
	"encoding/xml"
	"html"
	"io"
)

// memberRanges returns the byte ranges of the <member> elements directly
// under <parent> in a query-protocol response
// (<XResponse><XResult><parent><member>...), in document order.
func memberRanges(body []byte, parent string) ([][2]int, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	var (
		stack []string
		out   [][2]int
		start = -1
	)
	for {
		before := int(d.InputOffset())
		tok, err := d.RawToken()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			if len(stack) == 4 && t.Name.Local == "member" && stack[2] == parent {
				start = before
			}
		case xml.EndElement:
			if len(stack) == 4 && start >= 0 {
				out = append(out, [2]int{start, int(d.InputOffset())})
				start = -1
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// element finds the first <name>text</name> (or <name/>) in b: its text
// (unescaped) and the range of the whole element.
func element(b []byte, name string) (text string, span [2]int, ok bool) {
	open := []byte("<" + name + ">")
	if i := bytes.Index(b, open); i >= 0 {
		closing := []byte("</" + name + ">")
		j := bytes.Index(b[i+len(open):], closing)
		if j < 0 {
			return "", span, false
		}
		inner := b[i+len(open) : i+len(open)+j]
		return html.UnescapeString(string(inner)), [2]int{i, i + len(open) + j + len(closing)}, true
	}
	empty := []byte("<" + name + "/>")
	if i := bytes.Index(b, empty); i >= 0 {
		return "", [2]int{i, i + len(empty)}, true
	}
	return "", span, false
}

// text returns the text of the first <name> element in b ("" if none).
func text(b []byte, name string) string {
	t, _, _ := element(b, name)
	return t
}

// splice returns b with span replaced by repl.
func splice(b []byte, span [2]int, repl string) []byte {
	out := make([]byte, 0, len(b)-(span[1]-span[0])+len(repl))
	out = append(out, b[:span[0]]...)
	out = append(out, repl...)
	return append(out, b[span[1]:]...)
}

// setElement sets <name>'s text in b, adding the element after <after>
// when it is missing.
func setElement(b []byte, name, value, after string) []byte {
	elem := "<" + name + ">" + escape(value) + "</" + name + ">"
	if _, span, ok := element(b, name); ok {
		return splice(b, span, elem)
	}
	if _, span, ok := element(b, after); ok {
		return splice(b, [2]int{span[1], span[1]}, elem)
	}
	return b
}

// removeElement removes <name> from b if it is there.
func removeElement(b []byte, name string) []byte {
	if _, span, ok := element(b, name); ok {
		return splice(b, span, "")
	}
	return b
}

// insertMembers puts members (already XML) first in the <parent> list of
// body, which may be empty (<parent/>).
func insertMembers(body []byte, parent, members string, ranges [][2]int) []byte {
	if members == "" {
		return body
	}
	if len(ranges) > 0 {
		return splice(body, [2]int{ranges[0][0], ranges[0][0]}, members)
	}
	open := []byte("<" + parent + ">")
	if i := bytes.Index(body, open); i >= 0 {
		return splice(body, [2]int{i + len(open), i + len(open)}, members)
	}
	empty := []byte("<" + parent + "/>")
	if i := bytes.Index(body, empty); i >= 0 {
		return splice(body, [2]int{i, i + len(empty)}, "<"+parent+">"+members+"</"+parent+">")
	}
	return body
}
