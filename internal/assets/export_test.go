package assets

import (
	"context"
	"io"
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
