package lint

import (
	"unicode/utf8"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"gopkg.in/yaml.v3"
)

// overrideEntry is one key: value of a stage's overrides.resources mapping.
type overrideEntry struct {
	name      string
	key, body *yaml.Node
}

// resourceOverrides lists the entries of stage.overrides.resources, in file
// order. Anything that is not a mapping is the loader's problem and yields
// nothing.
func resourceOverrides(st *descriptor.Stage) []overrideEntry {
	over := deref(st.Overrides, 0)
	if over == nil || over.Kind != yaml.MappingNode {
		return nil
	}
	var out []overrideEntry
	for i := 0; i+1 < len(over.Content); i += 2 {
		if over.Content[i].Value != "resources" {
			continue
		}
		res := deref(over.Content[i+1], 0)
		if res == nil || res.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(res.Content); j += 2 {
			out = append(out, overrideEntry{name: res.Content[j].Value, key: res.Content[j], body: deref(res.Content[j+1], 0)})
		}
	}
	return out
}

// mappingValue returns the key and value nodes of key in mapping n.
func mappingValue(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], deref(n.Content[i+1], 0)
		}
	}
	return nil, nil
}

// deref follows documents and aliases, bounded against cycles.
func deref(n *yaml.Node, depth int) *yaml.Node {
	for ; n != nil && depth < 32; depth++ {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

// nodeSpan is the span of a scalar node, for where no position was recorded.
func nodeSpan(n *yaml.Node) descriptor.Span {
	return descriptor.Span{Line: n.Line, Column: n.Column, EndLine: n.Line, EndColumn: n.Column + utf8.RuneCountInString(n.Value)}
}

// spanOr returns the recorded span at path, or the node's own.
func spanOr(pos descriptor.Positions, path string, n *yaml.Node) descriptor.Span {
	if s, ok := pos[path]; ok {
		return s
	}
	return nodeSpan(n)
}
