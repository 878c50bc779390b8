package prompt

import (
	"errors"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/iostreams"
)

func TestConfirm(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"y\n", true}, {"YES\n", true}, {" yes \n", true}, {"n\n", false}, {"\n", false}, {"", false}, {"yep\n", false},
	} {
		ios, in, _, errOut := iostreams.Test()
		ios.SetStdinTTY(true)
		ios.SetStderrTTY(true)
		in.WriteString(tc.in)
		got, err := New(ios).Confirm("Deploy?")
		if err != nil || got != tc.want {
			t.Errorf("answer %q: got %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if !strings.HasPrefix(errOut.String(), "Deploy? [y/N] ") {
			t.Errorf("question not shown: %q", errOut.String())
		}
	}
}

func TestConfirmTwiceKeepsBufferedInput(t *testing.T) {
	ios, in, _, _ := iostreams.Test()
	ios.SetStdinTTY(true)
	ios.SetStderrTTY(true)
	in.WriteString("y\nn\n")
	p := New(ios)
	first, _ := p.Confirm("one?")
	second, _ := p.Confirm("two?")
	if !first || second {
		t.Fatalf("got %v, %v; want true, false", first, second)
	}
}

func TestNoTerminalAsksNothing(t *testing.T) {
	for _, tty := range [][2]bool{{false, false}, {true, false}, {false, true}} {
		ios, in, _, errOut := iostreams.Test()
		ios.SetStdinTTY(tty[0])
		ios.SetStderrTTY(tty[1])
		in.WriteString("y\n")
		p := New(ios)
		ok, err := p.Confirm("Deploy?")
		if ok || !errors.Is(err, ErrNoTerminal) || p.CanPrompt() {
			t.Errorf("tty %v: got %v, %v", tty, ok, err)
		}
		if errOut.Len() != 0 {
			t.Errorf("tty %v: asked anyway: %q", tty, errOut.String())
		}
	}
}
