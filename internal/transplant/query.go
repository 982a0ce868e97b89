package transplant

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

const donorCols = `id, kind, subject_ref, person_pseudonym, centre_id, sex, blood_group, COALESCE(date_of_birth, ''),
	estimated_age, weight_kg, height_cm, COALESCE(cause_of_death, ''), COALESCE(date_of_death, ''), iv_drug_use, malignancy,
	transmissible_disease, hiv, hcv, hbv, organ_function, recorded_at`

func scanDonor(sc store.Scanner, d *Donor) error {
	var age, w, h sql.NullInt64
	err := sc.Scan(&d.ID, &d.Kind, &d.SubjectRef, &d.PersonPseudonym, &d.CentreID, &d.Sex, &d.BloodGroup, &d.DateOfBirth,
		&age, &w, &h, &d.CauseOfDeath, &d.DateOfDeath, &d.IVDrugUse, &d.Malignancy, &d.TransmissibleDisease,
		&d.HIV, &d.HCV, &d.HBV, &d.OrganFunction, &d.RecordedAt)
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
// transplantation of it is on file, procured until then. Statuses are read
// from the transplants table, never stored (migration 005).
const organStatus = `CASE WHEN ` + organTransplanted + ` THEN 'transplanted' ELSE 'procured' END`

// organTransplanted holds when a transplantation of the organ o is on file.
const organTransplanted = `EXISTS (SELECT 1 FROM transplants st WHERE st.organ_id = o.id)`

// recipientStatus is the status of the recipient r: transplanted once a
// transplantation for them is on file, waiting until then.
const recipientStatus = `CASE WHEN EXISTS (SELECT 1 FROM transplants st WHERE st.recipient_id = r.id) THEN 'transplanted' ELSE 'waiting' END`

// recipientCols are the columns of a recipient r that scanRecipient reads.
const recipientCols = `r.id, r.subject_ref, r.person_pseudonym, r.centre_id, r.sex, r.blood_group, r.date_of_birth, r.residence,
	r.organ_needed, r.listed_on, ` + recipientStatus + `, r.recorded_at`

func scanRecipient(sc store.Scanner, r *Recipient) error {
	return sc.Scan(&r.ID, &r.SubjectRef, &r.PersonPseudonym, &r.CentreID, &r.Sex, &r.BloodGroup, &r.DateOfBirth, &r.Residence,
		&r.OrganNeeded, &r.ListedOn, &r.Status, &r.RecordedAt)
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

// ListFilter narrows and pages a list.
type ListFilter struct {
	CentreID string
	Status   string
	Limit    int
}

func (f *ListFilter) limit() int {
	if f.Limit <= 0 || f.Limit > 500 {
		return 100
	}
	return f.Limit
}

// The list pages' statements: the newest rows first, read in the order of an
// index on log_index (migration 006), so that a page never sorts a whole
// table (TestListsReadAnIndexInOrder).
const (
	listDonorsSQL     = "SELECT " + donorCols + " FROM donors WHERE (? = '' OR centre_id = ?) ORDER BY log_index DESC LIMIT ?"
	listRecipientsSQL = "SELECT " + recipientCols + ` FROM recipients r WHERE (? = '' OR r.centre_id = ?) AND (? = '' OR ` + recipientStatus + ` = ?)
		ORDER BY r.log_index DESC LIMIT ?`
	availableOrgansSQL = `SELECT o.id, o.organ, 'procured', o.donor_id, o.procurement_id, p.procured_at
		FROM organs o JOIN procurements p ON p.id = o.procurement_id
		WHERE NOT ` + organTransplanted + ` ORDER BY o.log_index DESC, o.id LIMIT ?`
	pendingAuthorizationsSQL = `SELECT ta.id, ta.organ_id, ta.recipient_id, ta.centre_id, ta.authorized_at, ta.authorized_by,
		ta.compatibility_documented, ta.consent_verified, ta.no_payment_declared, ta.on_waiting_list
		FROM transplant_authorizations ta
		WHERE NOT EXISTS (SELECT 1 FROM transplants st WHERE st.organ_id = ta.organ_id) ORDER BY ta.log_index DESC, ta.id LIMIT ?`
)

// Donors lists the most recently recorded donors.
func (s *Service) Donors(ctx context.Context, p *auth.Principal, f ListFilter) ([]Donor, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, listDonorsSQL, f.CentreID, f.CentreID, f.limit())
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, scanDonor)
}

// Recipients lists the most recently recorded recipients.
func (s *Service) Recipients(ctx context.Context, p *auth.Principal, f ListFilter) ([]Recipient, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, listRecipientsSQL, f.CentreID, f.CentreID, f.Status, f.Status, f.limit())
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, scanRecipient)
}

// AvailableOrgans lists procured organs not yet transplanted, newest first.
func (s *Service) AvailableOrgans(ctx context.Context, p *auth.Principal, limit int) ([]Organ, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.DB.Read().Query(ctx, availableOrgansSQL, limit)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, o *Organ) error {
		return r.Scan(&o.ID, &o.Organ, &o.Status, &o.DonorID, &o.ProcurementID, &o.ProcuredAt)
	})
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
	purpose, err := check.Text("purpose", purpose, 500, true)
	if err != nil {
		return nil, err
	}
	q := s.DB.Read()
	var ref, centre string
	switch {
	case strings.HasPrefix(subjectID, "DN-"):
		err = q.QueryRow(ctx, "SELECT subject_ref, centre_id FROM donors WHERE id = ?", subjectID).Scan(&ref, &centre)
	case strings.HasPrefix(subjectID, "RC-"):
		err = q.QueryRow(ctx, "SELECT subject_ref, centre_id FROM recipients WHERE id = ?", subjectID).Scan(&ref, &centre)
	default:
		err = sql.ErrNoRows
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "id", "no donor or recipient %s", subjectID)
	}
	if err != nil {
		return nil, err
	}
	if p.Role == RoleCoordinator && centre != p.AuthorityID {
		return nil, errs.New(errs.Forbidden, "own_centre", "id", "a coordinator sees the personal data of their own centre's donors and recipients only")
	}
	person, err := s.Vault.Load(ctx, q, ref)
	if err != nil {
		return nil, err
	}
	if err := privacy.RecordRead(ctx, s.W, p.Actor(), subjectID, purpose); err != nil {
		return nil, err
	}
	return &person, nil
}
