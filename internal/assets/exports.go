package assets

import (
	"context"
	"iter"
	"net/url"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
)

// The lists of cases and of requests between states, as exports name them.
const (
	ListCases    = "cases"
	ListRequests = "requests"
)

// listExport is the export of list as CSV or XLSX, allowed to whoever may
// do a, its filter the non-empty values of filter, its rows those rows
// yields: an error (the list's own checks, a bad filter, another state's)
// refuses the export at its first row, before it is logged.
func listExport(p *auth.Principal, a auth.Action, list string, filter map[string]string, format export.Format, columns []string,
	rows func(ctx context.Context, yield func([]any) bool) error) (export.Request, error) {
	if err := p.Require(a); err != nil {
		return export.Request{}, err
	}
	if format != export.CSV && format != export.XLSX {
		return export.Request{}, errs.Invalidf("format", "format", "format must be one of csv, xlsx")
	}
	f := url.Values{}
	for name, v := range filter {
		if v != "" {
			f.Set(name, v)
		}
	}
	return export.Request{Registry: Module.Name, List: list, Filter: f, Format: format, Columns: columns,
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return func(yield func([]any, error) bool) {
				stopped := false
				err := rows(ctx, func(row []any) bool {
					stopped = !yield(row, nil)
					return !stopped
				})
				if err != nil && !stopped {
					yield(nil, err)
				}
			}
		}}, nil
}

// CasesColumns are the columns of the cases' export: a line per step of
// each asset of a case (its identification first), the case's columns
// repeated on each; a case without an asset is one line, its asset and step
// columns empty (docs/assets.md, "Taking the cases out").
var CasesColumns = []string{"case_id", "state", "authority_id", "reference", "kind", "offences", "opened_on",
	"asset_id", "asset_type", "jurisdiction", "estimated_value", "value_currency", "holder_id", "asset_status",
	"seq", "step", "confiscation", "decided_on", "instrument", "amount", "currency", "deciding_authority", "returned_to"}

// CasesExport is the export of the list of cases that f selects as CSV or
// XLSX, with each case's measure ledger: the file a prosecutor hands a
// court. It is allowed to whoever reads the cases, of the cases they read
// (a central authority's and a prosecutor's state's, every state's for
// the regulator and the auditor), and holds no personal data: the
// persons' ids, never a name (a legal person's name stays on the case's
// page with the natural persons' sealed data); the free texts that may
// name a person (a case's title, an asset's description, a step's notes)
// stay on the case's page.
func (s *Service) CasesExport(p *auth.Principal, f CaseFilter, format export.Format) (export.Request, error) {
	filter := map[string]string{"state": f.State, "kind": f.Kind, "iccs": f.ICCS, "status": f.Status, "q": f.Q}
	return listExport(p, ReadCases, ListCases, filter, format, CasesColumns, func(ctx context.Context, yield func([]any) bool) error {
		cs, err := s.Cases(ctx, p, f)
		if err != nil {
			return err
		}
		for _, c := range cs {
			head := []any{c.ID, c.State, c.AuthorityID, c.Reference, c.Kind, strings.Join(c.Offences, " "), c.OpenedOn}
			as, err := s.caseAssets(ctx, c.ID)
			if err != nil {
				return err
			}
			if len(as) == 0 && !yield(append(head, make([]any, len(CasesColumns)-len(head))...)) {
				return nil
			}
			for _, a := range as {
				for _, m := range a.Measures {
					row := append(append([]any{}, head...), a.ID, a.Type, a.Jurisdiction, a.Value, a.Currency, a.HolderID, a.Status,
						m.Seq, m.Step, m.Confiscation, m.DecidedOn, m.Instrument, m.Amount, m.Currency, m.Authority, m.ReturnedTo)
					if !yield(row) {
						return nil
					}
				}
			}
		}
		return nil
	})
}

// RequestsColumns are the columns of the requests' export, a line per
// request as its reader reads it (docs/assets.md, "Taking the cases
// out").
var RequestsColumns = []string{"id", "direction", "side", "status", "type", "requesting_state", "requesting_authority_name",
	"requested_state", "requested_authority_name", "legal_basis", "treaty", "assistance", "offences", "urgent", "deadline",
	"confidentiality", "language", "use_purposes", "onward_sharing", "case_ids", "authority_id", "grounds", "drafted_at", "sent_at",
	"status_at", "overdue"}

// RequestsExport is the export of the list of requests that f selects as
// CSV or XLSX: every one, not the newest MaxRequestList the list shows. It
// is allowed to whoever reads the requests, of the requests they read,
// each as its side reads it (the requested side without the requesting
// side's cases, authority and draft), and holds no personal data: the free
// texts that may name a person (the facts, the purpose, the link between
// them, the reasons of urgency, the statement of dual criminality, the
// grounds' text) stay on the request's page.
func (s *Service) RequestsExport(p *auth.Principal, f RequestFilter, format export.Format) (export.Request, error) {
	filter := map[string]string{"type": f.Type, "status": f.Status, "direction": f.Direction, "state": f.State, "q": f.Q}
	if f.Overdue {
		filter["overdue"] = "1"
	}
	f.every = true
	return listExport(p, ReadRequests, ListRequests, filter, format, RequestsColumns, func(ctx context.Context, yield func([]any) bool) error {
		rs, err := s.Requests(ctx, p, f)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if !yield([]any{r.ID, r.Direction, r.Side, r.Status, r.Type, r.RequestingState, r.RequestingAuthorityName,
				r.RequestedState, r.RequestedAuthorityName, r.LegalBasis, r.Treaty, strings.Join(r.Assistance, " "), strings.Join(r.Offences, " "),
				r.Urgent, r.Deadline, r.Confidentiality, r.Language, strings.Join(r.UsePurposes, " "), r.OnwardSharing,
				strings.Join(r.CaseIDs, " "), r.AuthorityID, r.Grounds, r.DraftedAt, r.SentAt, r.StatusAt, r.Overdue}) {
				return nil
			}
		}
		return nil
	})
}
