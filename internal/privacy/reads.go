package privacy

import (
	"context"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Entry types of the log of personal-data reads.
const (
	// TypeRead records that a principal opened a data subject's sealed
	// personal data, and why: never the data itself.
	TypeRead = "privacy.personal_data_read"
	// TypeTransplantRead is the same record as the transplant registry wrote
	// it before the read log moved here. Logs hold it for good, so it keeps
	// its projector.
	TypeTransplantRead = "transplant.personal_data_read"
)

// Read is who opened whose personal data, and why.
type Read struct {
	ID        string `json:"id"`
	SubjectID string `json:"subject_id"` // the record whose subject it is (a donor, a recipient, ...)
	Purpose   string `json:"purpose"`
}

// Project adds the read log's projectors and table.
func Project(p *ledger.Projections) {
	project := func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *Read) error {
		_, err := q.Exec(ctx, `INSERT INTO personal_data_reads (id, subject_id, purpose, read_at, principal_id, log_index) VALUES (?, ?, ?, ?, ?, ?)`,
			r.ID, r.SubjectID, r.Purpose, e.At, e.By, idx)
		return err
	}
	ledger.On(p, TypeRead, project)
	ledger.On(p, TypeTransplantRead, project)
	p.Tables(ledger.Table{Name: "personal_data_reads", Order: "id"})
}

// RecordRead writes into the log that actor opened the personal data of the
// record subjectID for purpose. Call it before handing the data out: a read
// that cannot be logged is not made.
func RecordRead(ctx context.Context, w *ledger.Writer, actor ledger.Actor, subjectID, purpose string) error {
	id := w.IDs().New("RD")
	_, err := w.Submit(ctx, actor, "read personal data", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeRead, Read{ID: id, SubjectID: subjectID, Purpose: purpose})
	})
	return err
}
