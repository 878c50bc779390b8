// Command gantry lints, renders and deploys service descriptors.
package main

import (
	"os"

	"github.com/gantryhq/gantry/pkg/cmd/root"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	os.Exit(root.Main(os.Args[1:], version))
}
