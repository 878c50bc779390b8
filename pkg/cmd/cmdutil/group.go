package cmdutil

import (
	"strings"
)

// Located is an error message and where it happened (a region, a stage).
type Located struct {
	Where   string
	Message string
}

// GroupErrors says each distinct message once, in first-seen order, with
// the places it hit: "msg (us-east-1, eu-west-1); other (us-west-2)". An
// error that hits every region is then one line, not one per region.
func GroupErrors(errs []Located) string {
	var order []string
	where := map[string][]string{}
	for _, e := range errs {
		if _, ok := where[e.Message]; !ok {
			order = append(order, e.Message)
		}
		where[e.Message] = append(where[e.Message], e.Where)
	}
	parts := make([]string, len(order))
	for i, msg := range order {
		parts[i] = msg + " (" + strings.Join(where[msg], ", ") + ")"
	}
	return strings.Join(parts, "; ")
}
