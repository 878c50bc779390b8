package root

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/iostreams"
)

// Main runs gantry as the process does: the command on its own goroutine,
// so that a signal ends the process even when the command is stuck in a
// read it cannot abandon. It returns the exit code.
func Main(args []string, version string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ios := iostreams.System()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, &cmdutil.Factory{IOStreams: ios, Version: version}, args)
	}()
	return wait(done, sigs, cancel, InterruptGrace(args), ios.ErrOut)
}

// wait returns the command's exit code. The first signal cancels the
// command's context. A command with a grace (lint, render, ...) then has
// that long to end, and exits 128+signal whatever it returns; one without
// (deploy: it releases its lock and records what it did) is waited for.
// A second signal ends the process at once.
func wait(done <-chan int, sigs <-chan os.Signal, cancel func(), grace time.Duration, errOut io.Writer) int {
	var first os.Signal
	select {
	case code := <-done:
		return code
	case first = <-sigs:
		cancel()
	}
	var timeout <-chan time.Time
	if grace > 0 {
		timeout = time.After(grace)
	}
	select {
	case code := <-done:
		if grace > 0 {
			return signalCode(first)
		}
		return code
	case s := <-sigs:
		fmt.Fprintf(errOut, "gantry: %v again: not waiting any longer; a rollout lock this run held stays until its lease expires, or `gantry unlock FILE --stage S`\n", s)
		return signalCode(s)
	case <-timeout:
		fmt.Fprintf(errOut, "gantry: %v: stopped\n", first)
		return signalCode(first)
	}
}

// signalCode is the shell's code for a process ended by s: 128 + number.
func signalCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 130
}
