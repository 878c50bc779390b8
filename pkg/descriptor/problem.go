package descriptor

import "fmt"

// Problem codes reported by the loader. They are lint rule ids too, so a
// loader problem and a lint finding read the same to the user.
const (
	CodeSyntax      = "GN101" // not valid YAML, or not loadable at all (size, aliases, depth)
	CodeDuplicate   = "GN102" // a key given twice in one mapping
	CodeType        = "GN103" // a value of the wrong type
	CodeUnknownKey  = "GN104" // a key the format does not have
	CodeRequired    = "GN105" // a required key is missing
	CodeDuration    = "GN106" // not a Go duration, or negative
	CodeName        = "GN107" // a name that breaks its pattern
	CodeValue       = "GN108" // a value outside what the field allows
	CodePlaceholder = "GN109" // a malformed or unknown ${...} placeholder
	CodeOverride    = "GN110" // a stage override gantry cannot apply
)

// Problem is one defect found while loading a descriptor.
type Problem struct {
	Span
	Code    string
	Message string
	// Secret marks a problem at a value that may hold a secret (a value
	// under secrets:): no output shows the source line there.
	Secret bool
}

func (p Problem) String() string {
	return fmt.Sprintf("%d:%d: %s: %s", p.Line, p.Column, p.Code, p.Message)
}
