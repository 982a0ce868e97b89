//go:build !unix

package index

import (
	"io"
	"os"
)

// mapping holds an index file read into memory where memory maps are not
// available.
type mapping struct{ data []byte }

func mapFile(f *os.File, size int64) (*mapping, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return &mapping{data: b}, nil
}

func (m *mapping) unmap() {}
