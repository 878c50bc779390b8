package flagd

import (
	"fmt"
	"strings"
)

// maxExplainRule bounds how much of a rule an explanation quotes.
const maxExplainRule = 160

// explain says which branch of a targeting rule decided: for an "if" chain
// (nested in else positions too), the first condition that held, or that
// none did; for any other rule, the rule itself; then the flagd operators
// that returned null on that path. Conditions are evaluated again one by
// one, as the JsonLogic module evaluates every argument of an "if" and
// keeps no record of which one chose (nor which null mattered).
func explain(rule any, data map[string]any, algo string) string {
	tr := &trace{algo: algo}
	data[traceKey] = tr
	var steps []string
	for depth := 0; depth < 16; depth++ {
		args, ok := ifArgs(rule)
		if !ok {
			steps = append(steps, "rule "+quote(rule))
			_, _ = applyTargeting(rule, data) // for its operator errors
			break
		}
		branch, next, leaf := pickBranch(args, data)
		steps = append(steps, branch)
		if next == nil {
			if leaf != nil {
				_, _ = applyTargeting(leaf, data)
			}
			break
		}
		rule = next
	}
	out := strings.Join(steps, " → ")
	if len(tr.opErrors) > 0 {
		out += "; null from " + strings.Join(tr.opErrors, "; ")
	}
	return out
}

func ifArgs(rule any) ([]any, bool) {
	m, ok := rule.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, false
	}
	for _, op := range []string{"if", "?:"} {
		if args, ok := m[op].([]any); ok {
			return args, true
		}
	}
	return nil, false
}

// pickBranch names the branch of an if's arguments that holds and returns
// its result: next when that is itself an "if" to follow, else leaf.
func pickBranch(args []any, data map[string]any) (branch string, next, leaf any) {
	for i := 0; i+1 < len(args); i += 2 {
		v, err := applyTargeting(args[i], data)
		if err != nil {
			return fmt.Sprintf("condition %d %s failed: %v", i/2+1, quote(args[i]), err), nil, nil
		}
		if truthy(v) {
			next, leaf = follow(args[i+1])
			return fmt.Sprintf("condition %d %s held", i/2+1, quote(args[i])), next, leaf
		}
	}
	if len(args)%2 == 1 {
		next, leaf = follow(args[len(args)-1])
		return fmt.Sprintf("no condition held: else %s", quote(args[len(args)-1])), next, leaf
	}
	return "no condition held and there is no else: null", nil, nil
}

func follow(v any) (next, leaf any) {
	if _, ok := ifArgs(v); ok {
		return v, nil
	}
	return nil, v
}

// truthy is JsonLogic's truthiness.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	}
	return true
}

func quote(v any) string {
	s := compact(v)
	if len(s) > maxExplainRule {
		s = s[:maxExplainRule] + "…"
	}
	return s
}
