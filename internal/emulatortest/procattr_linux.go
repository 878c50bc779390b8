package emulatortest

import "syscall"

// procAttr puts the emulator in its own process group (so Stop reaches the
// script's children) and has the kernel kill it if the test binary dies
// without cleaning up.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
