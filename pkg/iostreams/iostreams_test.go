package iostreams

import (
	"os"
	"testing"
)

func TestColorEnabled(t *testing.T) {
	tests := []struct {
		name    string
		tty     bool
		noColor bool
		want    bool
	}{
		{"terminal", true, false, true},
		{"terminal with NO_COLOR", true, true, false},
		{"pipe", false, false, false},
		{"pipe with NO_COLOR", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			ios.SetStdoutTTY(tt.tty)
			ios.SetStderrTTY(tt.tty)
			ios.SetNoColor(tt.noColor)
			if got := ios.ColorEnabled(); got != tt.want {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.want)
			}
			if got := ios.ColorEnabledStderr(); got != tt.want {
				t.Errorf("ColorEnabledStderr() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSystemHonoursNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	ios := System()
	ios.SetStdoutTTY(true) // even on a terminal
	if ios.ColorEnabled() {
		t.Error("ColorEnabled() = true with NO_COLOR set")
	}
}

func TestSystemEmptyNoColorIsUnset(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm-256color")
	ios := System()
	ios.SetStdoutTTY(true)
	if !ios.ColorEnabled() {
		t.Error("ColorEnabled() = false with NO_COLOR empty on a terminal")
	}
}

func TestSystemPipeIsNotTTY(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(w) {
		t.Error("a pipe reported as a terminal")
	}
}

func TestTestStreamsAreBuffers(t *testing.T) {
	ios, _, out, errOut := Test()
	if ios.IsStdoutTTY() || ios.IsStderrTTY() || ios.IsStdinTTY() {
		t.Error("test streams claim to be terminals")
	}
	_, _ = ios.Out.Write([]byte("data"))
	_, _ = ios.ErrOut.Write([]byte("msg"))
	if out.String() != "data" || errOut.String() != "msg" {
		t.Errorf("out=%q errOut=%q", out, errOut)
	}
}
