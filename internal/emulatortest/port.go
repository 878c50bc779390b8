package emulatortest

import (
	"fmt"
	"net"
)

// freePort asks the kernel for a free loopback port (fallback path only:
// the run script picks its own with --port 0).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
