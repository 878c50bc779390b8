package flagd

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/diegoholiveira/jsonlogic/v3"
	of "github.com/open-feature/go-sdk/openfeature"
)

// Type is the type a flag is asked for.
type Type int

// The flag types OpenFeature evaluates.
const (
	Boolean Type = iota
	String
	Integer
	Float
	Object
)

func (t Type) String() string {
	return [...]string{"boolean", "string", "integer", "float", "object"}[t]
}

// Result is one evaluation, in OpenFeature's terms.
type Result struct {
	// Value is the flag's value, or the caller's default on an error, a
	// disabled flag or a flag without a default variant.
	Value        any
	Variant      string
	Reason       of.Reason
	ErrorCode    of.ErrorCode
	ErrorMessage string
	Metadata     map[string]any
	// OperatorError, when set, says which flagd operators returned null
	// during targeting and why (the rule went on without them): worth
	// logging, and what --explain shows.
	OperatorError string
	// Fractional is the bucketing algorithm of the fractional operator that
	// ran during targeting (FractionalV2 or FractionalV3), or "".
	Fractional string
	// Explain says which rule branch decided, or which error; "" for a flag
	// without targeting.
	Explain string
}

// Evaluate evaluates flag key as type t for the evaluation context ctx (a
// flattened OpenFeature context: attributes plus "targetingKey"), exactly
// as flagd does: reasons STATIC, TARGETING_MATCH, DEFAULT, DISABLED and
// ERROR; error codes FLAG_NOT_FOUND, PARSE_ERROR, TYPE_MISMATCH, GENERAL.
func (s *FlagSet) Evaluate(key string, t Type, def any, ctx map[string]any, now time.Time) Result {
	f, ok := s.Flags[key]
	if !ok {
		return errResult(def, of.FlagNotFoundCode, fmt.Sprintf("flag %q is not in %s", key, s.File))
	}
	if f.State == StateDisabled {
		return Result{Value: def, Reason: of.DisabledReason, Metadata: f.Metadata}
	}
	variant, reason := f.DefaultVariant, of.StaticReason
	res := Result{Metadata: f.Metadata}
	if f.Targeting != nil {
		if f.refError != "" {
			return withMeta(errResult(def, of.ParseErrorCode, fmt.Sprintf("flag %q: %s", key, f.refError)), f)
		}
		if err := CheckContext(ctx); err != nil {
			return withMeta(errResult(def, of.InvalidContextCode, fmt.Sprintf("flag %q: %v", key, err)), f)
		}
		tr := &trace{algo: f.Fractional}
		data := targetingData(key, ctx, now, tr)
		out, err := applyTargeting(f.Targeting, data)
		res.OperatorError, res.Fractional = strings.Join(tr.opErrors, "; "), tr.fractional
		if err == nil {
			res.Explain = explain(f.Targeting, data, f.Fractional)
		}
		var be *budgetError
		switch {
		case errors.As(err, &be):
			return withMeta(errResult(def, of.GeneralCode, fmt.Sprintf("flag %q: targeting stopped: %v", key, err)), f)
		case err != nil:
			return withMeta(errResult(def, of.ParseErrorCode, fmt.Sprintf("flag %q: targeting: %v", key, err)), f)
		}
		switch v := out.(type) {
		case nil:
			reason = of.DefaultReason
		case string:
			variant, reason = v, of.TargetingMatchReason
		case bool:
			variant, reason = fmt.Sprint(v), of.TargetingMatchReason
		default:
			return withMeta(errResult(def, of.GeneralCode, fmt.Sprintf("flag %q: targeting returned %s, not a variant name", key, compact(out))), f)
		}
		if reason == of.TargetingMatchReason {
			if _, ok := f.Variants[variant]; !ok {
				return withMeta(errResult(def, of.GeneralCode, fmt.Sprintf("flag %q: targeting returned variant %q, which the flag does not define (its variants: %s)", key, variant, strings.Join(sortedKeys(f.Variants), ", "))), f)
			}
		}
	}
	if variant == "" {
		// No default variant: the caller's default, as flagd providers do.
		res.Value, res.Reason = def, of.DefaultReason
		return res
	}
	v, ok := convert(f.Variants[variant], t)
	if !ok {
		return withMeta(errResult(def, of.TypeMismatchCode, fmt.Sprintf("flag %q is not a %s flag: variant %q is %s", key, t, variant, typeName(f.Variants[variant]))), f)
	}
	res.Value, res.Variant, res.Reason = v, variant, reason
	return res
}

func errResult(def any, code of.ErrorCode, msg string) Result {
	return Result{Value: def, Reason: of.ErrorReason, ErrorCode: code, ErrorMessage: msg}
}

func withMeta(r Result, f *Flag) Result {
	r.Metadata = f.Metadata
	return r
}

// convert checks a variant's value against the asked type; numbers convert
// between integer and float when nothing is lost.
func convert(v any, t Type) (any, bool) {
	switch t {
	case Boolean:
		b, ok := v.(bool)
		return b, ok
	case String:
		s, ok := v.(string)
		return s, ok
	case Float:
		f, ok := v.(float64)
		return f, ok
	case Integer:
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, false
		}
		return int64(f), true
	case Object:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		return deepCopy(m), true
	}
	return nil, false
}

// deepCopy copies a variant value so that a caller changing it cannot
// change the flag set.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// targetingData is the data JsonLogic sees: the context, as JSON values,
// with the $flagd properties.
func targetingData(key string, ctx map[string]any, now time.Time, tr *trace) map[string]any {
	data := map[string]any{}
	if len(ctx) > 0 {
		if b, err := json.Marshal(ctx); err == nil {
			_ = json.Unmarshal(b, &data)
		}
	}
	data["$flagd"] = map[string]any{"flagKey": key, "timestamp": float64(now.Unix())}
	data[traceKey] = tr
	return data
}

// applyTargeting runs a rule. flagd's operators return null on invalid
// input by themselves (see guarded); what still stops the rule, an unknown
// operator or a budget, is an error.
func applyTargeting(rule any, data map[string]any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				out, err = nil, e
				return
			}
			out, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return jsonlogic.ApplyInterface(rule, data)
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
