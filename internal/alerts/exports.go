package alerts

import (
	"context"
	"iter"
	"net/url"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// ListAlerts is the alerts list as exports name it.
const ListAlerts = "alerts"

// Export reads the export of the alerts list that the query q asks for: its
// format (csv or xlsx) and the list's filters (Filters). It is allowed to
// whoever may read alerts (regulator, auditor, admin), and carries no
// personal data: rules, fields, refusal messages (which never hold personal
// data), the identifiers of authorities and principals (professional
// records), states and times. The closing note and the comments, free text,
// stay on the alert's page. The list's own checks (the rights, an unknown
// rule or authority, a bad date) refuse the export at its first page,
// before it is logged.
func (s *Service) Export(p *auth.Principal, q url.Values) (export.Request, error) {
	if err := p.Require(auth.ReadAlerts); err != nil {
		return export.Request{}, err
	}
	format, q, err := export.Query(q)
	if err != nil {
		return export.Request{}, err
	}
	f, err := FilterOf(q)
	if err != nil {
		return export.Request{}, err
	}
	return export.Request{Registry: store.CoreSchema().Module, List: ListAlerts, Filter: q, Format: format,
		Columns: []string{"id", "raised_at", "rule", "field", "message", "command", "authority_id", "authority", "principal_id",
			"log_index", "state", "acknowledged_at", "acknowledged_by", "assignee_id", "closed_at", "closed_by", "outcome",
			"repeats", "last_repeated_at"},
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return export.Rows(export.Pages(ctx, Size.Max, func(ctx context.Context, r page.Request) (page.Of[ledger.RaisedAlert], error) {
				f.Request = r
				return s.List(ctx, p, f)
			}), func(a *ledger.RaisedAlert) []any {
				return []any{a.ID, a.RaisedAt, a.Rule, a.Field, a.Message, a.Command, a.AuthorityID, a.Authority, a.PrincipalID,
					a.LogIndex, a.State, a.AcknowledgedAt, a.AcknowledgedBy, a.AssigneeID, a.ClosedAt, a.ClosedBy, a.Outcome,
					a.Repeats, a.LastRepeatedAt}
			})
		}}, nil
}
