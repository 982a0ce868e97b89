package hashmatch

import (
	"context"
	"iter"
	"net/url"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/page"
)

// The registry's lists as exports name them.
const (
	ListCases    = "cases"
	ListReports  = "reports"
	ListEntries  = "entries"
	ListVersions = "versions"
)

// Exports are the lists that export, in the order the documentation gives
// them.
var Exports = []string{ListCases, ListReports, ListEntries, ListVersions}

// Export reads the export of list (one of Exports) that the query q asks
// for: its format (csv or xlsx) and the list's filters; bankID is the bank
// of entries and versions, empty for the others. An export holds the whole
// filtered list (limit and cursor are refused) and is allowed to whoever may
// read the list: a service's cases and sent reports are its provider's own,
// an analyst's received reports their authority's, a bank's entries its
// owner's analysts' only. No export of the registry carries personal data:
// the columns are hashes, identifiers of cases, banks, providers and
// authorities, statuses and times; the user pseudonym, the content
// reference and the notes of a case or report stay on their page.
func (s *Service) Export(p *auth.Principal, list, bankID string, q url.Values) (export.Request, error) {
	format, q, err := export.Query(q)
	if err != nil {
		return export.Request{}, err
	}
	req := export.Request{Registry: Module.Name, List: list, Format: format, Filter: q}
	var filters []string
	switch list {
	case ListCases:
		filters = CaseFilters
		req.Columns = []string{"id", "provider_id", "source", "pdq", "quality", "md5", "sha256", "best_bank_id", "bank_name",
			"bank_version", "best_entry_id", "classification", "best_distance", "status", "uploaded_at", "opened_at", "reviewed_at", "reviewed_by"}
	case ListReports:
		filters = ReportFilters
		req.Columns = []string{"id", "case_id", "provider_id", "authority_id", "incident_type", "incident_at", "uploaded_at",
			"pdq", "md5", "sha256", "classification", "sent_at", "acknowledged_at", "authority_reference"}
	case ListEntries:
		filters = EntryFilters
		req.Columns = []string{"bank_id", "entry_id", "pdq", "md5", "sha256", "classification", "video_frames", "added_version", "quarantined_at"}
	case ListVersions:
		filters = VersionFilters
		req.Columns = []string{"bank_id", "version", "previous_sha256", "doc_sha256", "adds", "deletes", "updates", "published_at", "published_by"}
	default:
		return export.Request{}, errs.New(errs.NotFound, "reference", "list", "the hash-matching registry has no list %s", list)
	}
	f, err := FilterOf(q, page.Lists, filters)
	if err != nil {
		return export.Request{}, err
	}
	req.Rows = func(ctx context.Context) iter.Seq2[[]any, error] {
		switch list {
		case ListCases:
			return exportRows(ctx, f, func(ctx context.Context, f ListFilter) (page.Of[QueueCase], error) { return s.Cases(ctx, p, f) },
				func(c *QueueCase) []any {
					return []any{c.ID, c.ProviderID, c.Source, c.PDQ, c.Quality, c.MD5, c.SHA256, c.BestBankID, c.BankName,
						exportVersion(c.BankVersion), c.BestEntryID, c.Classification, c.BestDistance, c.Status, c.UploadedAt, c.OpenedAt, c.ReviewedAt, c.ReviewedBy}
				})
		case ListReports:
			return exportRows(ctx, f, func(ctx context.Context, f ListFilter) (page.Of[Report], error) { return s.Reports(ctx, p, f) },
				func(r *Report) []any {
					return []any{r.ID, r.CaseID, r.ProviderID, r.AuthorityID, r.IncidentType, r.IncidentAt, r.UploadedAt,
						r.PDQ, r.MD5, r.SHA256, r.Classification, r.SentAt, r.AcknowledgedAt, r.AuthorityReference}
				})
		case ListEntries:
			return exportRows(ctx, f, func(ctx context.Context, f ListFilter) (page.Of[BankEntry], error) {
				return s.BankEntries(ctx, p, bankID, f)
			}, func(e *BankEntry) []any {
				return []any{bankID, e.EntryID, e.PDQ, e.MD5, e.SHA256, e.Classification, e.VideoFrames, e.AddedVersion, e.QuarantinedAt}
			})
		default:
			return exportRows(ctx, f, func(ctx context.Context, f ListFilter) (page.Of[Version], error) {
				return s.Versions(ctx, p, bankID, f)
			},
				func(v *Version) []any {
					return []any{v.BankID, v.Version, v.Previous, v.DocSHA256, v.Adds, v.Deletes, v.Updates, v.PublishedAt, v.PublishedBy}
				})
		}
	}
	return req, nil
}

// exportVersion is a case's bank version as an export writes it: an empty
// cell for a case opened before custos recorded it (0), as the exports write
// every value a record does not hold, never a 0 that reads as a version.
func exportVersion(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

// exportRows walks every page of a list for f, the largest pages the lists
// give, and turns each item into its row. The list's own checks (the
// principal's rights, the filter's values) refuse the export at its first
// page, before it is logged.
func exportRows[T any](ctx context.Context, f ListFilter, list func(context.Context, ListFilter) (page.Of[T], error),
	cells func(*T) []any) iter.Seq2[[]any, error] {
	return export.Rows(export.Pages(ctx, page.Lists.Max, func(ctx context.Context, r page.Request) (page.Of[T], error) {
		f.Request = r
		return list(ctx, f)
	}), cells)
}
