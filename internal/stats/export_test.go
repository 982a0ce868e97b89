package stats

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"

	"github.com/custos-project/custos/internal/check"
)

// SetChunksPerRead sets how many chunks one read asks for and returns a
// function that puts it back: a test splits an import of a few chunks
// among several readers with it.
func SetChunksPerRead(n int) (restore func()) {
	old := chunksPerRead
	chunksPerRead = n
	return func() { chunksPerRead = old }
}

// StoreOnly checks a records file (read with the newest version of
// mapping) and stores its chunks as Import does, under a new import id,
// and appends no entry: an import whose process died before its entry.
func (s *Service) StoreOnly(ctx context.Context, mapping string, r io.Reader) (string, error) {
	m, err := loadMapping(ctx, s.DB.Read(), mapping, 0)
	if err != nil {
		return "", err
	}
	var spill bytes.Buffer
	ps := &parser{m: m.codeMap(), now: s.now().UTC().Format(check.DateLayout), emit: func(c *chunk) error { return writeChunk(&spill, c) }}
	if _, err := ps.parse(r); err != nil {
		return "", err
	}
	id := s.W.IDs().New("SI")
	_, err = s.store(ctx, id, &spill, sha256.New(), func(int64) {})
	return id, err
}
