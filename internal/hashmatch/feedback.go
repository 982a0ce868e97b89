package hashmatch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Feedback to a bank's owner (the "deconfirm a third-party signal" of
// Meta's HMA): a service whose reviewer rejected a match as a false positive
// disputes the matched entry, with a note and without the content (the
// entry's reference and the match's distance only: no image, no user
// pseudonym, no content reference). The owner sees the disputed entries of
// its banks ranked by how many services disputed them, and reviews each:
// keep it, or withdraw it, which deletes it in the next version the owner
// publishes.

// Entry types of feedback.
const (
	TypeEntryDisputed   = "hashmatch.entry_disputed"
	TypeDisputeReviewed = "hashmatch.dispute_reviewed"
)

// Decisions of the owner on a disputed entry, and the statuses of a dispute.
const (
	DecisionKeep     = "keep"
	DecisionWithdraw = "withdraw"
	disputeOpen      = "open"
)

// DisputeDecisions are the owner's decisions on a disputed entry.
var DisputeDecisions = []string{DecisionKeep, DecisionWithdraw}

// disputeStatus is the status a dispute takes when its entry is reviewed.
var disputeStatus = map[string]string{DecisionKeep: "kept", DecisionWithdraw: "withdrawn"}

// ReviewDisputes is the owner's action on the disputed entries of its banks.
var ReviewDisputes = auth.NewAction("review the disputed entries of one's own hash banks", RoleAnalyst)

// NewDispute is the input of DisputeCase: the reviewer's note to the bank's
// owner (why the match is a false positive), without the content.
type NewDispute struct {
	Note string `json:"note" api:"required"`
}

// Dispute is a service's feedback on one bank entry, as the service sees
// it: with its case and, once the owner reviewed the entry, the decision and
// its reason.
type Dispute struct {
	ID          string `json:"id"`
	CaseID      string `json:"case_id"`
	ProviderID  string `json:"provider_id"`
	BankID      string `json:"bank_id"`
	EntryID     string `json:"entry_id"`
	Distance    int    `json:"distance"`
	Note        string `json:"note"`
	Status      string `json:"status"` // open, kept or withdrawn
	DisputedAt  string `json:"disputed_at,omitempty"`
	ReviewedAt  string `json:"reviewed_at,omitempty"`
	Reason      string `json:"reason,omitempty"`
	WithdrawnIn int    `json:"withdrawn_in_version,omitempty"`
}

type entryDisputed struct {
	ID         string `json:"id"`
	CaseID     string `json:"case_id"`
	ProviderID string `json:"provider_id"`
	BankID     string `json:"bank_id"`
	EntryID    string `json:"entry_id"`
	Distance   int    `json:"distance"`
	Note       string `json:"note"`
}

// EntryReview is the input of ReviewDisputedEntry.
type EntryReview struct {
	Decision string `json:"decision" api:"required"` // keep or withdraw
	Reason   string `json:"reason" api:"required"`
}

type disputeReviewed struct {
	ID       string `json:"id"`
	BankID   string `json:"bank_id"`
	EntryID  string `json:"entry_id"`
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	Disputes int    `json:"disputes"` // the open disputes the review closed
}

// OwnerDispute is one service's dispute as the bank's owner sees it: the
// service, its note and the distance of the match; never the case.
type OwnerDispute struct {
	ProviderID string `json:"provider_id"`
	Distance   int    `json:"distance"`
	Note       string `json:"note"`
	DisputedAt string `json:"disputed_at"`
}

// DisputedEntry is an entry of the owner's banks with open disputes.
type DisputedEntry struct {
	BankID         string         `json:"bank_id"`
	BankName       string         `json:"bank_name"`
	EntryID        string         `json:"entry_id"`
	Classification string         `json:"classification"`
	Services       int            `json:"services"` // distinct service providers that disputed it
	Disputes       int            `json:"disputes"`
	LastDisputedAt string         `json:"last_disputed_at"`
	Open           []OwnerDispute `json:"open"`
}

// DisputedEntries is the owner's view: the entries with open disputes,
// ranked, and the entries withdrawn but not yet deleted by a version.
type DisputedEntries struct {
	Entries            []DisputedEntry `json:"entries"`
	PendingWithdrawals []EntryRef      `json:"pending_withdrawals"`
}

// EntryRef names one entry of one bank.
type EntryRef struct {
	BankID  string `json:"bank_id"`
	EntryID string `json:"entry_id"`
}

// MaxDisputedEntries bounds the owner's list: the most disputed first.
const MaxDisputedEntries = 500

// DisputeCase tells the owner of the bank of a rejected case's best match
// that the match is a false positive. One dispute per case; the entry must
// still be live.
func (s *Service) DisputeCase(ctx context.Context, p *auth.Principal, caseID string, in NewDispute) (*Dispute, error) {
	if err := p.Require(ReviewCases); err != nil {
		return nil, err
	}
	note, err := check.Trimmed("note", in.Note, 2000)
	if err != nil {
		return nil, err
	}
	if note == "" {
		return nil, errs.Invalidf("required", "note", "say why the match is a false positive; the note goes to the list's owner, the content never does")
	}
	id := s.W.IDs().New("HD")
	_, err = s.W.Submit(ctx, p.Actor(), "dispute bank entry", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		c, err := caseForStep(ctx, tx, p, caseID, statusRejected, func(c *Case) error {
			return errs.New(errs.Conflict, "not_rejected", "case_id", "case %s is %s; only a match a reviewer rejected as a false positive is disputed", caseID, c.Status)
		}, "hm_disputes", errs.New(errs.Conflict, "already_disputed", "case_id", "case %s was already disputed", caseID))
		if err != nil {
			return nil, err
		}
		var del sql.NullInt64
		err = tx.QueryRow(ctx, "SELECT deleted_version FROM hm_entries WHERE id = ?", entryKey(c.BestBankID, c.BestEntryID)).Scan(&del)
		if errors.Is(err, sql.ErrNoRows) || del.Valid {
			return nil, errs.New(errs.Conflict, "entry_gone", "case_id", "entry %s of bank %s is no longer in the bank", c.BestEntryID, c.BestBankID)
		}
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeEntryDisputed, entryDisputed{ID: id, CaseID: caseID, ProviderID: c.ProviderID,
			BankID: c.BestBankID, EntryID: c.BestEntryID, Distance: c.BestDistance, Note: note})
	})
	if err != nil {
		return nil, err
	}
	ds, err := s.disputes(ctx, p.AuthorityID, id, "")
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, errs.New(errs.NotFound, "reference", "dispute_id", "no dispute %s", id)
	}
	return &ds[0], nil
}

// ReviewDisputedEntry records the owner's decision on an entry with open
// disputes: keep it, or withdraw it. A withdrawn entry stays in the bank
// (and matches) until the owner's next version, which deletes it.
func (s *Service) ReviewDisputedEntry(ctx context.Context, p *auth.Principal, bankID, entryID string, in EntryReview) error {
	if err := p.Require(ReviewDisputes); err != nil {
		return err
	}
	if err := check.OneOf("decision", in.Decision, DisputeDecisions); err != nil {
		return err
	}
	reason, err := check.Trimmed("reason", in.Reason, 2000)
	if err != nil {
		return err
	}
	if reason == "" {
		return errs.Invalidf("required", "reason", "give the reason for the decision; the services that disputed the entry read it")
	}
	id := s.W.IDs().New("HW")
	_, err = s.W.Submit(ctx, p.Actor(), "review disputed entry", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if _, err := ownBank(ctx, tx, p, bankID); err != nil {
			return nil, err
		}
		var del sql.NullInt64
		err := tx.QueryRow(ctx, "SELECT deleted_version FROM hm_entries WHERE id = ?", entryKey(bankID, entryID)).Scan(&del)
		if errors.Is(err, sql.ErrNoRows) || del.Valid {
			return nil, errs.New(errs.NotFound, "reference", "entry_id", "bank %s has no live entry %s", bankID, entryID)
		}
		if err != nil {
			return nil, err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM hm_disputes WHERE bank_id = ? AND entry_id = ? AND status = ?",
			bankID, entryID, disputeOpen).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errs.New(errs.Conflict, "no_open_dispute", "entry_id", "entry %s has no open dispute to review", entryID)
		}
		return ledger.NewEntry(TypeDisputeReviewed, disputeReviewed{ID: id, BankID: bankID, EntryID: entryID,
			Decision: in.Decision, Reason: reason, Disputes: n})
	})
	return err
}

// pendingWithdrawalsSQL finds a bank's live entries whose latest review
// withdrew them: the next version deletes them.
const pendingWithdrawalsSQL = `SELECT r.entry_id FROM hm_dispute_reviews r
	JOIN hm_entries e ON e.id = r.bank_id || '/' || r.entry_id AND e.deleted_version IS NULL
	WHERE r.bank_id = ? AND r.decision = 'withdraw'
	AND r.log_index = (SELECT MAX(r2.log_index) FROM hm_dispute_reviews r2 WHERE r2.bank_id = r.bank_id AND r2.entry_id = r.entry_id)
	ORDER BY r.entry_id`

// withPendingWithdrawals adds to a version's deletes the entries its owner
// withdrew after disputes, sorted and without repeats.
func withPendingWithdrawals(ctx context.Context, q store.Queryer, bankID string, dels []string) ([]string, error) {
	rows, err := q.Query(ctx, pendingWithdrawalsSQL, bankID)
	if err != nil {
		return nil, err
	}
	ids, err := store.Rows(rows, func(r store.Scanner, id *string) error { return r.Scan(id) })
	if err != nil {
		return nil, err
	}
	out := append(slices.Clone(dels), ids...)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// MyDisputes lists the disputes of the principal's service provider, the
// newest first (at most MaxDisputedEntries): a service sees its own only.
func (s *Service) MyDisputes(ctx context.Context, p *auth.Principal) ([]Dispute, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	return s.disputes(ctx, p.AuthorityID, "", "")
}

// CaseDispute is the dispute of one of the provider's cases, nil when it
// has none.
func (s *Service) CaseDispute(ctx context.Context, p *auth.Principal, caseID string) (*Dispute, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	ds, err := s.disputes(ctx, p.AuthorityID, "", caseID)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return &ds[0], nil
}

// disputes reads a provider's disputes, the newest first: all of them (at
// most MaxDisputedEntries), or the one of id, or of caseID.
func (s *Service) disputes(ctx context.Context, provider, id, caseID string) ([]Dispute, error) {
	rows, err := s.DB.Read().Query(ctx, `SELECT d.id, d.case_id, d.provider_id, d.bank_id, d.entry_id, d.distance, d.note, d.status, d.disputed_at,
		COALESCE(r.reviewed_at, ''), COALESCE(r.reason, ''), COALESCE(e.deleted_version, 0)
		FROM hm_disputes d LEFT JOIN hm_dispute_reviews r ON r.id = d.review_id
		LEFT JOIN hm_entries e ON e.id = d.bank_id || '/' || d.entry_id
		WHERE d.provider_id = ? AND (? = '' OR d.id = ?) AND (? = '' OR d.case_id = ?)
		ORDER BY d.log_index DESC, d.id LIMIT ?`, provider, id, id, caseID, caseID, MaxDisputedEntries)
	if err != nil {
		return nil, err
	}
	out, err := store.Rows(rows, func(r store.Scanner, d *Dispute) error {
		var deleted int
		err := r.Scan(&d.ID, &d.CaseID, &d.ProviderID, &d.BankID, &d.EntryID, &d.Distance, &d.Note, &d.Status, &d.DisputedAt,
			&d.ReviewedAt, &d.Reason, &deleted)
		if d.Status == disputeStatus[DecisionWithdraw] {
			d.WithdrawnIn = deleted
		}
		return err
	})
	return out, err
}

// DisputedEntriesOf lists the entries of the principal's authority's banks
// (or of one of them, bankID) that have open disputes: the most distinct
// services first, then the most disputes, then the latest; at most
// MaxDisputedEntries, each with its open disputes. It also lists the
// entries withdrawn and waiting for the next version.
func (s *Service) DisputedEntriesOf(ctx context.Context, p *auth.Principal, bankID string) (*DisputedEntries, error) {
	if err := p.Require(ReviewDisputes); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	if bankID != "" {
		b, err := getBank(ctx, q, bankID)
		if err != nil {
			return nil, err
		}
		if b.OwnerID != p.AuthorityID {
			return nil, errs.New(errs.Forbidden, "own_bank", "bank_id", "bank %s belongs to %s; only its owner reads its disputes", bankID, b.OwnerID)
		}
	}
	rows, err := q.Query(ctx, `SELECT d.bank_id, b.name, d.entry_id, COALESCE(e.classification, ''),
		COUNT(DISTINCT d.provider_id), COUNT(*), MAX(d.disputed_at)
		FROM hm_disputes d JOIN hm_banks b ON b.id = d.bank_id
		LEFT JOIN hm_entries e ON e.id = d.bank_id || '/' || d.entry_id
		WHERE b.owner_id = ? AND d.status = ? AND (? = '' OR d.bank_id = ?)
		GROUP BY d.bank_id, b.name, d.entry_id, e.classification
		ORDER BY COUNT(DISTINCT d.provider_id) DESC, COUNT(*) DESC, MAX(d.disputed_at) DESC, d.bank_id, d.entry_id LIMIT ?`,
		p.AuthorityID, disputeOpen, bankID, bankID, MaxDisputedEntries)
	if err != nil {
		return nil, err
	}
	entries, err := store.Rows(rows, func(r store.Scanner, d *DisputedEntry) error {
		d.Open = []OwnerDispute{}
		return r.Scan(&d.BankID, &d.BankName, &d.EntryID, &d.Classification, &d.Services, &d.Disputes, &d.LastDisputedAt)
	})
	if err != nil {
		return nil, err
	}
	out := &DisputedEntries{Entries: entries, PendingWithdrawals: []EntryRef{}}
	at := map[EntryRef]int{}
	for i, e := range entries {
		at[EntryRef{e.BankID, e.EntryID}] = i
	}
	rows, err = q.Query(ctx, `SELECT d.bank_id, d.entry_id, d.provider_id, d.distance, d.note, d.disputed_at
		FROM hm_disputes d JOIN hm_banks b ON b.id = d.bank_id
		WHERE b.owner_id = ? AND d.status = ? AND (? = '' OR d.bank_id = ?) ORDER BY d.log_index, d.id`,
		p.AuthorityID, disputeOpen, bankID, bankID)
	if err != nil {
		return nil, err
	}
	type row struct {
		ref EntryRef
		d   OwnerDispute
	}
	open, err := store.Rows(rows, func(r store.Scanner, x *row) error {
		return r.Scan(&x.ref.BankID, &x.ref.EntryID, &x.d.ProviderID, &x.d.Distance, &x.d.Note, &x.d.DisputedAt)
	})
	if err != nil {
		return nil, err
	}
	for _, x := range open {
		if i, ok := at[x.ref]; ok {
			out.Entries[i].Open = append(out.Entries[i].Open, x.d)
		}
	}
	rows, err = q.Query(ctx, "SELECT id FROM hm_banks WHERE owner_id = ? AND (? = '' OR id = ?) ORDER BY id", p.AuthorityID, bankID, bankID)
	if err != nil {
		return nil, err
	}
	banks, err := store.Rows(rows, func(r store.Scanner, id *string) error { return r.Scan(id) })
	if err != nil {
		return nil, err
	}
	for _, b := range banks {
		ids, err := withPendingWithdrawals(ctx, q, b, nil)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out.PendingWithdrawals = append(out.PendingWithdrawals, EntryRef{b, id})
		}
	}
	return out, nil
}

// projectFeedback adds the projectors of disputes and their reviews.
func projectFeedback(reg *ledger.Projections) {
	ledger.On(reg, TypeEntryDisputed, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *entryDisputed) error {
		_, err := q.Exec(ctx, `INSERT INTO hm_disputes (id, case_id, provider_id, bank_id, entry_id, distance, note, status, disputed_at, disputed_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.CaseID, d.ProviderID, d.BankID, d.EntryID, d.Distance, d.Note, disputeOpen, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeDisputeReviewed, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *disputeReviewed) error {
		status, ok := disputeStatus[r.Decision]
		if !ok {
			return fmt.Errorf("dispute review %s: unknown decision %q", r.ID, r.Decision)
		}
		if _, err := q.Exec(ctx, `INSERT INTO hm_dispute_reviews (id, bank_id, entry_id, decision, reason, disputes, reviewed_at, reviewed_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.BankID, r.EntryID, r.Decision, r.Reason, r.Disputes, e.At, e.By, idx); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "UPDATE hm_disputes SET status = ?, review_id = ? WHERE bank_id = ? AND entry_id = ? AND status = ?",
			status, r.ID, r.BankID, r.EntryID, disputeOpen)
		return err
	})
	reg.Tables(
		ledger.Table{Name: "hm_disputes", Order: "id"},
		ledger.Table{Name: "hm_dispute_reviews", Order: "id"},
	)
}
