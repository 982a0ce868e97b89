//go:build !linux

package vpdq

import "os"

// MemoryFile makes a temporary file removed from its directory at once,
// where memfd_create is not to be had: it keeps no name, but its blocks are
// on the disk of the temporary directory while it lives. (The server reads
// an uploaded video by /proc/self/fd, which only Linux has.)
func MemoryFile(name string) (*os.File, error) {
	f, err := os.CreateTemp("", name+"-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}
