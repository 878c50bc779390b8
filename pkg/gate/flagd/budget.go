package flagd

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Budgets on what a flag file and an evaluation context may cost. A flag
// file may come from anyone who can write to a flags repository, so every
// way its size turns into memory or time is bounded (docs/flags.md lists
// these with the errors a user sees).
const (
	// MaxFileBytes is the largest flag file read.
	MaxFileBytes = 8 << 20
	// MaxDepth is the deepest nesting of arrays and objects in a flag file.
	MaxDepth = 64
	// MaxFlags is the most flags one file may define.
	MaxFlags = 10_000
	// MaxExpandedNodes is the most JSON values the file's targeting rules
	// may hold once every $ref is inlined (summed over all flags).
	MaxExpandedNodes = 200_000
	// MaxEvalWork is the most steps one flag's targeting may take by a
	// static estimate: each operator counts one, and the body of map,
	// filter, reduce, all, some and none counts once per element (a literal
	// array's length, or MaxContextElements for data).
	MaxEvalWork = 1_000_000
	// MaxMergeElements and MaxCatBytes cap what merge and cat build, the
	// two operators whose output can outgrow their input (reduce with
	// merge doubles per element).
	MaxMergeElements = 10_000
	MaxCatBytes      = 64 << 10
	// MaxContextBytes and MaxContextDepth bound an evaluation context, as
	// JSON; MaxContextElements is the most values such a context can hold.
	MaxContextBytes    = 64 << 10
	MaxContextDepth    = 16
	MaxContextElements = MaxContextBytes / 2
)

// readCapped reads a flag file, refusing one larger than MaxFileBytes
// without reading the rest (/dev/zero fails at once).
func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%w: a flag file may be at most %d MiB", ErrTooLarge, MaxFileBytes>>20)
	}
	return data, nil
}

// ErrTooLarge is a flag file or context over its size budget.
var ErrTooLarge = errors.New("too large")

// CheckContext refuses an evaluation context (as JSON values) larger or
// deeper than the context budgets.
func CheckContext(ctx map[string]any) error {
	size, err := contextSize(ctx, 0)
	if err != nil {
		return err
	}
	if size > MaxContextBytes {
		return fmt.Errorf("the evaluation context is about %d bytes as JSON; at most %d are allowed", size, MaxContextBytes)
	}
	return nil
}

// contextSize estimates v's size as JSON, stopping early past the budget.
func contextSize(v any, depth int) (int, error) {
	if depth > MaxContextDepth {
		return 0, fmt.Errorf("the evaluation context is nested more than %d levels deep", MaxContextDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		n := 2
		for k, e := range x {
			s, err := contextSize(e, depth+1)
			if err != nil {
				return 0, err
			}
			if n += len(k) + 4 + s; n > MaxContextBytes {
				return n, nil
			}
		}
		return n, nil
	case []any:
		n := 2
		for _, e := range x {
			s, err := contextSize(e, depth+1)
			if err != nil {
				return 0, err
			}
			if n += s + 1; n > MaxContextBytes {
				return n, nil
			}
		}
		return n, nil
	case string:
		return len(x) + 2, nil
	}
	return 8, nil
}

// workEstimate is the static cost of a rule (see MaxEvalWork), saturating
// just past the budget.
func workEstimate(v any) int {
	switch x := v.(type) {
	case []any:
		n := 1
		for _, e := range x {
			n = satAdd(n, workEstimate(e))
		}
		return n
	case map[string]any:
		if len(x) == 1 {
			for op, args := range x {
				if list, ok := args.([]any); ok && len(list) >= 2 && isLoop(op) {
					return loopWork(list)
				}
			}
		}
		n := 1
		for _, e := range x {
			n = satAdd(n, workEstimate(e))
		}
		return n
	}
	return 1
}

func isLoop(op string) bool {
	switch op {
	case "map", "filter", "reduce", "all", "some", "none":
		return true
	}
	return false
}

// loopWork is the cost of an operator that runs its body per element.
func loopWork(args []any) int {
	elems := MaxContextElements
	if lit, ok := args[0].([]any); ok {
		elems = len(lit)
	}
	n := satAdd(1, workEstimate(args[0]))
	body := workEstimate(args[1])
	if body > 0 && elems > (MaxEvalWork+1)/body {
		return MaxEvalWork + 1
	}
	n = satAdd(n, elems*body)
	for _, rest := range args[2:] {
		n = satAdd(n, workEstimate(rest))
	}
	return n
}

func satAdd(a, b int) int {
	if a+b > MaxEvalWork {
		return MaxEvalWork + 1
	}
	return a + b
}
