// Command gantry lints, renders and deploys service descriptors.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/cmd/root"
	"github.com/gantryhq/gantry/pkg/iostreams"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := root.Run(ctx, &cmdutil.Factory{IOStreams: iostreams.System(), Version: version}, os.Args[1:])
	stop()
	os.Exit(code)
}
