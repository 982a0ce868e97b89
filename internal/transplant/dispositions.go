package transplant

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// ---- Final disposition (Directive 2010/53/EU, Art. 10: traceability) ----
//
// Every procured organ ends transplanted (its transplantation, transplants.go),
// discarded, or used for research (a disposition, here). A disposition is
// recorded by a coordinator of the centre that holds the organ: the centre
// that procured it, or a centre to which it was allocated (one holding a
// per-procedure authorization of it).

// The outcomes of a disposition, which are also the organ's status after it.
const (
	DispositionDiscarded = "discarded"
	DispositionResearch  = "research"
)

// DispositionOutcomes lists the outcomes.
var DispositionOutcomes = []string{DispositionDiscarded, DispositionResearch}

// DispositionReasons are why an organ was not transplanted: the categories
// of the national registries' discard statistics (quality, damage,
// ischaemia, donor findings, allocation, logistics, the recipient), and other.
var DispositionReasons = []string{"organ_quality", "damaged_in_procurement", "prolonged_ischaemia", "donor_malignancy",
	"donor_infection", "no_suitable_recipient", "transport_failure", "recipient_unfit", "other"}

// DefaultDispositionAfter is how long after its procurement an organ with
// no final disposition is listed as awaiting one (custos serve
// --disposition-after).
const DefaultDispositionAfter = 72 * time.Hour

// NewDisposition is the input of RecordDisposition.
type NewDisposition struct {
	OrganID    string `json:"organ_id" api:"required"`
	CentreID   string `json:"centre_id"`
	Outcome    string `json:"outcome" api:"required"`
	Reason     string `json:"reason" api:"required"`
	Note       string `json:"note"`
	DisposedAt string `json:"disposed_at" api:"required"`
}

// Disposition is the final disposition of an organ that was not transplanted.
type Disposition struct {
	ID         string `json:"id"`
	OrganID    string `json:"organ_id"`
	CentreID   string `json:"centre_id"`
	Outcome    string `json:"outcome"`
	Reason     string `json:"reason"`
	Note       string `json:"note"`
	DisposedAt string `json:"disposed_at"`
}

// dispositionSQL reads what the rules of a disposition check: the organ's
// procuring centre and time, whether it is transplanted, its disposition if
// any, and whether the centre holds a per-procedure authorization of it.
const dispositionSQL = `SELECT o.id, p.centre_id, p.procured_at, ` + organTransplanted + `,
	COALESCE((SELECT sd.outcome FROM organ_dispositions sd WHERE sd.organ_id = o.id), ''),
	EXISTS (SELECT 1 FROM transplant_authorizations ta WHERE ta.organ_id = o.id AND ta.centre_id = ?)
	FROM organs o JOIN procurements p ON p.id = o.procurement_id WHERE o.id = ?`

// RecordDisposition records that an organ was discarded or used for research.
// It is refused for an organ the registry does not hold, by a centre that
// neither procured nor holds it (an alert: an organ's fate recorded by
// whoever does not hold it; answered before the other fields are checked
// and before the organ's state), and for one already transplanted or
// disposed of.
func (s *Service) RecordDisposition(ctx context.Context, p *auth.Principal, in NewDisposition) (*Disposition, error) {
	const command = "record disposition"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	centre, err := centreFor(p, "centre_id", in.CentreID)
	if err != nil {
		return nil, s.refuseWithAlert(ctx, p, command, err)
	}
	oid, err := ParseOrganID(in.OrganID)
	if err != nil {
		return nil, err
	}
	var organ, procuredBy, procuredAt, disposed string
	var transplanted, holds bool
	holder := func(ctx context.Context, q store.Queryer) error {
		err := q.QueryRow(ctx, dispositionSQL, centre, oid.String()).Scan(&organ, &procuredBy, &procuredAt, &transplanted, &disposed, &holds)
		if errors.Is(err, sql.ErrNoRows) {
			return noOrgan(oid.String())
		}
		if err != nil {
			return err
		}
		if procuredBy != centre && !holds {
			return errs.Alertf(errs.Forbidden, "organ_holder", "organ_id",
				"centre %s neither procured organ %s nor holds an authorization to transplant it", centre, organ)
		}
		return nil
	}
	if err := s.scopeFirst(ctx, p, command, holder); err != nil {
		return nil, err
	}
	if err := check.OneOf("outcome", in.Outcome, DispositionOutcomes); err != nil {
		return nil, err
	}
	if err := check.OneOf("reason", in.Reason, DispositionReasons); err != nil {
		return nil, err
	}
	// Research, or a reason the list does not name, is said in words.
	need := in.Outcome == DispositionResearch || in.Reason == "other"
	note, err := check.Text("note", in.Note, 2000, need)
	if err != nil {
		return nil, err
	}
	at, err := check.Time("disposed_at", in.DisposedAt)
	if err != nil {
		return nil, err
	}
	id := s.W.IDs().New("DP")
	return ledger.SubmitAs[Disposition](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := check.NotFuture("disposed_at", at, now); err != nil {
			return nil, err
		}
		if err := requireCentre(ctx, tx, "centre_id", centre); err != nil {
			return nil, err
		}
		if err := holder(ctx, tx); err != nil {
			return nil, err
		}
		if transplanted {
			return nil, errs.New(errs.Conflict, "organ_final", "organ_id", "organ %s is transplanted: its transplantation is its final disposition", organ)
		}
		if disposed != "" {
			return nil, errs.New(errs.Conflict, "organ_final", "organ_id", "organ %s already has a final disposition (%s)", organ, disposed)
		}
		if ledger.FormatTime(at) < procuredAt {
			return nil, errs.Invalidf("dates_in_order", "disposed_at", "disposed_at (%s) is before the organ was procured (%s)", ledger.FormatTime(at), procuredAt)
		}
		return ledger.NewEntry(TypeOrganDisposed, Disposition{ID: id, OrganID: organ, CentreID: centre, Outcome: in.Outcome,
			Reason: in.Reason, Note: note, DisposedAt: ledger.FormatTime(at)})
	})
}

// disposedOrgan refuses to authorize or transplant an organ that has a
// final disposition.
func disposedOrgan(o *Organ) error {
	return errs.Alertf(errs.Conflict, "organ_available", "organ_id", "organ %s has a final disposition (%s): it cannot be transplanted", o.ID, o.Status)
}

// organDisposed holds when the organ o has a disposition on file.
const organDisposed = `EXISTS (SELECT 1 FROM organ_dispositions sd WHERE sd.organ_id = o.id)`

// awaitingDispositionSQL lists the organs awaiting a final disposition,
// one list of two kinds, newest first: the organs procured here before a
// time with neither a transplantation nor a disposition, and the organs
// received from abroad before that time, with no outcome, that a centre
// here holds (importHolderSQL: the standings' rule, which counts them in
// the holder's awaiting_disposition); those no centre holds are the
// regulator's list of unheld organs (UnheldImports). Each branch takes the
// list's filters (centre_id, organ, blood_group, from, to, id), then the
// time: the procuring centre and the procurement for an organ procured
// here, the holding centre and the receipt for one from abroad, whose
// donor's blood group is the characterization's, kept in its own column
// (organ_imports.blood_group, migration 24) so that the filter is an exact
// match: A is not AB.
const awaitingDispositionSQL = `SELECT id, organ, status, donor_id, procurement_id, procured_at, centre_id, origin_registry, origin_country, received_at, log_index FROM (
	SELECT o.id, o.organ, 'procured' AS status, o.donor_id, o.procurement_id, p.procured_at, p.centre_id, '' AS origin_registry, '' AS origin_country,
		'' AS received_at, o.log_index
	FROM organs o JOIN procurements p ON p.id = o.procurement_id JOIN donors d ON d.id = o.donor_id
	WHERE NOT ` + organTransplanted + ` AND NOT ` + organDisposed + ` AND (? = '' OR p.centre_id = ?) AND (? = '' OR o.organ = ?)
	AND (? = '' OR d.blood_group = ?) AND (? = '' OR p.procured_at >= ?) AND (? = '' OR p.procured_at < ?) AND (? = '' OR o.id = ?)
	AND (? = '' OR p.procured_at < ?)
	UNION ALL
	SELECT i.organ_id, i.organ, '` + OrganReceived + `', '', '', COALESCE(i.procured_at, ''), ` + importHolderSQL + `, i.peer_id, i.origin_country,
		i.received_at, i.log_index
	FROM organ_imports i
	WHERE i.outcome IS NULL AND ` + importHolderSQL + ` IS NOT NULL AND (? = '' OR ` + importHolderSQL + ` = ?) AND (? = '' OR i.organ = ?)
	AND (? = '' OR i.blood_group = ?) AND (? = '' OR i.received_at >= ?) AND (? = '' OR i.received_at < ?)
	AND (? = '' OR i.organ_id = ?) AND (? = '' OR i.received_at < ?)) x
	WHERE %s ORDER BY log_index DESC, id LIMIT ?`

// OrganReceived is the status, among the organs awaiting a final
// disposition, of an organ received from abroad: what became of it here is
// its outcome (RecordImportOutcome), not a disposition.
const OrganReceived = "received"

// DispositionAfter is how long after procurement an organ without a final
// disposition is listed as awaiting one.
func (s *Service) DispositionAfter() time.Duration {
	if s.Cfg.DispositionAfter > 0 {
		return s.Cfg.DispositionAfter
	}
	return DefaultDispositionAfter
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// OrgansAwaitingDisposition lists, newest first, one page at a time, with
// the filters of the organs available, the organs past the disposition
// deadline (DispositionAfter) with no final disposition: those procured
// here longer ago, neither transplanted nor disposed of, and those received
// from abroad longer ago that a centre here holds with no outcome recorded
// (status OrganReceived, the registry of origin named, CentreID the
// holder's, from and to filtering their receipt).
func (s *Service) OrgansAwaitingDisposition(ctx context.Context, p *auth.Principal, f ListFilter) (page.Of[Organ], error) {
	if err := p.Require(Read); err != nil {
		return page.Of[Organ]{}, err
	}
	to, err := f.check(OrganFilters, page.Lists)
	if err != nil {
		return page.Of[Organ]{}, err
	}
	if f.ID, err = organFilter(f.ID); err != nil {
		return page.Of[Organ]{}, err
	}
	before := ledger.FormatTime(s.now().Add(-s.DispositionAfter()))
	filters := []string{f.CentreID, f.Organ, f.BloodGroup, f.From, to, f.ID, before}
	return list(ctx, s.DB.Read(), awaitingDispositionSQL, f, "log_index", "id", append(filters, filters...),
		func(r store.Scanner, o *Organ) error {
			return r.Scan(&o.ID, &o.Organ, &o.Status, &o.DonorID, &o.ProcurementID, &o.ProcuredAt, &o.CentreID, &o.OriginRegistry, &o.OriginCountry, &o.ReceivedAt)
		}, func(o *Organ) string { return o.ID })
}

// organFilter reads the id filter of an organ list as ParseOrganID does,
// its refusal naming the filter.
func organFilter(id string) (string, error) {
	if id == "" {
		return "", nil
	}
	oid, err := ParseOrganID(id)
	if e, ok := errs.As(err); ok {
		// the same refusal, its sentence kept (and so translated), about
		// the filter's field
		refused := *e
		refused.Field = "id"
		return "", &refused
	} else if err != nil {
		return "", err
	}
	return oid.String(), nil
}
