package hashmatch

import (
	"context"
	"database/sql"
	"errors"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/store"
)

func ns(s sql.NullString) string { return s.String }

func nf(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	return &f.Float64
}

const bankCols = `b.id, b.owner_id, b.name, b.kind, b.threshold, b.version, b.head_sha256, b.created_at,
	b.query_match_threshold_pct, b.index_match_threshold_pct,
	(SELECT COUNT(*) FROM hm_entries e WHERE e.bank_id = b.id AND e.deleted_version IS NULL),
	(SELECT COUNT(*) FROM hm_entries e WHERE e.bank_id = b.id AND e.deleted_version IS NULL AND e.quarantined_at IS NOT NULL)`

func scanBank(sc store.Scanner, b *Bank) error {
	return sc.Scan(&b.ID, &b.OwnerID, &b.Name, &b.Kind, &b.Threshold, &b.Version, &b.HeadSHA256, &b.CreatedAt,
		&b.QueryMatchThresholdPct, &b.IndexMatchThresholdPct, &b.Entries, &b.Quarantined)
}

// Banks lists every bank's metadata (never its hashes), by name.
func (s *Service) Banks(ctx context.Context, p *auth.Principal) ([]Bank, error) {
	if err := p.Require(ReadBankMetadata); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+bankCols+" FROM hm_banks b ORDER BY b.name, b.id")
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, scanBank)
}

// Bank reads one bank's metadata.
func (s *Service) Bank(ctx context.Context, p *auth.Principal, id string) (*Bank, error) {
	if err := p.Require(ReadBankMetadata); err != nil {
		return nil, err
	}
	var b Bank
	err := scanBank(s.DB.Read().QueryRow(ctx, "SELECT "+bankCols+" FROM hm_banks b WHERE b.id = ?", id), &b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "bank_id", "no bank %s", id)
	}
	return &b, err
}

func (s *Service) version(ctx context.Context, bankID string, v int) (*Version, error) {
	var out Version
	err := s.DB.Read().QueryRow(ctx, `SELECT bank_id, version, previous_sha256, doc_sha256, adds, deletes, updates, published_at, published_by
		FROM hm_versions WHERE id = ?`, versionKey(bankID, v)).
		Scan(&out.BankID, &out.Version, &out.Previous, &out.DocSHA256, &out.Adds, &out.Deletes, &out.Updates, &out.PublishedAt, &out.PublishedBy)
	return &out, err
}

// Subscriptions lists the provider's subscriptions.
func (s *Service) Subscriptions(ctx context.Context, p *auth.Principal) ([]Subscription, error) {
	if err := p.Require(SubscribeBanks); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT id, bank_id, provider_id, cursor, pulled_at, created_at FROM hm_subscriptions WHERE provider_id = ? ORDER BY id", p.AuthorityID)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, x *Subscription) error {
		var pulled sql.NullString
		err := r.Scan(&x.ID, &x.BankID, &x.ProviderID, &x.Cursor, &pulled, &x.CreatedAt)
		x.PulledAt = ns(pulled)
		return err
	})
}

const caseCols = `id, provider_id, pdq, quality, md5, sha256, source, content_ref, user_pseudonym, uploaded_at, best_bank_id, best_entry_id,
	best_distance, status, opened_at, reviewed_at, reviewed_by, review_note`

func scanCase(sc store.Scanner, c *Case) error {
	var ra, rb, rn sql.NullString
	err := sc.Scan(&c.ID, &c.ProviderID, &c.PDQ, &c.Quality, &c.MD5, &c.SHA256, &c.Source, &c.ContentRef, &c.UserPseudonym, &c.UploadedAt,
		&c.BestBankID, &c.BestEntryID, &c.BestDistance, &c.Status, &c.OpenedAt, &ra, &rb, &rn)
	c.ReviewedAt, c.ReviewedBy, c.ReviewNote = ns(ra), ns(rb), ns(rn)
	return err
}

func getCase(ctx context.Context, q store.Queryer, id string) (*Case, error) {
	var c Case
	err := scanCase(q.QueryRow(ctx, "SELECT "+caseCols+" FROM hm_cases WHERE id = ?", id), &c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "case_id", "no case %s", id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT m.bank_id, m.entry_id, m.distance, COALESCE(e.classification, ''), m.query_match_pct, m.target_match_pct, m.at_seconds, m.bank_version
		FROM hm_case_matches m LEFT JOIN hm_entries e ON e.id = m.bank_id || '/' || m.entry_id WHERE m.case_id = ? ORDER BY m.id`, id)
	if err != nil {
		return nil, err
	}
	c.Matches, err = store.Rows(rows, func(r store.Scanner, m *Match) error {
		var qp, tp, at sql.NullFloat64
		var v sql.NullInt64
		err := r.Scan(&m.BankID, &m.EntryID, &m.Distance, &m.Classification, &qp, &tp, &at, &v)
		m.QueryMatchPct, m.TargetMatchPct, m.AtSeconds, m.BankVersion = nf(qp), nf(tp), nf(at), int(v.Int64)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Case reads one of the provider's cases with its matches.
func (s *Service) Case(ctx context.Context, p *auth.Principal, id string) (*Case, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	return ownCase(ctx, s.DB.Read(), p, id)
}

const reportCols = `id, case_id, provider_id, authority_id, incident_type, incident_at, uploaded_at, pdq, md5, sha256, classification,
	user_pseudonym, content_ref, notes, sent_at, acknowledged_at, authority_reference`

func scanReport(sc store.Scanner, r *Report) error {
	var ack, ref sql.NullString
	err := sc.Scan(&r.ID, &r.CaseID, &r.ProviderID, &r.AuthorityID, &r.IncidentType, &r.IncidentAt, &r.UploadedAt, &r.PDQ, &r.MD5, &r.SHA256,
		&r.Classification, &r.UserPseudonym, &r.ContentRef, &r.Notes, &r.SentAt, &ack, &ref)
	r.AcknowledgedAt, r.AuthorityReference = ns(ack), ns(ref)
	r.Status = ReportStatuses[0]
	if ack.Valid {
		r.Status = ReportStatuses[1]
	}
	return err
}

// canSeeReport: an analyst sees reports addressed to their authority; a
// service's reviewer or system principal sees the reports it sent.
func canSeeReport(p *auth.Principal, r *Report) bool {
	switch p.Role {
	case RoleAnalyst:
		return r.AuthorityID == p.AuthorityID
	case RoleReviewer, RoleService:
		return r.ProviderID == p.AuthorityID
	}
	return false
}

// Report reads one report visible to the principal.
func (s *Service) Report(ctx context.Context, p *auth.Principal, id string) (*Report, error) {
	if !p.Can(ReceiveReports) && !p.Can(ReadCases) {
		return nil, p.Require(ReceiveReports)
	}
	var r Report
	err := scanReport(s.DB.Read().QueryRow(ctx, "SELECT "+reportCols+" FROM hm_reports WHERE id = ?", id), &r)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !canSeeReport(p, &r)) {
		return nil, errs.New(errs.NotFound, "reference", "report_id", "no report %s", id)
	}
	return &r, err
}

// Removal reads the removal recorded for one of the provider's cases.
func (s *Service) Removal(ctx context.Context, p *auth.Principal, caseID string) (*Removal, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	var r Removal
	err := s.DB.Read().QueryRow(ctx, "SELECT id, case_id, provider_id, content_ref, action, removed_at, recorded_at FROM hm_removals WHERE case_id = ?", caseID).
		Scan(&r.ID, &r.CaseID, &r.ProviderID, &r.ContentRef, &r.Action, &r.RemovedAt, &r.RecordedAt)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.ProviderID != p.AuthorityID) {
		return nil, errs.New(errs.NotFound, "reference", "case_id", "no removal recorded for case %s", caseID)
	}
	return &r, err
}
