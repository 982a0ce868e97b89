package privacy

import (
	"context"
	"fmt"
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
	// TypeSearch records that a principal looked a person up by their
	// personal data (a national identifier, a name with a date of birth),
	// why, and which records it found: never what was looked for.
	TypeSearch = "privacy.personal_data_searched"
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
	// A search is read-log rows of its own: one for each record it found,
	// whose id is the search's with the record's number (RD-...-1, -2, ...),
	// or one with no subject when it found none. Its purpose says what it
	// searched by.
	ledger.On(p, TypeSearch, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, s *Search) error {
		purpose := "search by " + s.By + ": " + s.Purpose
		if len(s.Found) == 0 {
			return project(ctx, q, idx, e, &Read{ID: s.ID, Purpose: purpose})
		}
		for i, id := range s.Found {
			if err := project(ctx, q, idx, e, &Read{ID: fmt.Sprintf("%s-%d", s.ID, i+1), SubjectID: id, Purpose: purpose}); err != nil {
				return err
			}
		}
		return nil
	})
	p.Tables(ledger.Table{Name: "personal_data_reads", Order: "id"})
	projectRights(p)
}

// Search is who looked a person up by their personal data, by what kind of
// key (By: "national_id", "name_date_of_birth"), why, and the records found.
// The key itself is not in it.
type Search struct {
	ID      string   `json:"id"`
	By      string   `json:"by"`
	Purpose string   `json:"purpose"`
	Found   []string `json:"found"`
}

// RecordSearch writes into the log that actor looked a person up by the kind
// of key by, for purpose, and found the records found (none is recorded
// too). Call it before handing the result out.
func RecordSearch(ctx context.Context, w *ledger.Writer, actor ledger.Actor, by, purpose string, found []string) error {
	id := w.IDs().New("RD")
	if found == nil {
		found = []string{}
	}
	_, err := w.Submit(ctx, actor, "search personal data", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeSearch, Search{ID: id, By: by, Purpose: purpose, Found: found})
	})
	return err
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
