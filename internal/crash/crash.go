// Package crash turns a panic into an error that says it is a bug of
// gantry's, so that a crash is never mistaken for a verdict on the input:
// the root command reports it with what to attach to a bug report and
// exits with its own code.
package crash

import (
	"fmt"
	"runtime/debug"
)

// Panic is a recovered panic and where it happened.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string {
	return fmt.Sprintf("internal error (a bug in gantry): %v", p.Value)
}

// New wraps a recovered value with the current goroutine's stack.
func New(v any) *Panic {
	if p, ok := v.(*Panic); ok {
		return p
	}
	return &Panic{Value: v, Stack: debug.Stack()}
}

// Catch recovers a panic of the calling function into *err. Use it as
// `defer crash.Catch(&err)` at the top of a goroutine or an entry point.
func Catch(err *error) {
	if r := recover(); r != nil {
		*err = New(r)
	}
}
