package vpdq

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// MemoryFile makes a file that lives in memory only (memfd_create): it has
// no name in any directory and no block on any disk, so nothing of what is
// written to it (an uploaded video, which may be abuse material) can be
// read back from the disk, during its life or after a crash. ffprobe and
// ffmpeg read it by its descriptor ([Options.File]); it is gone when the
// last descriptor closes. Its pages count against the process's memory,
// not the disk: the caller bounds what it writes.
func MemoryFile(name string) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_NOEXEC_SEAL)
	if errors.Is(err, unix.EINVAL) {
		// Kernels before 6.3 know no MFD_NOEXEC_SEAL (those after it log
		// a warning for a memfd made without it or MFD_EXEC).
		fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	}
	if err != nil {
		return nil, &os.PathError{Op: "memfd_create", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), "/memfd:"+name), nil
}
