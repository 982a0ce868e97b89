package assets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/assets/bods"
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

// ImportBODSAsBefore imports the statements of r as a release before
// assets migration 4 (persons sealed) did, for p: every statement stored
// as given, a person's name in clear in its row, the chunks' digests made
// over those bodies (digests ""), and the entry naming no jurisdiction
// (the registry's). It returns the import's id.
func (s *Service) ImportBODSAsBefore(ctx context.Context, p *auth.Principal, r io.Reader) (string, error) {
	sum := sha256.New()
	d := &bodsImported{ID: s.W.IDs().New("BO"), Source: "before-sealing.jsonl"}
	var rows []bodsRow
	err := bods.Read(io.TeeReader(r, sum), func(n int, st *bods.Statement) error {
		row := bodsRow{key: statementKey(d.ID, int64(n)), statementID: st.StatementID, recordID: st.RecordID, recordType: st.RecordType,
			recordStatus: st.RecordStatus, statementDate: st.StatementDate, name: st.Name, kind: st.Kind, subject: st.Subject,
			party: st.InterestedParty, body: string(st.Raw)}
		switch st.RecordType {
		case bods.Entity:
			d.Entities++
		case bods.Person:
			d.Persons++
		case bods.Relationship:
			d.Relationships++
			b, err := json.Marshal(st.Interests)
			if err != nil {
				return err
			}
			row.interests = string(b)
		}
		d.Statements++
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return "", err
	}
	queue := make(chan []bodsRow, 1)
	queue <- rows
	close(queue)
	var stored atomic.Int64
	if d.Chunks, err = s.storeBODS(ctx, d.ID, p.Jurisdiction, "", queue, &stored); err != nil {
		return "", err
	}
	d.FileSHA256 = hex.EncodeToString(sum.Sum(nil))
	_, err = s.W.Submit(ctx, p.Actor(), "import beneficial ownership statements", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeBODSImported, d)
	})
	return d.ID, err
}
