package crash

import (
	"errors"
	"strings"
	"testing"
)

func TestCatch(t *testing.T) {
	err := func() (err error) {
		defer Catch(&err)
		var m map[string]int
		m["x"]++ // a nil map write panics
		return nil
	}()
	var p *Panic
	if !errors.As(err, &p) || !strings.Contains(p.Error(), "internal error") || !strings.Contains(string(p.Stack), "TestCatch") {
		t.Fatalf("Catch gave %v", err)
	}
}
