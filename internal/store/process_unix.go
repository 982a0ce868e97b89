//go:build unix

package store

import (
	"errors"
	"syscall"
)

// processRunning tells whether a process numbered pid runs on this
// machine: signal 0 checks without sending anything. A process of another
// user (EPERM) runs; only ESRCH says that none does.
func processRunning(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
