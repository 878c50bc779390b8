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

// A panic on a Group's goroutine comes back on Wait's, with its stack.
func TestGroupPanicsOnWait(t *testing.T) {
	var g Group
	done := 0
	g.Go(func() { done++ })
	g.Go(func() { panic("boom") })
	err := func() (err error) {
		defer Catch(&err)
		g.Wait()
		return nil
	}()
	var p *Panic
	if !errors.As(err, &p) || p.Value != "boom" || !strings.Contains(string(p.Stack), "TestGroupPanicsOnWait") {
		t.Fatalf("Wait gave %v", err)
	}
}
