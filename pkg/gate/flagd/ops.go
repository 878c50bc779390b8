package flagd

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/diegoholiveira/jsonlogic/v3"
	"github.com/twmb/murmur3"
)

// flagd's custom JsonLogic operators. The jsonlogic module keeps custom
// operators in one process-wide table, so they are registered once here.
func init() {
	jsonlogic.AddOperator("fractional", fractional)
	jsonlogic.AddOperator("sem_ver", semVer)
	jsonlogic.AddOperator("starts_with", startsWith)
	jsonlogic.AddOperator("ends_with", endsWith)
}

// operatorError is how a flagd operator reports invalid input. flagd's
// operators return null on error so that the flag falls back to its default
// variant (reason DEFAULT) instead of taking a false branch; the evaluator
// recovers this panic and treats the whole targeting as having returned
// null, which gives that result however deeply the operator is nested.
type operatorError struct {
	op  string
	msg string
}

func (e *operatorError) Error() string { return e.op + ": " + e.msg }

func opFail(op, format string, args ...any) {
	panic(&operatorError{op: op, msg: fmt.Sprintf(format, args...)})
}

// ---- starts_with / ends_with -------------------------------------------

func startsWith(values, _ any) any {
	s, prefix := stringPair("starts_with", values)
	return strings.HasPrefix(s, prefix)
}

func endsWith(values, _ any) any {
	s, suffix := stringPair("ends_with", values)
	return strings.HasSuffix(s, suffix)
}

func stringPair(op string, values any) (string, string) {
	args, ok := values.([]any)
	if !ok || len(args) != 2 {
		opFail(op, "needs exactly two arguments, a value and a %s", map[string]string{"starts_with": "prefix", "ends_with": "suffix"}[op])
	}
	a, ok1 := args[0].(string)
	b, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		opFail(op, "both arguments must be strings, got %s and %s", typeName(args[0]), typeName(args[1]))
	}
	return a, b
}

// ---- sem_ver ------------------------------------------------------------

// semVer implements {"sem_ver": [VERSION, OP, VERSION]} with OP one of =,
// !=, <, <=, >, >=, ^ (same major) and ~ (same major and minor). Versions
// may carry a v or V prefix, may be partial (1, 1.2) and may be numbers;
// build metadata is ignored.
func semVer(values, _ any) any {
	args, ok := values.([]any)
	if !ok || len(args) != 3 {
		opFail("sem_ver", "needs exactly three arguments: a version, an operator and a version")
	}
	a := parseVersion(args[0])
	op, ok := args[1].(string)
	if !ok {
		opFail("sem_ver", "the operator must be a string, got %s", typeName(args[1]))
	}
	b := parseVersion(args[2])
	c := a.Compare(b)
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "^":
		return a.Major() == b.Major()
	case "~":
		return a.Major() == b.Major() && a.Minor() == b.Minor()
	}
	opFail("sem_ver", "unknown operator %q: use one of =, !=, <, <=, >, >=, ^, ~", op)
	return nil
}

func parseVersion(v any) *semver.Version {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		opFail("sem_ver", "a version must be a string, got %s", typeName(v))
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "v") || strings.HasPrefix(s, "V") {
		s = s[1:]
	}
	if s == "" || !(s[0] >= '0' && s[0] <= '9') {
		opFail("sem_ver", "%q is not a semantic version", v)
	}
	ver, err := semver.NewVersion(s)
	if err != nil {
		opFail("sem_ver", "%q is not a semantic version", v)
	}
	return ver
}

// ---- fractional -----------------------------------------------------------

// fractional implements flagd's deterministic split:
//
//	{"fractional": [BUCKETING?, [VARIANT, WEIGHT?], ...]}
//
// The bucketing value is the first argument when it evaluates to a string,
// otherwise $flagd.flagKey followed by the targeting key. Its 32-bit
// murmur3 hash (seed 0) h picks bucket (h × total weight) >> 32 among the
// entries' relative weights (an entry without a weight weighs 1, a negative
// weight counts as 0). Variants and weights may be JsonLogic expressions.
func fractional(values, data any) any {
	args, ok := values.([]any)
	if !ok || len(args) == 0 {
		opFail("fractional", "needs at least one [variant, weight] entry")
	}
	ctx, _ := data.(map[string]any)

	var bucketBy string
	haveBucket := false
	switch first := args[0].(type) {
	case string:
		bucketBy, haveBucket = first, true
		args = args[1:]
	case nil:
		args = args[1:]
	}
	if len(args) == 0 {
		opFail("fractional", "needs at least one [variant, weight] entry")
	}

	entries, total := fractionalEntries(args, data)
	pick := 0 // one entry needs no bucketing value
	if len(entries) > 1 {
		if !haveBucket {
			tk, ok := ctx["targetingKey"].(string)
			if !ok {
				opFail("fractional", "no bucketing value: the first argument is not a string and the context has no targetingKey")
			}
			bucketBy = flagKeyOf(ctx) + tk
		}
		pick = fractionalPick(entries, total, bucketBy)
	}
	v := evalNested(entries[pick].variant, data)
	switch v.(type) {
	case string, bool, float64, nil:
		return v
	}
	opFail("fractional", "variant of entry %d must be a string, boolean, number or null, got %s", pick+1, typeName(v))
	return nil
}

// fractionalEntry is one [variant, weight] of a fractional split.
type fractionalEntry struct {
	variant any
	weight  int64
}

// fractionalEntries reads the [variant, weight] entries and their total
// weight, which must fit in 32 bits and not be zero.
func fractionalEntries(args []any, data any) ([]fractionalEntry, int64) {
	entries := make([]fractionalEntry, len(args))
	var total int64
	for i, a := range args {
		dist, ok := a.([]any)
		if !ok || len(dist) == 0 {
			opFail("fractional", "entry %d must be [variant, weight], got %s", i+1, typeName(a))
		}
		w := int64(1)
		if len(dist) >= 2 {
			w = fractionalWeight(dist[1], data, i)
		}
		if w > math.MaxInt32 {
			opFail("fractional", "weight %d of entry %d exceeds %d", w, i+1, math.MaxInt32)
		}
		total += w
		entries[i] = fractionalEntry{variant: dist[0], weight: w}
	}
	if total > math.MaxInt32 {
		opFail("fractional", "the weights add up to %d, more than %d", total, math.MaxInt32)
	}
	if total == 0 {
		opFail("fractional", "every weight is zero")
	}
	return entries, total
}

// fractionalWeight evaluates the weight of entry i: a whole number, a
// negative one counting as 0, or null for 1.
func fractionalWeight(weight, data any, i int) int64 {
	wv := evalNested(weight, data)
	switch x := wv.(type) {
	case float64:
		if x != math.Trunc(x) {
			opFail("fractional", "weight %v of entry %d is not a whole number", x, i+1)
		}
		return int64(max(x, 0))
	case nil:
		return 1
	default:
		opFail("fractional", "weight of entry %d must be a number, got %s", i+1, typeName(wv))
	}
	return 1
}

// fractionalPick is the index of the entry whose share of the weights holds
// bucketBy's bucket.
func fractionalPick(entries []fractionalEntry, total int64, bucketBy string) int {
	bucket := (uint64(murmur3.StringSum32(bucketBy)) * uint64(total)) >> 32
	var end uint64
	for i, e := range entries {
		end += uint64(e.weight)
		if bucket < end {
			return i
		}
	}
	return -1
}

// evalNested evaluates a JsonLogic expression found inside an argument
// array, which the jsonlogic module leaves unevaluated.
func evalNested(v, data any) any {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return v
	}
	out, err := jsonlogic.ApplyInterface(m, data)
	if err != nil {
		panic(err) // an operatorError stays one; anything else is a parse error
	}
	return out
}

func flagKeyOf(ctx map[string]any) string {
	props, _ := ctx["$flagd"].(map[string]any)
	k, _ := props["flagKey"].(string)
	return k
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
