package transplant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

const donorCols = `id, kind, subject_ref, person_pseudonym, centre_id, sex, blood_group, COALESCE(date_of_birth, ''),
	estimated_age, weight_kg, height_cm, COALESCE(cause_of_death, ''), COALESCE(date_of_death, ''), iv_drug_use, malignancy,
	transmissible_disease, hiv, hcv, hbv, organ_function, COALESCE(duplicate_of, ''), COALESCE(not_duplicate_reason, ''), recorded_at`

func scanDonor(sc store.Scanner, d *Donor) error {
	var age, w, h sql.NullInt64
	err := sc.Scan(&d.ID, &d.Kind, &d.SubjectRef, &d.PersonPseudonym, &d.CentreID, &d.Sex, &d.BloodGroup, &d.DateOfBirth,
		&age, &w, &h, &d.CauseOfDeath, &d.DateOfDeath, &d.IVDrugUse, &d.Malignancy, &d.TransmissibleDisease,
		&d.HIV, &d.HCV, &d.HBV, &d.OrganFunction, &d.DuplicateOf, &d.NotDuplicateReason, &d.RecordedAt)
	d.EstimatedAge, d.WeightKg, d.HeightCm = intPtr(age), intPtr(w), intPtr(h)
	return err
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func getDonor(ctx context.Context, q store.Queryer, id string) (*Donor, error) {
	var d Donor
	err := scanDonor(q.QueryRow(ctx, "SELECT "+donorCols+" FROM donors WHERE id = ?", id), &d)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "donor_id", "no donor %s", id)
	}
	return &d, err
}

// organStatus is the status of the organ o: transplanted once a
// transplantation of it is on file, discarded or research once a final
// disposition is (transplant migration 7), procured until then. Statuses are
// read from the transplants and dispositions tables, never stored
// (migration 005).
const organStatus = `CASE WHEN ` + organTransplanted + ` THEN 'transplanted'
	ELSE COALESCE((SELECT sd.outcome FROM organ_dispositions sd WHERE sd.organ_id = o.id), 'procured') END`

// organTransplanted holds when a transplantation of the organ o is on file.
const organTransplanted = `EXISTS (SELECT 1 FROM transplants st WHERE st.organ_id = o.id)`

// recipientStatus is the status of the recipient r: transplanted once a
// transplantation for them is on file, of an organ of the registry or of one
// received from abroad (its outcome transplanted), waiting until then. It is
// a scalar subquery with a LIMIT, not a CASE WHEN EXISTS, so that PostgreSQL
// looks up each listed recipient in transplants_recipient_time: for an
// EXISTS it hashed the whole transplants table on every page (190 ms a page
// at 100,000 recipients, BENCHMARKS.md; 9 ms this way). An organ from abroad
// is read from the registration's first transplantation here, which the
// import's outcome sets (equity_registrations, reportrows.go): one lookup by
// primary key, for the recipients the first found waiting only.
const recipientStatus = `COALESCE((SELECT 'transplanted' FROM transplants st WHERE st.recipient_id = r.id LIMIT 1),
	(SELECT 'transplanted' FROM equity_registrations ser WHERE ser.recipient_id = r.id AND ser.first_at IS NOT NULL), 'waiting')`

// recipientCols are the columns of a recipient r that scanRecipient reads.
const recipientCols = `r.id, r.subject_ref, r.person_pseudonym, r.centre_id, r.sex, r.blood_group, r.date_of_birth, r.residence, r.region,
	r.organ_needed, r.listed_on, ` + recipientStatus + `, COALESCE(r.duplicate_of, ''), COALESCE(r.not_duplicate_reason, ''), r.recorded_at`

func scanRecipient(sc store.Scanner, r *Recipient) error {
	return sc.Scan(&r.ID, &r.SubjectRef, &r.PersonPseudonym, &r.CentreID, &r.Sex, &r.BloodGroup, &r.DateOfBirth, &r.Residence, &r.Region,
		&r.OrganNeeded, &r.ListedOn, &r.Status, &r.DuplicateOf, &r.NotDuplicateReason, &r.RecordedAt)
}

// noRecipient and noOrgan refuse a reference to a recipient or an organ the
// registry does not hold.
func noRecipient(id string) error {
	return errs.New(errs.NotFound, "reference", "recipient_id", "no recipient %s", id)
}

func noOrgan(id string) error {
	return errs.New(errs.NotFound, "reference", "organ_id", "no organ %s", id)
}

func getRecipient(ctx context.Context, q store.Queryer, id string) (*Recipient, error) {
	var r Recipient
	err := scanRecipient(q.QueryRow(ctx, "SELECT "+recipientCols+" FROM recipients r WHERE r.id = ?", id), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noRecipient(id)
	}
	return &r, err
}

// Organ is one procured organ.
type Organ struct {
	ID            string `json:"id"`
	Organ         string `json:"organ"`
	Status        string `json:"status"`
	DonorID       string `json:"donor_id"`
	ProcurementID string `json:"procurement_id"`
	ProcuredAt    string `json:"procured_at"`
	// CentreID is, in the organs awaiting disposition, the procuring
	// centre, or the centre holding an organ received from abroad
	// (importHolder); OriginRegistry (the foreign registry's peer id),
	// OriginCountry and ReceivedAt are set for such an organ only, whose
	// ProcuredAt is the registry of origin's, when it sent it.
	CentreID       string `json:"centre_id,omitempty"`
	OriginRegistry string `json:"origin_registry,omitempty"`
	OriginCountry  string `json:"origin_country,omitempty"`
	ReceivedAt     string `json:"received_at,omitempty"`
}

func getOrgan(ctx context.Context, q store.Queryer, id string) (*Organ, error) {
	var o Organ
	err := q.QueryRow(ctx, `SELECT o.id, o.organ, `+organStatus+`, o.donor_id, o.procurement_id, p.procured_at
		FROM organs o JOIN procurements p ON p.id = o.procurement_id WHERE o.id = ?`, id).
		Scan(&o.ID, &o.Organ, &o.Status, &o.DonorID, &o.ProcurementID, &o.ProcuredAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noOrgan(id)
	}
	return &o, err
}

// Donor returns one donor.
func (s *Service) Donor(ctx context.Context, p *auth.Principal, id string) (*Donor, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	return getDonor(ctx, s.DB.Read(), id)
}

// Recipient returns one recipient.
func (s *Service) Recipient(ctx context.Context, p *auth.Principal, id string) (*Recipient, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	return getRecipient(ctx, s.DB.Read(), id)
}

// Consents lists a donor's consents.
func (s *Service) Consents(ctx context.Context, p *auth.Principal, donorID string) ([]Consent, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT id, donor_id, kind, given_on, assessed_by, assessor_independent, voluntary, informed
		FROM consents WHERE donor_id = ? ORDER BY given_on, id`, donorID)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, c *Consent) error {
		var ind, vol, inf int
		err := r.Scan(&c.ID, &c.DonorID, &c.Kind, &c.GivenOn, &c.AssessedBy, &ind, &vol, &inf)
		c.AssessorIndependent, c.Voluntary, c.Informed = ind == 1, vol == 1, inf == 1
		return err
	})
}

// ListFilter narrows and pages a list. Each filter is empty for "any"; the
// lists that have no such column refuse it. From and To are calendar dates
// (YYYY-MM-DD), both included, of the list's date: when a donor was
// recorded, a recipient listed, an organ procured, a transplantation
// authorized. ID is one record's identifier.
type ListFilter struct {
	CentreID   string
	Status     string
	Organ      string
	BloodGroup string
	From, To   string
	ID         string
	page.Request
}

// Filters are the query parameters of each list's filters, as the API and
// the UI name them.
var (
	DonorFilters         = []string{"centre_id", "blood_group", "from", "to", "id"}
	RecipientFilters     = []string{"centre_id", "status", "organ", "blood_group", "from", "to", "id"}
	OrganFilters         = []string{"centre_id", "organ", "blood_group", "from", "to", "id"}
	AuthorizationFilters = []string{"centre_id", "organ", "from", "to", "id"}
)

// RecipientStatuses are the statuses a recipient can have.
var RecipientStatuses = []string{"waiting", "transplanted"}

// PendingSize is the page size of the pending authorizations, which the
// organs page reads a thousand at a time.
var PendingSize = page.Size{Default: 100, Max: 1000}

// FilterOf reads the filters of a list from query parameters, with the page
// asked for. Parameters that are not the list's are refused; the values are
// checked by the list.
func FilterOf(q url.Values, size page.Size, filters []string) (ListFilter, error) {
	r, err := page.Parse(q, size, filters...)
	if err != nil {
		return ListFilter{}, err
	}
	return ListFilter{CentreID: q.Get("centre_id"), Status: q.Get("status"), Organ: q.Get("organ"), BloodGroup: q.Get("blood_group"),
		From: q.Get("from"), To: q.Get("to"), ID: q.Get("id"), Request: r}, nil
}

// check refuses a filter the list does not have, a value outside its
// enumeration, a date not written YYYY-MM-DD, a range that ends before it
// begins and a page size outside 1 to size.Max; it fills in the default
// page size and returns the end of the date range as the day after To.
func (f *ListFilter) check(filters []string, size page.Size) (toExclusive string, err error) {
	if err := f.Request.Check(size, filters, page.Filter{Name: "centre_id", Value: f.CentreID},
		page.Filter{Name: "status", Value: f.Status, Allowed: RecipientStatuses}, page.Filter{Name: "organ", Value: f.Organ, Allowed: OrganTypes},
		page.Filter{Name: "blood_group", Value: f.BloodGroup, Allowed: BloodGroups}, page.Filter{Name: "from", Value: f.From},
		page.Filter{Name: "to", Value: f.To}, page.Filter{Name: "id", Value: f.ID}); err != nil {
		return "", err
	}
	f.From, toExclusive, err = page.Dates(f.From, f.To)
	return toExclusive, err
}

// The list pages' statements: the newest rows first, read in the order of an
// index on (log_index DESC, id) (migrations 3 and 4), so that a page never
// sorts a whole table (TestListsReadAnIndexInOrder); a page after the first
// starts the walk at its cursor. Each takes the filters as pairs (empty for
// any), then the cursor's condition (page.Request.Where) and the limit.
const (
	listDonorsSQL = "SELECT " + donorCols + `, log_index FROM donors
		WHERE (? = '' OR centre_id = ?) AND (? = '' OR blood_group = ?) AND (? = '' OR recorded_at >= ?) AND (? = '' OR recorded_at < ?)
		AND (? = '' OR id = ?) AND %s ORDER BY log_index DESC, id LIMIT ?`
	listRecipientsSQL = "SELECT " + recipientCols + `, r.log_index FROM recipients r
		WHERE (? = '' OR r.centre_id = ?) AND (? = '' OR ` + recipientStatus + ` = ?) AND (? = '' OR r.organ_needed = ?)
		AND (? = '' OR r.blood_group = ?) AND (? = '' OR r.listed_on >= ?) AND (? = '' OR r.listed_on < ?)
		AND (? = '' OR r.id = ?) AND %s ORDER BY r.log_index DESC, r.id LIMIT ?`
	availableOrgansSQL = `SELECT o.id, o.organ, 'procured', o.donor_id, o.procurement_id, p.procured_at, o.log_index
		FROM organs o JOIN procurements p ON p.id = o.procurement_id JOIN donors d ON d.id = o.donor_id
		WHERE NOT ` + organTransplanted + ` AND NOT ` + organDisposed + ` AND (? = '' OR p.centre_id = ?) AND (? = '' OR o.organ = ?) AND (? = '' OR d.blood_group = ?)
		AND (? = '' OR p.procured_at >= ?) AND (? = '' OR p.procured_at < ?) AND (? = '' OR o.id = ?)
		AND %s ORDER BY o.log_index DESC, o.id LIMIT ?`
	pendingAuthorizationsSQL = `SELECT ta.id, ta.organ_id, ta.recipient_id, ta.centre_id, ta.authorized_at, ta.authorized_by,
		ta.compatibility_documented, ta.consent_verified, ta.no_payment_declared, ta.on_waiting_list, ta.log_index
		FROM transplant_authorizations ta JOIN organs o ON o.id = ta.organ_id
		WHERE NOT ` + organTransplanted + ` AND NOT ` + organDisposed + ` AND (? = '' OR ta.centre_id = ?) AND (? = '' OR o.organ = ?)
		AND (? = '' OR ta.authorized_at >= ?) AND (? = '' OR ta.authorized_at < ?) AND (? = '' OR ta.id = ?)
		AND %s ORDER BY ta.log_index DESC, ta.id LIMIT ?`
)

// list runs the statement sql of a list (one of the above) for the filter
// values given, and reads one page of it.
func list[T any](ctx context.Context, q store.Queryer, sql string, f ListFilter, logCol, idCol string, values []string,
	scan func(store.Scanner, *T) error, id func(*T) string) (page.Of[T], error) {
	var args []any
	for _, v := range values {
		args = append(args, v, v)
	}
	where, after := f.Where(logCol, idCol)
	args = append(append(args, after...), f.Limit+1)
	rows, err := q.Query(ctx, fmt.Sprintf(sql, where), args...)
	if err != nil {
		return page.Of[T]{}, err
	}
	return page.Read(rows, f.Request, scan, id)
}

// Donors lists donors, the most recently recorded first, one page at a time.
func (s *Service) Donors(ctx context.Context, p *auth.Principal, f ListFilter) (page.Of[Donor], error) {
	if err := p.Require(Read); err != nil {
		return page.Of[Donor]{}, err
	}
	to, err := f.check(DonorFilters, page.Lists)
	if err != nil {
		return page.Of[Donor]{}, err
	}
	return list(ctx, s.DB.Read(), listDonorsSQL, f, "log_index", "id", []string{f.CentreID, f.BloodGroup, f.From, to, f.ID},
		scanDonor, func(d *Donor) string { return d.ID })
}

// Recipients lists recipients, the most recently recorded first, one page at
// a time.
func (s *Service) Recipients(ctx context.Context, p *auth.Principal, f ListFilter) (page.Of[Recipient], error) {
	if err := p.Require(Read); err != nil {
		return page.Of[Recipient]{}, err
	}
	to, err := f.check(RecipientFilters, page.Lists)
	if err != nil {
		return page.Of[Recipient]{}, err
	}
	return list(ctx, s.DB.Read(), listRecipientsSQL, f, "r.log_index", "r.id",
		[]string{f.CentreID, f.Status, f.Organ, f.BloodGroup, f.From, to, f.ID}, scanRecipient, func(r *Recipient) string { return r.ID })
}

// AvailableOrgans lists procured organs not yet transplanted, newest first,
// one page at a time. The identifier filter reads an organ identifier as
// ParseOrganID does.
func (s *Service) AvailableOrgans(ctx context.Context, p *auth.Principal, f ListFilter) (page.Of[Organ], error) {
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
	return list(ctx, s.DB.Read(), availableOrgansSQL, f, "o.log_index", "o.id", []string{f.CentreID, f.Organ, f.BloodGroup, f.From, to, f.ID},
		func(r store.Scanner, o *Organ) error {
			return r.Scan(&o.ID, &o.Organ, &o.Status, &o.DonorID, &o.ProcurementID, &o.ProcuredAt)
		}, func(o *Organ) string { return o.ID })
}

// GetCentreAuthorization returns one centre authorization.
func (s *Service) GetCentreAuthorization(ctx context.Context, id string) (*CentreAuthorization, error) {
	as, err := s.centreAuthorizations(ctx, "id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, errs.New(errs.NotFound, "reference", "id", "no authorization %s", id)
	}
	return &as[0], nil
}

// CentreAuthorizations lists a centre's authorizations.
func (s *Service) CentreAuthorizations(ctx context.Context, p *auth.Principal, centreID string) ([]CentreAuthorization, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	return s.centreAuthorizations(ctx, "centre_id = ?", centreID)
}

func (s *Service) centreAuthorizations(ctx context.Context, where string, arg any) ([]CentreAuthorization, error) {
	rows, err := s.DB.Read().Query(ctx, `SELECT id, centre_id, activity, organ, valid_from, COALESCE(valid_to, ''), granted_at,
		COALESCE(revoked_at, ''), COALESCE(revoke_reason, '') FROM centre_authorizations WHERE `+where+` ORDER BY activity, organ, valid_from`, arg)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, a *CentreAuthorization) error {
		return r.Scan(&a.ID, &a.CentreID, &a.Activity, &a.Organ, &a.ValidFrom, &a.ValidTo, &a.GrantedAt, &a.RevokedAt, &a.RevokeReason)
	})
}

// PersonalData opens the sealed name and national identifier of a donor or
// recipient for a principal allowed to see them, and records the read in the
// log (who read whose data, never the data itself).
func (s *Service) PersonalData(ctx context.Context, p *auth.Principal, subjectID, purpose string) (*privacy.Person, error) {
	if err := p.Require(ReadPersonalData); err != nil {
		return nil, err
	}
	// Whose subject it is comes before the purpose's check: another
	// centre's coordinator is refused whatever the purpose.
	sub, err := s.readableSubject(ctx, p, subjectID, "open personal data")
	if err != nil {
		return nil, err
	}
	purpose, err = check.Text("purpose", purpose, 500, true)
	if err != nil {
		return nil, err
	}
	q := s.DB.Read()
	person, err := s.Vault.Load(ctx, q, sub.Ref)
	if errors.Is(err, privacy.ErrErased) {
		// Erased: say when and by which entry, as every read of it does.
		if r, lerr := privacy.ErasureOf(ctx, q, subjectID); lerr != nil || r != nil {
			if lerr != nil {
				return nil, lerr
			}
			return nil, privacy.ErasedRefusal(r)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := privacy.RecordRead(ctx, s.W, p.Actor(), subjectID, purpose); err != nil {
		return nil, err
	}
	return &person, nil
}
