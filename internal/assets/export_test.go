package assets

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
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

// Money is money: an amount in a currency as the registry reads it.
var Money = money

// ReferenceKey is referenceKey: a case reference as the registry compares it.
var ReferenceKey = referenceKey

// OpenCaseAsBefore opens a case of p's state under ref as a release before
// assets migration 10 could: without the check of its reference, for the
// references that release's folding kept apart (look-alike letters of
// another script).
func (s *Service) OpenCaseAsBefore(ctx context.Context, p *auth.Principal, ref string) (string, error) {
	c := caseOpened{ID: s.W.IDs().New("RV"), State: p.Jurisdiction, AuthorityID: p.AuthorityID, Reference: ref, Title: "Opened before migration 10",
		Kind: CaseDomestic, Offences: []string{"0703"}, OpenedOn: "2025-01-02"}
	_, err := s.W.Submit(ctx, p.Actor(), "open an asset-recovery case", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeCaseOpened, c)
	})
	return c.ID, err
}
