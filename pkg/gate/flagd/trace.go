package flagd

import (
	"fmt"
	"strconv"
	"strings"
)

// traceKey is where an evaluation's trace sits in the JsonLogic data: a
// top-level key holding a dot, which no {"var": "a.b"} path can reach.
const traceKey = "$gantry.trace"

// maxOpErrors bounds the operator errors one evaluation keeps.
const maxOpErrors = 8

// trace is what one evaluation records besides its result: the fractional
// algorithm configured and whether one decided, and the operator errors
// that evaluated to null.
type trace struct {
	algo       string
	fractional string
	opErrors   []string
}

// traceOf finds the trace in data; operators nested in map, filter and the
// like see other data and record into a throwaway trace.
func traceOf(data any) *trace {
	m, _ := data.(map[string]any)
	if t, ok := m[traceKey].(*trace); ok {
		return t
	}
	return &trace{}
}

func (t *trace) algorithm() string {
	if t.algo == "" {
		return DefaultFractional
	}
	return t.algo
}

func (t *trace) opError(e *operatorError) {
	if len(t.opErrors) < maxOpErrors {
		t.opErrors = append(t.opErrors, e.Error())
	}
}

// budgetError stops an evaluation that would do more work than its budget.
type budgetError struct{ msg string }

func (e *budgetError) Error() string { return e.msg }

// cappedMerge is JsonLogic's merge (flattening one level) refusing to build
// an array longer than MaxMergeElements.
func cappedMerge(values, _ any) any {
	out := []any{}
	add := func(v any) {
		if len(out) >= MaxMergeElements {
			panic(&budgetError{fmt.Sprintf("merge would build more than %d elements (evaluation budget)", MaxMergeElements)})
		}
		out = append(out, v)
	}
	list, ok := values.([]any)
	if !ok {
		add(values)
		return out
	}
	for _, v := range list {
		if inner, ok := v.([]any); ok {
			for _, e := range inner {
				add(e)
			}
			continue
		}
		add(v)
	}
	return out
}

// cappedCat is JsonLogic's cat refusing to build a string longer than
// MaxCatBytes.
func cappedCat(values, _ any) any {
	if s, ok := values.(string); ok {
		return s
	}
	list, _ := values.([]any)
	var b strings.Builder
	for _, v := range list {
		switch x := v.(type) {
		case float64:
			b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
		case nil:
		case string:
			b.WriteString(x)
		default:
			b.WriteString(fmt.Sprint(x))
		}
		if b.Len() > MaxCatBytes {
			panic(&budgetError{fmt.Sprintf("cat would build a string longer than %d bytes (evaluation budget)", MaxCatBytes)})
		}
	}
	return strings.TrimSpace(b.String())
}
