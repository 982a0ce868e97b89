package privacy

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Entry types of the data subjects' rights (docs/personal-data.md).
const (
	// TypeErased records that a principal erased a subject's personal data
	// (GDPR art. 17): the sealed rows named in the entry's Erased are
	// deleted in the same transaction; the records keep their pseudonyms.
	TypeErased = "privacy.subject_erased"
	// TypeSubjectAccess records that a principal exported everything the
	// registry holds about a subject (GDPR art. 15): an opening of their
	// personal data, listed with the reads.
	TypeSubjectAccess = "privacy.subject_access_exported"
)

// The legal grounds of an erasure (GDPR art. 17(1)). Those that override a
// legal retention are the ones under which the registry has no right to keep
// the data at all: it was processed unlawfully (a person registered by
// mistake, without a legal basis), or a court or the supervisory authority
// orders the erasure. The others wait until the retention ends.
const (
	GroundNoLongerNecessary  = "no_longer_necessary"
	GroundConsentWithdrawn   = "consent_withdrawn"
	GroundObjection          = "objection"
	GroundUnlawfullyRecorded = "unlawfully_processed"
	GroundLegalObligation    = "legal_obligation"
)

// Grounds are the erasure grounds with their labels, in the order forms
// list them.
var Grounds = []struct{ Ground, Label string }{
	{GroundNoLongerNecessary, i18n.M("No longer necessary for the purpose (art. 17(1)(a))")},
	{GroundConsentWithdrawn, i18n.M("Consent withdrawn (art. 17(1)(b))")},
	{GroundObjection, i18n.M("Objection (art. 17(1)(c))")},
	{GroundUnlawfullyRecorded, i18n.M("Unlawfully processed, e.g. registered by mistake (art. 17(1)(d)); overrides retention")},
	{GroundLegalObligation, i18n.M("Erasure ordered by a court or the supervisory authority (art. 17(1)(e)); overrides retention")},
}

// GroundNames are the grounds' codes.
func GroundNames() []string {
	out := make([]string, len(Grounds))
	for i, g := range Grounds {
		out[i] = g.Ground
	}
	return out
}

// Overrides tells whether an erasure on ground goes ahead while a legal
// retention applies.
func Overrides(ground string) bool {
	return ground == GroundUnlawfullyRecorded || ground == GroundLegalObligation
}

// Erasure is an erasure as its entry records it: whose (the record, and the
// pseudonym its trace keeps), on what ground, under which decision
// (Reference: a court order's or the data-protection officer's number, never
// personal data), and the retention it overrode, if any. The references
// erased are the entry's Erased.
type Erasure struct {
	ID            string `json:"id"`
	SubjectID     string `json:"subject_id"`
	Pseudonym     string `json:"pseudonym"`
	Ground        string `json:"ground"`
	Reference     string `json:"reference"`
	RetainedUntil string `json:"retained_until,omitempty"`
	ErasedAt      string `json:"erased_at,omitempty"`
	ErasedBy      string `json:"erased_by,omitempty"`
	LogIndex      int64  `json:"log_index,omitempty"`
}

// Correction is a rectification of a subject's personal data (GDPR art.
// 16) as the log records it: which fields, why, and the reference of the
// newly sealed value (committed in the entry's Sealed); the old value stays
// sealed under OldRef.
type Correction struct {
	ID          string   `json:"id"`
	SubjectID   string   `json:"subject_id"`
	OldRef      string   `json:"old_ref"`
	NewRef      string   `json:"new_ref"`
	Fields      []string `json:"fields"`
	Reason      string   `json:"reason"`
	CorrectedAt string   `json:"corrected_at,omitempty"`
	CorrectedBy string   `json:"corrected_by,omitempty"`
	LogIndex    int64    `json:"log_index,omitempty"`
}

// SubjectAccess is a subject-access export as the log records it.
type SubjectAccess struct {
	ID        string `json:"id"`
	SubjectID string `json:"subject_id"`
	Format    string `json:"format"`
	Purpose   string `json:"purpose"`
}

func projectRights(p *ledger.Projections) {
	ledger.On(p, TypeErased, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *Erasure) error {
		var until any
		if r.RetainedUntil != "" {
			until = r.RetainedUntil
		}
		_, err := q.Exec(ctx, `INSERT INTO erasures (id, subject_id, pseudonym, ground, reference, retained_until, erased_at, principal_id, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.SubjectID, r.Pseudonym, r.Ground, r.Reference, until, e.At, e.By, idx)
		return err
	})
	ledger.On(p, TypeSubjectAccess, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *SubjectAccess) error {
		_, err := q.Exec(ctx, `INSERT INTO personal_data_reads (id, subject_id, purpose, read_at, principal_id, log_index) VALUES (?, ?, ?, ?, ?, ?)`,
			a.ID, a.SubjectID, "subject access export ("+a.Format+"): "+a.Purpose, e.At, e.By, idx)
		return err
	})
	p.Tables(ledger.Table{Name: "erasures", Order: "id"}, ledger.Table{Name: "personal_data_corrections", Order: "id"})
}

// ProjectCorrection writes a correction's row: the projector of a
// registry's rectification entry calls it beside its own update of the
// record's subject reference.
func ProjectCorrection(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, c *Correction) error {
	_, err := q.Exec(ctx, `INSERT INTO personal_data_corrections (id, subject_id, old_ref, new_ref, fields, reason, corrected_at, principal_id, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.SubjectID, c.OldRef, c.NewRef, strings.Join(c.Fields, ","), c.Reason, e.At, e.By, idx)
	return err
}

// ErasureOf returns the erasure of the subject whose record is subjectID,
// or nil when it was not erased.
func ErasureOf(ctx context.Context, q store.Queryer, subjectID string) (*Erasure, error) {
	var r Erasure
	var until sql.NullString
	err := q.QueryRow(ctx, `SELECT id, subject_id, pseudonym, ground, reference, retained_until, erased_at, principal_id, log_index
		FROM erasures WHERE subject_id = ?`, subjectID).Scan(&r.ID, &r.SubjectID, &r.Pseudonym, &r.Ground, &r.Reference, &until, &r.ErasedAt, &r.ErasedBy, &r.LogIndex)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	r.RetainedUntil = until.String
	return &r, err
}

// ErasureEntry is the entry of an erasure r that deleted the sealed rows
// refs (their references, so that log verify tells them from rows deleted
// behind custos's back).
func ErasureEntry(r Erasure, refs []string) (*ledger.Entry, error) {
	e, err := ledger.NewEntry(TypeErased, r)
	if err != nil {
		return nil, err
	}
	e.Erased = refs
	return e, nil
}

// ErasedRefusal is the answer to a read of an erased subject's personal
// data: erased, when, by which entry.
func ErasedRefusal(r *Erasure) error {
	return errs.New(errs.NotFound, "subject_erased", "id", "the personal data of %s was erased on %s (entry %d)", r.SubjectID, day(r.ErasedAt), r.LogIndex)
}

func day(at string) string {
	if len(at) >= 10 {
		return at[:10]
	}
	return at
}

// Corrections lists the corrections of the subject whose record is
// subjectID, oldest first.
func Corrections(ctx context.Context, q store.Queryer, subjectID string) ([]Correction, error) {
	rows, err := q.Query(ctx, `SELECT id, subject_id, old_ref, new_ref, fields, reason, corrected_at, principal_id, log_index
		FROM personal_data_corrections WHERE subject_id = ? ORDER BY log_index, id`, subjectID)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, c *Correction) error {
		var fields string
		if err := r.Scan(&c.ID, &c.SubjectID, &c.OldRef, &c.NewRef, &fields, &c.Reason, &c.CorrectedAt, &c.CorrectedBy, &c.LogIndex); err != nil {
			return err
		}
		c.Fields = strings.Split(fields, ",")
		return nil
	})
}

// SubjectRefs are every reference a subject's personal data was ever
// sealed under: the current one and those its corrections replaced.
func SubjectRefs(ctx context.Context, q store.Queryer, subjectID, current string) ([]string, error) {
	cs, err := Corrections(ctx, q, subjectID)
	if err != nil {
		return nil, err
	}
	refs := []string{current}
	for _, c := range cs {
		if !slices.Contains(refs, c.OldRef) {
			refs = append(refs, c.OldRef)
		}
	}
	slices.Sort(refs)
	return refs, nil
}

// ReadRow is one opening of a subject's personal data, as the read log
// lists it: who, when, why, by which entry.
type ReadRow struct {
	ID          string `json:"id"`
	Purpose     string `json:"purpose"`
	ReadAt      string `json:"read_at"`
	PrincipalID string `json:"principal_id"`
	LogIndex    int64  `json:"log_index"`
}

// ReadsOf lists who opened the personal data of the record subjectID (and
// who found it by a search), oldest first.
func ReadsOf(ctx context.Context, q store.Queryer, subjectID string) ([]ReadRow, error) {
	rows, err := q.Query(ctx, `SELECT id, purpose, read_at, principal_id, log_index FROM personal_data_reads
		WHERE subject_id = ? ORDER BY log_index, id`, subjectID)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, x *ReadRow) error {
		return r.Scan(&x.ID, &x.Purpose, &x.ReadAt, &x.PrincipalID, &x.LogIndex)
	})
}

// RecordSubjectAccess writes into the log that actor exported everything
// the registry holds about the record subjectID, in format (json or page),
// for purpose. Call it before handing the export out.
func RecordSubjectAccess(ctx context.Context, w *ledger.Writer, actor ledger.Actor, subjectID, format, purpose string) (ledger.Result, error) {
	id := w.IDs().New("RD")
	return w.Submit(ctx, actor, "export a data subject's data", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeSubjectAccess, SubjectAccess{ID: id, SubjectID: subjectID, Format: format, Purpose: purpose})
	})
}
