package vpdq

import (
	"errors"

	"golang.org/x/sys/unix"
)

// memoryLimited tells whether [Options.MaxMemory] is enforced here.
const memoryLimited = true

// limitMemory bounds what the process pid may allocate to max bytes: its
// RLIMIT_DATA, which since Linux 4.7 counts the heap and every private
// writable mapping (what a decoder allocates, its threads' stacks
// included), not the program's code, its shared libraries' code, nor
// address space only reserved (glibc's arenas), so that it follows what
// the process takes rather than how many threads it starts. An allocation
// beyond it fails, and ffmpeg says so. It is set right after the process
// starts: the dynamic loader is then still mapping its libraries, before
// any file is read.
func limitMemory(pid int, max int64) error {
	lim := unix.Rlimit{Cur: uint64(max), Max: uint64(max)}
	if err := unix.Prlimit(pid, unix.RLIMIT_DATA, &lim, nil); err != nil && !errors.Is(err, unix.ESRCH) {
		return err // ESRCH: gone already, and its exit says why
	}
	return nil
}
