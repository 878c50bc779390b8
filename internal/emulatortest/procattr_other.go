//go:build unix && !linux

package emulatortest

import "syscall"

// procAttr puts the emulator in its own process group so Stop reaches the
// script's children.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
