// Package prompt asks the person at the terminal. Commands get a Prompter
// from their Factory, so that tests answer with a fake and a run without a
// terminal never blocks on a question nobody can see.
package prompt

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/gantryhq/gantry/pkg/iostreams"
)

// ErrNoTerminal is Confirm's error when there is nobody to ask.
var ErrNoTerminal = errors.New("no terminal to ask on")

// Prompter asks questions.
type Prompter interface {
	// CanPrompt reports whether a person can answer: stdin and stderr are
	// terminals.
	CanPrompt() bool
	// Confirm asks a yes/no question whose default is no: only "y" or
	// "yes" (any case) is a yes; an empty line or end of input is a no.
	// Without a terminal it asks nothing and returns ErrNoTerminal.
	Confirm(question string) (bool, error)
}

// New returns the Prompter of ios: questions on ErrOut, answers from In.
func New(ios *iostreams.IOStreams) Prompter { return &terminal{ios: ios} }

type terminal struct {
	ios *iostreams.IOStreams
	in  *bufio.Reader // made once: a second question must not lose buffered input
}

func (t *terminal) CanPrompt() bool { return t.ios.IsStdinTTY() && t.ios.IsStderrTTY() }

func (t *terminal) Confirm(question string) (bool, error) {
	if !t.CanPrompt() {
		return false, ErrNoTerminal
	}
	if t.in == nil {
		t.in = bufio.NewReader(t.ios.In)
	}
	fmt.Fprintf(t.ios.ErrOut, "%s [y/N] ", question)
	line, err := t.in.ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(t.ios.ErrOut)
		return false, nil
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes", nil
}

// Answers is a Prompter for tests: it answers each question with the next
// answer (no once they run out) and records the questions.
type Answers struct {
	// NoTerminal makes it behave as a run without a terminal.
	NoTerminal bool
	Replies    []bool
	Asked      []string
}

// CanPrompt implements Prompter.
func (a *Answers) CanPrompt() bool { return !a.NoTerminal }

// Confirm implements Prompter.
func (a *Answers) Confirm(question string) (bool, error) {
	if a.NoTerminal {
		return false, ErrNoTerminal
	}
	a.Asked = append(a.Asked, question)
	if len(a.Replies) == 0 {
		return false, nil
	}
	r := a.Replies[0]
	a.Replies = a.Replies[1:]
	return r, nil
}
