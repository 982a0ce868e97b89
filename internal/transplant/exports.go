package transplant

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
	ListDonors         = "donors"
	ListRecipients     = "recipients"
	ListOrgans         = "organs"
	ListAuthorizations = "authorizations"
	// The vigilance lists (vigilance_lists.go).
	ListAwaitingDisposition = "awaiting-disposition"
	ListSAEs                = "sae"
	ListNotifications       = "notifications"
)

// Exports are the lists that export, in the order the documentation gives
// them.
var Exports = []string{ListDonors, ListRecipients, ListOrgans, ListAuthorizations, ListAwaitingDisposition, ListSAEs, ListNotifications}

// PersonalExport tells whether the export of a list carries personal data:
// donors and recipients do (dates of birth and death, residence, serology:
// health data of a pseudonymous person), even though no export ever holds a
// name, a national identifier, the sealed record's reference or the keyed
// pseudonym. Organs and authorizations do not.
func PersonalExport(list string) bool { return list == ListDonors || list == ListRecipients }

// Export reads the export of list (one of Exports) that the query q asks
// for: its format (csv or xlsx), and the list's filters. An export holds the
// whole filtered list, so limit and cursor are refused, as is any parameter
// that is not one of the list's filters. Personal lists export only for a
// principal who may open personal data (ReadPersonalData), and a
// coordinator's only for their own centre (centre_id). The rows are read
// when the export runs (export.Export), in its snapshot.
func (s *Service) Export(p *auth.Principal, list string, q url.Values) (export.Request, error) {
	if err := p.Require(Read); err != nil {
		return export.Request{}, err
	}
	// Who may export the list comes before the query's checks.
	personal := PersonalExport(list)
	if personal {
		if err := p.Require(ReadPersonalData); err != nil {
			return export.Request{}, err
		}
		if p.Role == RoleCoordinator && q.Get("centre_id") != p.AuthorityID {
			return export.Request{}, errs.New(errs.Forbidden, "own_centre", "centre_id",
				"a coordinator exports the %s of their own centre only: set centre_id to %s", list, p.AuthorityID)
		}
	}
	format, q, err := export.Query(q)
	if err != nil {
		return export.Request{}, err
	}
	req := export.Request{Registry: Module.Name, List: list, Format: format, Personal: personal}
	if r, ok, err := s.exportVigilance(p, list, q, req); ok {
		return r, err
	}
	var filters []string
	switch list {
	case ListDonors:
		filters = DonorFilters
		req.Columns = []string{"id", "kind", "centre_id", "sex", "blood_group", "date_of_birth", "estimated_age", "weight_kg",
			"height_cm", "cause_of_death", "date_of_death", "iv_drug_use", "malignancy", "transmissible_disease", "hiv", "hcv", "hbv",
			"organ_function", "recorded_at"}
	case ListRecipients:
		filters = RecipientFilters
		req.Columns = []string{"id", "centre_id", "sex", "blood_group", "date_of_birth", "residence", "organ_needed", "listed_on",
			"status", "recorded_at"}
	case ListOrgans:
		filters = OrganFilters
		req.Columns = []string{"id", "organ", "status", "donor_id", "procurement_id", "procured_at"}
	case ListAuthorizations:
		filters = AuthorizationFilters
		req.Columns = []string{"id", "organ_id", "recipient_id", "centre_id", "authorized_at", "authorized_by",
			"compatibility_documented", "consent_verified", "no_payment_declared", "on_waiting_list"}
	default:
		return export.Request{}, errs.New(errs.NotFound, "reference", "list", "the transplant registry has no list %s", list)
	}
	f, err := FilterOf(q, PendingSize, filters)
	if err != nil {
		return export.Request{}, err
	}
	req.Filter = q
	req.Rows = func(ctx context.Context) iter.Seq2[[]any, error] {
		switch list {
		case ListDonors:
			return exportRows(ctx, p, f, page.Lists, s.Donors, func(d *Donor) []any {
				return []any{d.ID, d.Kind, d.CentreID, d.Sex, d.BloodGroup, d.DateOfBirth, d.EstimatedAge, d.WeightKg, d.HeightCm,
					d.CauseOfDeath, d.DateOfDeath, d.IVDrugUse, d.Malignancy, d.TransmissibleDisease, d.HIV, d.HCV, d.HBV,
					d.OrganFunction, d.RecordedAt}
			})
		case ListRecipients:
			return exportRows(ctx, p, f, page.Lists, s.Recipients, func(r *Recipient) []any {
				return []any{r.ID, r.CentreID, r.Sex, r.BloodGroup, r.DateOfBirth, r.Residence, r.OrganNeeded, r.ListedOn, r.Status, r.RecordedAt}
			})
		case ListOrgans:
			return exportRows(ctx, p, f, page.Lists, s.AvailableOrgans, func(o *Organ) []any {
				return []any{o.ID, o.Organ, o.Status, o.DonorID, o.ProcurementID, o.ProcuredAt}
			})
		default:
			return exportRows(ctx, p, f, PendingSize, s.PendingAuthorizations, func(a *TransplantAuthorization) []any {
				return []any{a.ID, a.OrganID, a.RecipientID, a.CentreID, a.AuthorizedAt, a.AuthorizedBy,
					a.CompatibilityDocumented, a.ConsentVerified, a.NoPaymentDeclared, a.OnWaitingList}
			})
		}
	}
	return req, nil
}

// exportRows walks every page of a list for f, the largest pages the list
// gives, and turns each item into its row.
func exportRows[T any](ctx context.Context, p *auth.Principal, f ListFilter, size page.Size,
	list func(context.Context, *auth.Principal, ListFilter) (page.Of[T], error), cells func(*T) []any) iter.Seq2[[]any, error] {
	return export.Rows(export.Pages(ctx, size.Max, func(ctx context.Context, r page.Request) (page.Of[T], error) {
		f.Request = r
		return list(ctx, p, f)
	}), cells)
}
