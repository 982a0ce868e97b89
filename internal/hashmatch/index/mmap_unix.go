//go:build unix

package index

import (
	"os"
	"syscall"
)

// mapping is a read-only memory map of an index file.
type mapping struct{ data []byte }

func mapFile(f *os.File, size int64) (*mapping, error) {
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return &mapping{data: b}, nil
}

func (m *mapping) unmap() { _ = syscall.Munmap(m.data) }
