package cmdutil

import (
	"errors"
	"fmt"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain error", errors.New("boom"), 1},
		{"usage", UsageErrorf("bad flag %q", "x"), 2},
		{"input", InputError(errors.New("bad file")), 2},
		{"failure", Failure(errors.New("write failed")), 1},
		{"silent", SilentExit(3), 3},
		{"wrapped", fmt.Errorf("running: %w", UsageErrorf("bad")), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestUsageErrorIsRecognised(t *testing.T) {
	err := UsageErrorf("unknown format %q", "xml")
	if !IsUsageError(err) {
		t.Error("IsUsageError(UsageErrorf(...)) = false")
	}
	if IsUsageError(InputError(errors.New("x"))) {
		t.Error("IsUsageError(InputError(...)) = true")
	}
	if err.Error() != `unknown format "xml"` {
		t.Errorf("message = %q", err.Error())
	}
}

func TestSilentExit(t *testing.T) {
	var e *ExitCodeError
	if !errors.As(SilentExit(1), &e) || !e.Silent() {
		t.Error("SilentExit is not silent")
	}
	if !errors.As(Failure(errors.New("x")), &e) || e.Silent() {
		t.Error("Failure is silent")
	}
}
