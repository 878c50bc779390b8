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
	jsonlogic.AddOperator("fractional", guarded(fractional))
	jsonlogic.AddOperator("sem_ver", guarded(semVer))
	jsonlogic.AddOperator("starts_with", guarded(startsWith))
	jsonlogic.AddOperator("ends_with", guarded(endsWith))
	// merge and cat are the built-ins whose output can grow faster than
	// their input (reduce with merge doubles per step): capped here.
	jsonlogic.AddOperator("merge", cappedMerge)
	jsonlogic.AddOperator("cat", cappedCat)
}

// operatorError is how a flagd operator reports invalid input. flagd's
// operators return null where they cannot evaluate and the rest of the rule
// goes on (an `if` whose condition is null takes its else branch), so each
// operator here recovers its own failure, returns null and notes the error
// in the evaluation's trace for logs and --explain.
type operatorError struct {
	op  string
	msg string
}

func (e *operatorError) Error() string { return e.op + ": " + e.msg }

func opFail(op, format string, args ...any) {
	panic(&operatorError{op: op, msg: fmt.Sprintf(format, args...)})
}

// guarded runs a flagd operator: an operatorError becomes null, noted in the
// trace found in data; a budget error goes on up and stops the evaluation.
func guarded(fn func(values, data any) any) func(values, data any) any {
	return func(values, data any) (out any) {
		defer func() {
			if r := recover(); r != nil {
				oe, ok := r.(*operatorError)
				if !ok {
					panic(r)
				}
				traceOf(data).opError(oe)
				out = nil
			}
		}()
		return fn(values, data)
	}
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

// Fractional bucketing algorithms (flagd's generations; see docs/flags.md).
const (
	// FractionalV2 hashes the bucketing value's string bytes; the shorthand
	// hashes flagKey followed by the targeting key.
	FractionalV2 = "v2"
	// FractionalV3 hashes the canonical CBOR encoding of the bucketing
	// value (any JSON value but null); the shorthand hashes the CBOR array
	// [flagKey, targetingKey].
	FractionalV3 = "v3"
	// DefaultFractional is what flagd's current release does.
	DefaultFractional = FractionalV2
)

// fractional implements flagd's deterministic split:
//
//	{"fractional": [BUCKETING?, [VARIANT, WEIGHT?], ...]}
//
// The bucketing value's 32-bit murmur3 hash (seed 0, unsigned) h picks
// bucket (h × total weight) >> 32 among the entries' relative weights (an
// entry without a weight weighs 1, a negative weight counts as 0). What is
// hashed depends on the flag's algorithm (FractionalV2 or FractionalV3).
// Variants and weights may be JsonLogic expressions.
func fractional(values, data any) any {
	args, ok := values.([]any)
	if !ok || len(args) == 0 {
		opFail("fractional", "needs at least one [variant, weight] entry")
	}
	ctx, _ := data.(map[string]any)
	tr := traceOf(data)
	algo := tr.algorithm()
	tr.fractional = algo
	var key []byte
	if algo == FractionalV3 {
		key, args = bucketKeyV3(args, ctx)
	} else {
		key, args = bucketKeyV2(args, ctx)
	}
	if len(args) == 0 {
		opFail("fractional", "needs at least one [variant, weight] entry")
	}
	entries, total := fractionalEntries(args, data)
	pick := fractionalPick(entries, total, key)
	v := evalNested(entries[pick].variant, data)
	switch v.(type) {
	case string, bool, float64, nil:
		return v
	}
	opFail("fractional", "variant of entry %d must be a string, boolean, number or null, got %s", pick+1, typeName(v))
	return nil
}

// bucketKeyV2 is the bytes v2 hashes and the entries: a string first
// argument, else $flagd.flagKey followed by the targeting key.
func bucketKeyV2(args []any, ctx map[string]any) ([]byte, []any) {
	switch first := args[0].(type) {
	case string:
		return []byte(first), args[1:]
	case nil:
		args = args[1:]
	}
	tk, ok := ctx["targetingKey"].(string)
	if !ok {
		opFail("fractional", "no bucketing value: the first argument is not a string and the context has no targetingKey")
	}
	return []byte(flagKeyOf(ctx) + tk), args
}

// bucketKeyV3 is the bytes v3 hashes and the entries: the canonical CBOR of
// a first argument that is not an entry, else of [flagKey, targetingKey].
func bucketKeyV3(args []any, ctx map[string]any) ([]byte, []any) {
	switch first := args[0].(type) {
	case []any:
	case nil:
		opFail("fractional", "the bucketing value is null")
	default:
		b, err := canonicalCBOR(first)
		if err != nil {
			opFail("fractional", "bucketing value: %v", err)
		}
		return b, args[1:]
	}
	tk, ok := ctx["targetingKey"].(string)
	if !ok {
		opFail("fractional", "no bucketing value: no first argument and the context has no string targetingKey")
	}
	b, err := canonicalCBOR([]any{flagKeyOf(ctx), tk})
	if err != nil {
		opFail("fractional", "bucketing value: %v", err)
	}
	return b, args
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
// key's bucket.
func fractionalPick(entries []fractionalEntry, total int64, key []byte) int {
	bucket := (uint64(murmur3.Sum32(key)) * uint64(total)) >> 32
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
