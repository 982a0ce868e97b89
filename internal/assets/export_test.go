package assets

import (
	"context"
	"io"
	"testing"
)

// StageBODS reads, checks and stores the statements of r as ImportBODS
// does, and appends no entry: an import whose process died before its
// entry. It returns the import's id.
func (s *Service) StageBODS(ctx context.Context, r io.Reader) (string, error) {
	d, err := s.stageBODS(ctx, "", "XA", r, 0, nil)
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

// SmallBODSChunks makes, for t, chunks of chunk statements and batches of
// batch statements for log verify's workers, so that a few statements
// make many chunks spread over several workers.
func SmallBODSChunks(t testing.TB, chunk int64, batch int) {
	oldChunk, oldBatch := bodsChunk, bodsVerifyBatch
	bodsChunk, bodsVerifyBatch = chunk, batch
	t.Cleanup(func() { bodsChunk, bodsVerifyBatch = oldChunk, oldBatch })
}
