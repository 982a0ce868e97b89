package hashmatch

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// ListFilter narrows and pages a list of the registry. Each filter is empty
// for "any"; a list that has no such filter refuses it. From and To are
// calendar dates (YYYY-MM-DD, UTC), both included, of the list's date: when a
// case was opened, a report sent, a version published. ID is one row's
// identifier (a case's, a report's, an entry's).
type ListFilter struct {
	Status      string // a case's (CaseStatuses), a report's (ReportStatuses), an entry's (EntryStatuses)
	BankID      string // cases: the bank of the best match
	ProviderID  string // reports: the service provider that sent them
	AuthorityID string // reports: the competent authority they went to
	From, To    string
	ID          string
	page.Request
}

// Filters are the query parameters of each list's filters, as the API and
// the UI name them.
var (
	CaseFilters    = []string{"status", "bank_id", "from", "to", "id"}
	ReportFilters  = []string{"status", "provider_id", "authority_id", "from", "to", "id"}
	EntryFilters   = []string{"status", "id"}
	VersionFilters = []string{"from", "to"}
	// SuppressionFilters: dates of the rejection that added the hash.
	SuppressionFilters = []string{"from", "to", "id"}
)

// The statuses each list filters on: a case's review, whether a report was
// acknowledged, whether an entry is quarantined.
var (
	CaseStatuses   = []string{statusOpen, statusConfirmed, statusRejected}
	ReportStatuses = []string{"sent", "acknowledged"}
	EntryStatuses  = []string{"active", "quarantined"}
)

// FilterOf reads the filters of a list from query parameters, with the page
// asked for. Parameters that are not the list's are refused; the values are
// checked by the list.
func FilterOf(q url.Values, size page.Size, filters []string) (ListFilter, error) {
	r, err := page.Parse(q, size, filters...)
	if err != nil {
		return ListFilter{}, err
	}
	return ListFilter{Status: q.Get("status"), BankID: q.Get("bank_id"), ProviderID: q.Get("provider_id"), AuthorityID: q.Get("authority_id"),
		From: q.Get("from"), To: q.Get("to"), ID: q.Get("id"), Request: r}, nil
}

// check refuses a filter the list does not have, a status outside statuses,
// a bad date range and a page size outside page.Lists; it returns the end of
// the date range, the day after To.
func (f *ListFilter) check(filters, statuses []string) (end string, err error) {
	if err := f.Request.Check(page.Lists, filters, page.Filter{Name: "status", Value: f.Status, Allowed: statuses},
		page.Filter{Name: "bank_id", Value: f.BankID}, page.Filter{Name: "provider_id", Value: f.ProviderID},
		page.Filter{Name: "authority_id", Value: f.AuthorityID}, page.Filter{Name: "from", Value: f.From},
		page.Filter{Name: "to", Value: f.To}, page.Filter{Name: "id", Value: f.ID}); err != nil {
		return "", err
	}
	f.From, end, err = page.Dates(f.From, f.To)
	return end, err
}

// The lists' statements: the newest rows first, read in the order of an
// index on (owner column, log_index DESC, id) (migration 4), so that a page
// never sorts a whole table (TestListsReadAnIndexInOrder) and a page after
// the first starts the walk at its cursor. Each takes the owner (the
// provider, the authority, the bank), then the filters as pairs (empty for
// any), then the cursor's condition (page.Request.Where) and the limit.
const (
	listCasesSQL = `SELECT c.id, c.provider_id, c.pdq, c.quality, c.md5, c.sha256, c.source, c.content_ref, c.user_pseudonym,
		c.uploaded_at, c.best_bank_id, c.best_entry_id, c.best_distance, c.status, c.opened_at, c.reviewed_at, c.reviewed_by, c.review_note,
		COALESCE(b.name, ''), COALESCE(e.classification, ''),
		(SELECT m.bank_version FROM hm_case_matches m WHERE m.id = c.id || '/0000'), c.log_index
		FROM hm_cases c LEFT JOIN hm_banks b ON b.id = c.best_bank_id
		LEFT JOIN hm_entries e ON e.id = c.best_bank_id || '/' || c.best_entry_id
		WHERE c.provider_id = ? AND (? = '' OR c.status = ?) AND (? = '' OR c.best_bank_id = ?)
		AND (? = '' OR c.opened_at >= ?) AND (? = '' OR c.opened_at < ?) AND (? = '' OR c.id = ?)
		AND %s ORDER BY c.log_index DESC, c.id LIMIT ?`
	// listReportsSQL is read by the authority that received the reports
	// (owner column authority_id) or the provider that sent them
	// (provider_id).
	listReportsSQL = "SELECT " + reportCols + `, log_index FROM hm_reports
		WHERE %[1]s = ? AND (? = '' OR CASE WHEN acknowledged_at IS NULL THEN 'sent' ELSE 'acknowledged' END = ?)
		AND (? = '' OR provider_id = ?) AND (? = '' OR authority_id = ?)
		AND (? = '' OR sent_at >= ?) AND (? = '' OR sent_at < ?) AND (? = '' OR id = ?)
		AND %%s ORDER BY log_index DESC, id LIMIT ?`
	listEntriesSQL = `SELECT entry_id, pdq, md5, sha256, classification, CASE WHEN video <> '' THEN 1 ELSE 0 END, video_frames, added_version, quarantined_at, log_index FROM hm_entries
		WHERE bank_id = ? AND deleted_version IS NULL
		AND (? = '' OR CASE WHEN quarantined_at IS NULL THEN 'active' ELSE 'quarantined' END = ?) AND (? = '' OR entry_id = ?)
		AND %s ORDER BY log_index DESC, entry_id LIMIT ?`
	// listSuppressionsSQL reads a provider's rows through
	// hm_suppressions_provider and sorts them: a provider's own list, not a
	// registry-wide table.
	listSuppressionsSQL = `SELECT id, pdq, case_id, created_at, created_by, log_index FROM hm_suppressions
		WHERE provider_id = ? AND (? = '' OR created_at >= ?) AND (? = '' OR created_at < ?) AND (? = '' OR id = ?)
		AND %s ORDER BY log_index DESC, id LIMIT ?`
	listVersionsSQL = `SELECT bank_id, version, previous_sha256, doc_sha256, adds, deletes, updates, published_at, published_by, log_index FROM hm_versions
		WHERE bank_id = ? AND (? = '' OR published_at >= ?) AND (? = '' OR published_at < ?)
		AND %s ORDER BY log_index DESC, id LIMIT ?`
)

var (
	listReportsReceivedSQL = fmt.Sprintf(listReportsSQL, "authority_id")
	listReportsSentSQL     = fmt.Sprintf(listReportsSQL, "provider_id")
)

// list runs the statement sql of a list (one of the above) for the rows of
// owner and the filter values given, and reads one page of it.
func list[T any](ctx context.Context, q store.Queryer, sql string, owner string, r page.Request, logCol, idCol string, values []string,
	scan func(store.Scanner, *T) error, id func(*T) string) (page.Of[T], error) {
	args := []any{owner}
	for _, v := range values {
		args = append(args, v, v)
	}
	where, after := r.Where(logCol, idCol)
	args = append(append(args, after...), r.Limit+1)
	rows, err := q.Query(ctx, fmt.Sprintf(sql, where), args...)
	if err != nil {
		return page.Of[T]{}, err
	}
	return page.Read(rows, r, scan, id)
}

// QueueCase is a case as the review queue lists it: with the best-matching
// bank's name and entry's classification. A list's cases carry no matches:
// the case itself has them.
type QueueCase struct {
	Case
	BankName       string `json:"bank_name"`
	Classification string `json:"classification"`
	// BankVersion is the version of the best-matching bank that was
	// searched (its first match, stored as the case's "/0000"); 0 for a
	// case opened before custos recorded it.
	BankVersion int `json:"bank_version,omitempty"`
}

// Cases lists the provider's cases, the most recently opened first, one page
// at a time, with what a reviewer needs to triage them.
func (s *Service) Cases(ctx context.Context, p *auth.Principal, f ListFilter) (page.Of[QueueCase], error) {
	if err := p.Require(ReadCases); err != nil {
		return page.Of[QueueCase]{}, err
	}
	end, err := f.check(CaseFilters, CaseStatuses)
	if err != nil {
		return page.Of[QueueCase]{}, err
	}
	return list(ctx, s.DB.Read(), listCasesSQL, p.AuthorityID, f.Request, "c.log_index", "c.id",
		[]string{f.Status, f.BankID, f.From, end, f.ID}, func(r store.Scanner, q *QueueCase) error {
			var ra, rb, rn sql.NullString
			var v sql.NullInt64
			c := &q.Case
			err := r.Scan(&c.ID, &c.ProviderID, &c.PDQ, &c.Quality, &c.MD5, &c.SHA256, &c.Source, &c.ContentRef, &c.UserPseudonym, &c.UploadedAt,
				&c.BestBankID, &c.BestEntryID, &c.BestDistance, &c.Status, &c.OpenedAt, &ra, &rb, &rn, &q.BankName, &q.Classification, &v)
			c.ReviewedAt, c.ReviewedBy, c.ReviewNote, q.BankVersion = ns(ra), ns(rb), ns(rn), int(v.Int64)
			return err
		}, func(q *QueueCase) string { return q.ID })
}

// Reports lists the reports visible to the principal, the most recently sent
// first, one page at a time: an analyst's, those addressed to their
// authority; a service's principals', those their provider sent.
func (s *Service) Reports(ctx context.Context, p *auth.Principal, f ListFilter) (page.Of[Report], error) {
	stmt := listReportsReceivedSQL
	switch {
	case p.Can(ReceiveReports):
	case p.Can(ReadCases):
		stmt = listReportsSentSQL
	default:
		return page.Of[Report]{}, p.Require(ReceiveReports)
	}
	end, err := f.check(ReportFilters, ReportStatuses)
	if err != nil {
		return page.Of[Report]{}, err
	}
	return list(ctx, s.DB.Read(), stmt, p.AuthorityID, f.Request, "log_index", "id",
		[]string{f.Status, f.ProviderID, f.AuthorityID, f.From, end, f.ID}, scanReport, func(r *Report) string { return r.ID })
}

// BankEntry is one live entry of a bank, hashes included: for its owner only.
type BankEntry struct {
	EntryID        string `json:"entry_id"`
	PDQ            string `json:"pdq"`
	MD5            string `json:"md5,omitempty"`
	SHA256         string `json:"sha256,omitempty"`
	Classification string `json:"classification"`
	Video          bool   `json:"video,omitempty"`        // a video entry: its pdq is empty
	VideoFrames    int    `json:"video_frames,omitempty"` // a video entry's frame count; none for a video known by its md5 alone
	AddedVersion   int    `json:"added_version"`
	QuarantinedAt  string `json:"quarantined_at,omitempty"`
}

// BankEntries lists the live entries of a bank, the most recently added
// first, one page at a time; status quarantined lists those in quarantine.
// Only an analyst of the bank's owner may read them: the hashes are
// sensitive.
func (s *Service) BankEntries(ctx context.Context, p *auth.Principal, bankID string, f ListFilter) (page.Of[BankEntry], error) {
	if err := p.Require(PublishBanks); err != nil {
		return page.Of[BankEntry]{}, err
	}
	b, err := getBank(ctx, s.DB.Read(), bankID)
	if err != nil {
		return page.Of[BankEntry]{}, err
	}
	if b.OwnerID != p.AuthorityID {
		return page.Of[BankEntry]{}, errs.New(errs.Forbidden, "own_bank", "bank_id", "bank %s belongs to %s; only its owner reads its hashes", bankID, b.OwnerID)
	}
	if _, err := f.check(EntryFilters, EntryStatuses); err != nil {
		return page.Of[BankEntry]{}, err
	}
	return list(ctx, s.DB.Read(), listEntriesSQL, bankID, f.Request, "log_index", "entry_id", []string{f.Status, f.ID},
		func(r store.Scanner, e *BankEntry) error {
			var q sql.NullString
			var video int
			err := r.Scan(&e.EntryID, &e.PDQ, &e.MD5, &e.SHA256, &e.Classification, &video, &e.VideoFrames, &e.AddedVersion, &q)
			e.Video = video == 1
			e.QuarantinedAt = ns(q)
			return err
		}, func(e *BankEntry) string { return e.EntryID })
}

// Versions lists a bank's published versions (metadata, not their hashes),
// the newest first, one page at a time.
func (s *Service) Versions(ctx context.Context, p *auth.Principal, bankID string, f ListFilter) (page.Of[Version], error) {
	if err := p.Require(ReadBankMetadata); err != nil {
		return page.Of[Version]{}, err
	}
	end, err := f.check(VersionFilters, nil)
	if err != nil {
		return page.Of[Version]{}, err
	}
	return list(ctx, s.DB.Read(), listVersionsSQL, bankID, f.Request, "log_index", "id", []string{f.From, end},
		func(r store.Scanner, v *Version) error {
			return r.Scan(&v.BankID, &v.Version, &v.Previous, &v.DocSHA256, &v.Adds, &v.Deletes, &v.Updates, &v.PublishedAt, &v.PublishedBy)
		}, func(v *Version) string { return versionKey(v.BankID, v.Version) })
}

// Suppression is one hash of a service's own suppression list: added by a
// reviewer's rejection with suppress (the case it rejected), lifted when
// that case is reopened. A query within SuppressionRadius of one answers
// suppressed.
type Suppression struct {
	ID        string `json:"id"`
	PDQ       string `json:"pdq"`
	CaseID    string `json:"case_id"`
	CreatedAt string `json:"created_at"`
	CreatedBy string `json:"created_by"` // the reviewer who rejected the case
}

// Suppressions lists the principal's provider's own suppression list, the
// most recently added first, one page at a time; never another provider's.
func (s *Service) Suppressions(ctx context.Context, p *auth.Principal, f ListFilter) (page.Of[Suppression], error) {
	if err := p.Require(ReadCases); err != nil {
		return page.Of[Suppression]{}, err
	}
	end, err := f.check(SuppressionFilters, nil)
	if err != nil {
		return page.Of[Suppression]{}, err
	}
	return list(ctx, s.DB.Read(), listSuppressionsSQL, p.AuthorityID, f.Request, "log_index", "id", []string{f.From, end, f.ID},
		func(r store.Scanner, x *Suppression) error {
			return r.Scan(&x.ID, &x.PDQ, &x.CaseID, &x.CreatedAt, &x.CreatedBy)
		}, func(x *Suppression) string { return x.ID })
}
