package hashmatch

import (
	"context"
	"database/sql"
	"errors"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/store"
)

// Reads the web UI needs beyond those of the API. Each decides who may read
// as the API's reads do: hashes only to the bank's owner, cases and
// subscriptions only to the provider's own principals.

// BankEntry is one live entry of a bank, hashes included: for its owner only.
type BankEntry struct {
	EntryID        string `json:"entry_id"`
	PDQ            string `json:"pdq"`
	MD5            string `json:"md5,omitempty"`
	SHA256         string `json:"sha256,omitempty"`
	Classification string `json:"classification"`
	VideoFrames    int    `json:"video_frames,omitempty"` // a video entry's frame count; its pdq is empty
	AddedVersion   int    `json:"added_version"`
	QuarantinedAt  string `json:"quarantined_at,omitempty"`
}

// BankEntries lists the live entries of a bank, quarantined ones first, then
// the most recently added, at most limit. Only an analyst of the bank's owner
// may read them: the hashes are sensitive.
func (s *Service) BankEntries(ctx context.Context, p *auth.Principal, bankID string, limit int) ([]BankEntry, error) {
	if err := p.Require(PublishBanks); err != nil {
		return nil, err
	}
	b, err := getBank(ctx, s.DB.Read(), bankID)
	if err != nil {
		return nil, err
	}
	if b.OwnerID != p.AuthorityID {
		return nil, errs.New(errs.Forbidden, "own_bank", "bank_id", "bank %s belongs to %s; only its owner reads its hashes", bankID, b.OwnerID)
	}
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT entry_id, pdq, md5, sha256, classification, video_frames, added_version, quarantined_at FROM hm_entries
		WHERE bank_id = ? AND deleted_version IS NULL
		ORDER BY CASE WHEN quarantined_at IS NULL THEN 1 ELSE 0 END, added_version DESC, entry_id LIMIT ?`, bankID, limit)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, e *BankEntry) error {
		var q sql.NullString
		err := r.Scan(&e.EntryID, &e.PDQ, &e.MD5, &e.SHA256, &e.Classification, &e.VideoFrames, &e.AddedVersion, &q)
		e.QuarantinedAt = ns(q)
		return err
	})
}

// SubscriptionView is a subscription with its bank's metadata.
type SubscriptionView struct {
	Subscription
	BankName    string `json:"bank_name"`
	BankKind    string `json:"bank_kind"`
	BankOwnerID string `json:"bank_owner_id"`
	BankVersion int    `json:"bank_version"`
}

// ProviderSubscriptions lists the subscriptions of the principal's service
// provider, with the version each holds and the bank's current version. Both
// the service's system principal and its reviewers may read them.
func (s *Service) ProviderSubscriptions(ctx context.Context, p *auth.Principal) ([]SubscriptionView, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT s.id, s.bank_id, s.provider_id, s.cursor, s.pulled_at, s.created_at, b.name, b.kind, b.owner_id, b.version
		FROM hm_subscriptions s JOIN hm_banks b ON b.id = s.bank_id WHERE s.provider_id = ? ORDER BY b.name, s.id`, p.AuthorityID)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, x *SubscriptionView) error {
		var pulled sql.NullString
		err := r.Scan(&x.ID, &x.BankID, &x.ProviderID, &x.Cursor, &pulled, &x.CreatedAt, &x.BankName, &x.BankKind, &x.BankOwnerID, &x.BankVersion)
		x.PulledAt = ns(pulled)
		return err
	})
}

// QueueCase is a case as the review queue lists it: with the best-matching
// bank's name and entry's classification.
type QueueCase struct {
	Case
	BankName       string `json:"bank_name"`
	Classification string `json:"classification"`
}

// CaseQueue lists the provider's cases, newest first, optionally by status,
// with what a reviewer needs to triage them.
func (s *Service) CaseQueue(ctx context.Context, p *auth.Principal, status string, limit int) ([]QueueCase, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT c.id, c.provider_id, c.pdq, c.quality, c.md5, c.sha256, c.source, c.content_ref, c.user_pseudonym,
		c.uploaded_at, c.best_bank_id, c.best_entry_id, c.best_distance, c.status, c.opened_at, c.reviewed_at, c.reviewed_by, c.review_note,
		COALESCE(b.name, ''), COALESCE(e.classification, '')
		FROM hm_cases c LEFT JOIN hm_banks b ON b.id = c.best_bank_id
		LEFT JOIN hm_entries e ON e.id = c.best_bank_id || '/' || c.best_entry_id
		WHERE c.provider_id = ? AND (? = '' OR c.status = ?) ORDER BY c.opened_at DESC, c.id LIMIT ?`, p.AuthorityID, status, status, limit)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, q *QueueCase) error {
		var ra, rb, rn sql.NullString
		c := &q.Case
		err := r.Scan(&c.ID, &c.ProviderID, &c.PDQ, &c.Quality, &c.MD5, &c.SHA256, &c.Source, &c.ContentRef, &c.UserPseudonym, &c.UploadedAt,
			&c.BestBankID, &c.BestEntryID, &c.BestDistance, &c.Status, &c.OpenedAt, &ra, &rb, &rn, &q.BankName, &q.Classification)
		c.ReviewedAt, c.ReviewedBy, c.ReviewNote = ns(ra), ns(rb), ns(rn)
		return err
	})
}

// CaseReport returns the report sent for one of the provider's cases, or nil
// when none was sent.
func (s *Service) CaseReport(ctx context.Context, p *auth.Principal, caseID string) (*Report, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	var r Report
	err := scanReport(s.DB.Read().QueryRow(ctx, "SELECT "+reportCols+" FROM hm_reports WHERE case_id = ? AND provider_id = ?", caseID, p.AuthorityID), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}
