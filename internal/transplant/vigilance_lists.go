package transplant

import (
	"context"
	"iter"
	"net/url"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// The filters of the vigilance lists, as the API and the UI name them.
// centre_id is the reporting authority of a report and the notified centre
// of a notification; status one of SAEStates or NotificationStates; id a
// report's (its id or report id) or a notification's (its id, its report's
// id or report id).
var (
	SAEFilters          = []string{"centre_id", "status", "from", "to", "id"}
	NotificationFilters = []string{"centre_id", "status", "from", "to", "id"}
)

const (
	listSAESQL = "SELECT " + saeCols + `, s.log_index FROM sae_reports s
		WHERE (? = '' OR s.reporting_authority_id = ?) AND (? = '' OR (? = '1' AND s.final_reported_at IS NULL)) AND (? = '' OR (? = '1' AND s.final_reported_at IS NOT NULL))
		AND (? = '' OR s.final_due_at < ?) AND (? = '' OR s.reported_at >= ?) AND (? = '' OR s.reported_at < ?)
		AND (? = '' OR ? IN (s.id, s.report_id)) AND %s ORDER BY s.log_index DESC, s.id LIMIT ?`
	listNotificationsSQL = "SELECT " + notificationCols + `, n.log_index FROM notifications n JOIN sae_reports s ON s.id = n.sae_id
		WHERE (? = '' OR n.centre_id = ?) AND (? = '' OR (? = '1' AND n.acknowledged_at IS NULL)) AND (? = '' OR (? = '1' AND n.acknowledged_at IS NOT NULL))
		AND (? = '' OR (? = '1' AND n.escalated_at IS NOT NULL)) AND (? = '' OR n.created_at >= ?) AND (? = '' OR n.created_at < ?)
		AND (? = '' OR ? IN (n.id, n.sae_id, s.report_id)) AND %s ORDER BY n.log_index DESC, n.id LIMIT ?`
)

// checkStatus refuses what ListFilter.check refuses, with states as the
// values of status; it returns the end of the date range.
func (f *ListFilter) checkStatus(filters, states []string) (string, error) {
	if err := f.Request.Check(page.Lists, filters, page.Filter{Name: "centre_id", Value: f.CentreID},
		page.Filter{Name: "status", Value: f.Status, Allowed: states}, page.Filter{Name: "organ", Value: f.Organ},
		page.Filter{Name: "blood_group", Value: f.BloodGroup}, page.Filter{Name: "from", Value: f.From},
		page.Filter{Name: "to", Value: f.To}, page.Filter{Name: "id", Value: f.ID}); err != nil {
		return "", err
	}
	var to string
	var err error
	f.From, to, err = page.Dates(f.From, f.To)
	return to, err
}

// onIf is "1" when b holds, "" otherwise: a filter of the lists' SQL that is
// on or off, given twice as every filter is, (? = ” OR (? = '1' AND ...)).
func onIf(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// SAEs lists the reports of serious adverse events and reactions, newest
// first, one page at a time; status overdue lists the open ones whose final
// report is past due.
func (s *Service) SAEs(ctx context.Context, p *auth.Principal, f ListFilter) (page.Of[SAE], error) {
	if err := p.Require(Read); err != nil {
		return page.Of[SAE]{}, err
	}
	to, err := f.checkStatus(SAEFilters, SAEStates)
	if err != nil {
		return page.Of[SAE]{}, err
	}
	now := ledger.FormatTime(s.now())
	var overdue string
	if f.Status == "overdue" {
		overdue = now
	}
	return list(ctx, s.DB.Read(), listSAESQL, f, "s.log_index", "s.id",
		[]string{f.CentreID, onIf(f.Status == "open" || f.Status == "overdue"), onIf(f.Status == "closed"), overdue, f.From, to, f.ID},
		s.scanSAE(now), func(x *SAE) string { return x.ID })
}

// Notifications lists the notifications of SAEs, newest first, one page at
// a time.
func (s *Service) Notifications(ctx context.Context, p *auth.Principal, f ListFilter) (page.Of[Notification], error) {
	if err := p.Require(Read); err != nil {
		return page.Of[Notification]{}, err
	}
	to, err := f.checkStatus(NotificationFilters, NotificationStates)
	if err != nil {
		return page.Of[Notification]{}, err
	}
	return list(ctx, s.DB.Read(), listNotificationsSQL, f, "n.log_index", "n.id",
		[]string{f.CentreID, onIf(f.Status == "open" || f.Status == "escalated"), onIf(f.Status == "acknowledged"),
			onIf(f.Status == "escalated"), f.From, to, f.ID},
		func(r store.Scanner, n *Notification) error { return scanNotification(r, n) }, func(n *Notification) string { return n.ID })
}

// exportVigilance is Export for the vigilance lists; ok is false for the
// other lists. None of them holds personal data: identifiers, centres,
// dates, and the texts of the reports, which name no person.
func (s *Service) exportVigilance(p *auth.Principal, list string, q url.Values, req export.Request) (_ export.Request, ok bool, _ error) {
	var filters []string
	switch list {
	case ListAwaitingDisposition:
		filters = OrganFilters
		req.Columns = []string{"id", "organ", "donor_id", "procurement_id", "procured_at", "centre_id", "origin_registry", "origin_country", "received_at"}
	case ListSAEs:
		filters = SAEFilters
		req.Columns = []string{"id", "report_id", "kind", "reporting_authority_id", "origin_country", "donor_id", "organ_id", "recipient_ids",
			"started_at", "detected_at", "reported_at", "final_due_at", "state", "overdue", "final_reported_at", "conclusion"}
	case ListNotifications:
		filters = NotificationFilters
		req.Columns = []string{"id", "sae_id", "report_id", "centre_id", "created_at", "acknowledged_at", "acknowledged_by", "escalated_at", "escalation_alert_id",
			"report_closed_at", "closed_unacknowledged"}
	default:
		return req, false, nil
	}
	f, err := FilterOf(q, page.Lists, filters)
	if err != nil {
		return req, true, err
	}
	req.Filter = q
	req.Rows = func(ctx context.Context) iter.Seq2[[]any, error] {
		switch list {
		case ListAwaitingDisposition:
			return exportRows(ctx, p, f, page.Lists, s.OrgansAwaitingDisposition, func(o *Organ) []any {
				return []any{o.ID, o.Organ, o.DonorID, o.ProcurementID, o.ProcuredAt, o.CentreID, o.OriginRegistry, o.OriginCountry, o.ReceivedAt}
			})
		case ListSAEs:
			return exportRows(ctx, p, f, page.Lists, s.SAEs, func(x *SAE) []any {
				return []any{x.ID, x.ReportID, x.Kind, x.ReportingAuthorityID, x.OriginCountry, x.DonorID, x.OrganID,
					strings.Join(x.RecipientIDs, " "), x.StartedAt, x.DetectedAt, x.ReportedAt, x.FinalDueAt, x.State, x.Overdue,
					x.FinalReportedAt, x.Conclusion}
			})
		default:
			return exportRows(ctx, p, f, page.Lists, s.Notifications, func(n *Notification) []any {
				return []any{n.ID, n.SAEID, n.ReportID, n.CentreID, n.CreatedAt, n.AcknowledgedAt, n.AcknowledgedBy, n.EscalatedAt, n.EscalationAlertID,
					n.ReportClosedAt, n.ClosedUnacknowledged}
			})
		}
	}
	return req, true, nil
}
