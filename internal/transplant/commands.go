package transplant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// Service runs the registry's commands through the ledger writer and answers
// its queries.
type Service struct {
	W     *ledger.Writer
	DB    *store.DB
	Vault *privacy.Vault
}

func (s *Service) submit(ctx context.Context, p *auth.Principal, name string, d ledger.Decide, out any) error {
	res, err := s.W.Submit(ctx, p.Actor(), name, d)
	if err != nil {
		return err
	}
	return res.Entry.Decode(out)
}

// centreFor resolves the centre a principal records for: a coordinator records
// only for their own centre; the field may be left empty for it.
func centreFor(p *auth.Principal, field, centreID string) (string, error) {
	if centreID == "" {
		centreID = p.AuthorityID
	}
	if p.Role == auth.Coordinator && centreID != p.AuthorityID {
		return "", errs.Alertf(errs.Forbidden, "own_centre", field, "a coordinator records only for their own centre (%s), not %s", p.AuthorityID, centreID)
	}
	return centreID, nil
}

func requireCentre(ctx context.Context, q store.Queryer, field, id string) error {
	var kind sql.NullString
	err := q.QueryRow(ctx, "SELECT kind FROM authorities WHERE id = ?", id).Scan(&kind)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return centreRefusal(field, id, kind)
}

// centreRefusal refuses an authority that is missing (kind is NULL) or not a
// transplant centre.
func centreRefusal(field, id string, kind sql.NullString) error {
	if !kind.Valid {
		return errs.New(errs.NotFound, "reference", field, "no centre %s", id)
	}
	if kind.String != auth.KindCentre {
		return errs.Invalidf("reference", field, "%s is not a transplant centre", id)
	}
	return nil
}

// authorized tells whether a centre holds an authorization for an activity and
// organ type valid on the given day and not revoked by then.
func authorized(ctx context.Context, q store.Queryer, centreID, activity, organ, onDay string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM centre_authorizations ca
		WHERE ca.centre_id = ? AND ca.activity = ? AND ca.organ = ? AND `+validOn,
		centreID, activity, organ, onDay, onDay, onDay).Scan(&n)
	return n > 0, err
}

// validOn is the condition on a centre authorization ca that it is valid on
// the day given three times, and not revoked by then.
const validOn = `ca.valid_from <= ? AND (ca.valid_to IS NULL OR ca.valid_to >= ?) AND (ca.revoked_at IS NULL OR ca.revoked_at > ?)`

// ---- Centre authorizations (para 6 e) ----

// CentreAuthorization is a centre's licence for one activity and organ type.
type CentreAuthorization struct {
	ID           string `json:"id"`
	CentreID     string `json:"centre_id"`
	Activity     string `json:"activity"`
	Organ        string `json:"organ"`
	ValidFrom    string `json:"valid_from"`
	ValidTo      string `json:"valid_to,omitempty"`
	GrantedAt    string `json:"granted_at,omitempty"`
	RevokedAt    string `json:"revoked_at,omitempty"`
	RevokeReason string `json:"revoke_reason,omitempty"`
}

// NewCentreAuthorization is the input of AuthorizeCentre.
type NewCentreAuthorization struct {
	Activity  string `json:"activity"`
	Organ     string `json:"organ"`
	ValidFrom string `json:"valid_from"`
	ValidTo   string `json:"valid_to"`
}

// AuthorizeCentre grants a centre an activity for an organ type.
func (s *Service) AuthorizeCentre(ctx context.Context, p *auth.Principal, centreID string, in NewCentreAuthorization) (*CentreAuthorization, error) {
	if err := p.Require(auth.AuthorizeCentres); err != nil {
		return nil, err
	}
	if err := oneOf("enum", "activity", in.Activity, Activities); err != nil {
		return nil, err
	}
	if err := oneOf("enum", "organ", in.Organ, OrganTypes); err != nil {
		return nil, err
	}
	from, err := parseDate("valid_from", in.ValidFrom, true)
	if err != nil {
		return nil, err
	}
	to, err := parseDate("valid_to", in.ValidTo, false)
	if err != nil {
		return nil, err
	}
	if to != "" && to < from {
		return nil, errs.Invalidf("dates_in_order", "valid_to", "valid_to (%s) is before valid_from (%s)", to, from)
	}
	a := CentreAuthorization{ID: s.W.IDs().New("CA"), CentreID: centreID, Activity: in.Activity, Organ: in.Organ, ValidFrom: from, ValidTo: to}
	var out CentreAuthorization
	err = s.submit(ctx, p, "authorize centre", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := requireCentre(ctx, tx, "centre_id", centreID); err != nil {
			return nil, err
		}
		a.GrantedAt = ledger.FormatTime(now)
		return ledger.NewEntry(TypeCentreAuthorized, a)
	}, &out)
	return &out, err
}

// RevokeCentreAuthorization ends an authorization from the day of revocation.
func (s *Service) RevokeCentreAuthorization(ctx context.Context, p *auth.Principal, centreID, id, reason string) (*CentreAuthorization, error) {
	if err := p.Require(auth.AuthorizeCentres); err != nil {
		return nil, err
	}
	reason, err := text("reason", reason, 1000, true)
	if err != nil {
		return nil, err
	}
	var out authorizationRevoked
	err = s.submit(ctx, p, "revoke centre authorization", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var centre string
		var revoked sql.NullString
		err := tx.QueryRow(ctx, "SELECT centre_id, revoked_at FROM centre_authorizations WHERE id = ?", id).Scan(&centre, &revoked)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && centre != centreID) {
			return nil, errs.New(errs.NotFound, "reference", "id", "centre %s has no authorization %s", centreID, id)
		}
		if err != nil {
			return nil, err
		}
		if revoked.Valid {
			return nil, errs.New(errs.Conflict, "already_revoked", "id", "authorization %s was revoked on %s", id, revoked.String)
		}
		return ledger.NewEntry(TypeCentreAuthorizationRevoked, authorizationRevoked{ID: id, Reason: reason, On: day(now)})
	}, &out)
	if err != nil {
		return nil, err
	}
	return s.GetCentreAuthorization(ctx, id)
}

type authorizationRevoked struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
	On     string `json:"on"`
}

// ---- Donors (para 6 b, h; Directive 2010/53/EU Annex, Part A) ----

// NewDonor is the input of RegisterDonor: the donor characterisation and the
// personal data, which is sealed apart and never logged.
type NewDonor struct {
	Kind                 string `json:"kind"`
	CentreID             string `json:"centre_id"`
	Name                 string `json:"name"`
	NationalID           string `json:"national_id"`
	Sex                  string `json:"sex"`
	BloodGroup           string `json:"blood_group"`
	DateOfBirth          string `json:"date_of_birth"`
	EstimatedAge         *int   `json:"estimated_age"`
	WeightKg             *int   `json:"weight_kg"`
	HeightCm             *int   `json:"height_cm"`
	CauseOfDeath         string `json:"cause_of_death"`
	DateOfDeath          string `json:"date_of_death"`
	IVDrugUse            string `json:"iv_drug_use"`
	Malignancy           string `json:"malignancy"`
	TransmissibleDisease string `json:"transmissible_disease"`
	HIV                  string `json:"hiv"`
	HCV                  string `json:"hcv"`
	HBV                  string `json:"hbv"`
	OrganFunction        string `json:"organ_function"`
}

// Donor is a donor as the registry keeps it: no name, no national identifier.
type Donor struct {
	ID                   string `json:"id"`
	Kind                 string `json:"kind"`
	SubjectRef           string `json:"subject_ref"`
	PersonPseudonym      string `json:"person_pseudonym"`
	CentreID             string `json:"centre_id"`
	Sex                  string `json:"sex"`
	BloodGroup           string `json:"blood_group"`
	DateOfBirth          string `json:"date_of_birth,omitempty"`
	EstimatedAge         *int   `json:"estimated_age,omitempty"`
	WeightKg             *int   `json:"weight_kg,omitempty"`
	HeightCm             *int   `json:"height_cm,omitempty"`
	CauseOfDeath         string `json:"cause_of_death,omitempty"`
	DateOfDeath          string `json:"date_of_death,omitempty"`
	IVDrugUse            string `json:"iv_drug_use"`
	Malignancy           string `json:"malignancy"`
	TransmissibleDisease string `json:"transmissible_disease"`
	HIV                  string `json:"hiv"`
	HCV                  string `json:"hcv"`
	HBV                  string `json:"hbv"`
	OrganFunction        string `json:"organ_function"`
	RecordedAt           string `json:"recorded_at,omitempty"`
}

func intRange(field string, v *int, lo, hi int) error {
	if v != nil && (*v < lo || *v > hi) {
		return errs.Invalidf("range", field, "%s must be between %d and %d", field, lo, hi)
	}
	return nil
}

// Validate checks the donor input without reading the registry.
func (in *NewDonor) validate(now time.Time) error {
	var err error
	if err = oneOf("enum", "kind", in.Kind, DonorKinds); err != nil {
		return err
	}
	if in.Name, err = text("name", in.Name, 200, true); err != nil {
		return err
	}
	if in.NationalID, err = text("national_id", in.NationalID, 64, false); err != nil {
		return err
	}
	if err = oneOf("enum", "sex", in.Sex, Sexes); err != nil {
		return err
	}
	if err = oneOf("enum", "blood_group", in.BloodGroup, BloodGroups); err != nil {
		return err
	}
	if in.DateOfBirth, err = parseDate("date_of_birth", in.DateOfBirth, false); err != nil {
		return err
	}
	if in.DateOfBirth == "" && in.EstimatedAge == nil {
		return errs.Invalidf("required", "date_of_birth", "give the date of birth or, when unknown, estimated_age")
	}
	if in.DateOfBirth > day(now) {
		return errs.Invalidf("dates_in_order", "date_of_birth", "date_of_birth is in the future")
	}
	if err = intRange("estimated_age", in.EstimatedAge, 0, 120); err != nil {
		return err
	}
	if err = intRange("weight_kg", in.WeightKg, 1, 400); err != nil {
		return err
	}
	if err = intRange("height_cm", in.HeightCm, 20, 260); err != nil {
		return err
	}
	if in.CauseOfDeath, err = text("cause_of_death", in.CauseOfDeath, 500, false); err != nil {
		return err
	}
	if in.DateOfDeath, err = parseDate("date_of_death", in.DateOfDeath, false); err != nil {
		return err
	}
	if isDeceased(in.Kind) {
		if in.CauseOfDeath == "" {
			return errs.Invalidf("required", "cause_of_death", "cause_of_death is required for a deceased donor")
		}
		if in.DateOfDeath == "" {
			return errs.Invalidf("required", "date_of_death", "date_of_death is required for a deceased donor")
		}
		if in.DateOfDeath > day(now) {
			return errs.Invalidf("dates_in_order", "date_of_death", "date_of_death is in the future")
		}
		if in.DateOfBirth != "" && in.DateOfDeath < in.DateOfBirth {
			return errs.Invalidf("dates_in_order", "date_of_death", "date_of_death is before date_of_birth")
		}
	} else if in.CauseOfDeath != "" || in.DateOfDeath != "" {
		return errs.Invalidf("living_donor", "date_of_death", "a living donor has no cause or date of death")
	}
	for _, f := range []struct{ name, v string }{{"iv_drug_use", in.IVDrugUse}, {"malignancy", in.Malignancy}, {"transmissible_disease", in.TransmissibleDisease}} {
		if err = oneOf("enum", f.name, f.v, YesNo); err != nil {
			return err
		}
	}
	for _, f := range []struct{ name, v string }{{"hiv", in.HIV}, {"hcv", in.HCV}, {"hbv", in.HBV}} {
		if err = oneOf("enum", f.name, f.v, TestResults); err != nil {
			return err
		}
	}
	if in.OrganFunction, err = text("organ_function", in.OrganFunction, 2000, true); err != nil {
		return err
	}
	return nil
}

// RegisterDonor records a donor. The name and national identifier are sealed
// in the vault; the record and its log leaf carry only the subject reference
// and a pseudonym of the national identifier.
func (s *Service) RegisterDonor(ctx context.Context, p *auth.Principal, in NewDonor) (*Donor, error) {
	if err := p.Require(auth.Record); err != nil {
		return nil, err
	}
	centre, err := centreFor(p, "centre_id", in.CentreID)
	if err != nil {
		return nil, s.refuseWithAlert(ctx, p, err)
	}
	id := s.W.IDs().New("DN")
	var out Donor
	err = s.submit(ctx, p, "register donor", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := in.validate(now); err != nil {
			return nil, err
		}
		if err := requireCentre(ctx, tx, "centre_id", centre); err != nil {
			return nil, err
		}
		d := Donor{ID: id, Kind: in.Kind, SubjectRef: "SU-" + id[3:], CentreID: centre, Sex: in.Sex, BloodGroup: in.BloodGroup,
			DateOfBirth: in.DateOfBirth, EstimatedAge: in.EstimatedAge, WeightKg: in.WeightKg, HeightCm: in.HeightCm,
			CauseOfDeath: in.CauseOfDeath, DateOfDeath: in.DateOfDeath, IVDrugUse: in.IVDrugUse, Malignancy: in.Malignancy,
			TransmissibleDisease: in.TransmissibleDisease, HIV: in.HIV, HCV: in.HCV, HBV: in.HBV, OrganFunction: in.OrganFunction}
		d.PersonPseudonym = s.pseudonym(ctx, tx, in.NationalID, d.SubjectRef)
		// Personal data is written here, not by the projector: it never enters the log.
		if err := s.Vault.Store(ctx, tx, d.SubjectRef, privacy.Person{Name: in.Name, NationalID: in.NationalID}, now); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeDonorRegistered, d)
	}, &out)
	return &out, err
}

// pseudonym links records of one person by their national identifier; without
// one, the subject stands alone.
func (s *Service) pseudonym(ctx context.Context, q store.Queryer, nationalID, subject string) string {
	if nationalID == "" {
		return s.Vault.Pseudonym("subject", subject)
	}
	var j string
	_ = q.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&j)
	return s.Vault.Pseudonym("national-id:"+j, nationalID)
}

// ---- Consent (para 6 b) ----

// NewConsent is the input of RecordConsent.
type NewConsent struct {
	Kind                string `json:"kind"`
	GivenOn             string `json:"given_on"`
	AssessedBy          string `json:"assessed_by"`
	AssessorIndependent bool   `json:"assessor_independent"`
	Voluntary           bool   `json:"voluntary"`
	Informed            bool   `json:"informed"`
}

// Consent is a recorded consent or authorization of donation.
type Consent struct {
	ID                  string `json:"id"`
	DonorID             string `json:"donor_id"`
	Kind                string `json:"kind"`
	GivenOn             string `json:"given_on"`
	AssessedBy          string `json:"assessed_by"`
	AssessorIndependent bool   `json:"assessor_independent"`
	Voluntary           bool   `json:"voluntary"`
	Informed            bool   `json:"informed"`
}

// RecordConsent records a living donor's informed, voluntary consent, assessed
// by someone independent of the recipient's team, or the family or donor
// registry authorization of a deceased donation.
func (s *Service) RecordConsent(ctx context.Context, p *auth.Principal, donorID string, in NewConsent) (*Consent, error) {
	if err := p.Require(auth.Record); err != nil {
		return nil, err
	}
	if err := oneOf("enum", "kind", in.Kind, ConsentKinds); err != nil {
		return nil, err
	}
	given, err := parseDate("given_on", in.GivenOn, true)
	if err != nil {
		return nil, err
	}
	assessor, err := text("assessed_by", in.AssessedBy, 200, true)
	if err != nil {
		return nil, err
	}
	c := Consent{ID: s.W.IDs().New("CO"), DonorID: donorID, Kind: in.Kind, GivenOn: given, AssessedBy: assessor,
		AssessorIndependent: in.AssessorIndependent, Voluntary: in.Voluntary, Informed: in.Informed}
	var out Consent
	err = s.submit(ctx, p, "record consent", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if given > day(now) {
			return nil, errs.Invalidf("dates_in_order", "given_on", "given_on is in the future")
		}
		d, err := getDonor(ctx, tx, donorID)
		if err != nil {
			return nil, err
		}
		if _, err := centreFor(p, "donor_id", d.CentreID); err != nil {
			return nil, err
		}
		if d.Kind == DonorLiving {
			if c.Kind != ConsentLiving {
				return nil, errs.Invalidf("consent_kind", "kind", "a living donor gives %s", ConsentLiving)
			}
			if !c.Informed || !c.Voluntary {
				return nil, errs.Invalidf("informed_voluntary", "voluntary", "a living donor's consent must be informed and voluntary")
			}
			if !c.AssessorIndependent {
				return nil, errs.Invalidf("independent_assessment", "assessor_independent", "a living donor's consent must be assessed by someone independent of the recipient's team")
			}
		} else if c.Kind == ConsentLiving {
			return nil, errs.Invalidf("consent_kind", "kind", "a deceased donation is authorized by %s or %s", ConsentFamily, ConsentRegistry)
		}
		return ledger.NewEntry(TypeConsentRecorded, c)
	}, &out)
	return &out, err
}

// ---- Recipients ----

// NewRecipient is the input of RegisterRecipient.
type NewRecipient struct {
	CentreID    string `json:"centre_id"`
	Name        string `json:"name"`
	NationalID  string `json:"national_id"`
	Sex         string `json:"sex"`
	BloodGroup  string `json:"blood_group"`
	DateOfBirth string `json:"date_of_birth"`
	Residence   string `json:"residence"`
	OrganNeeded string `json:"organ_needed"`
	ListedOn    string `json:"listed_on"`
}

// Recipient is a patient on the waiting list, without personal data.
type Recipient struct {
	ID              string `json:"id"`
	SubjectRef      string `json:"subject_ref"`
	PersonPseudonym string `json:"person_pseudonym"`
	CentreID        string `json:"centre_id"`
	Sex             string `json:"sex"`
	BloodGroup      string `json:"blood_group"`
	DateOfBirth     string `json:"date_of_birth"`
	Residence       string `json:"residence"`
	OrganNeeded     string `json:"organ_needed"`
	ListedOn        string `json:"listed_on"`
	Status          string `json:"status,omitempty"`
	RecordedAt      string `json:"recorded_at,omitempty"`
}

// RegisterRecipient puts a patient on the waiting list of a centre.
func (s *Service) RegisterRecipient(ctx context.Context, p *auth.Principal, in NewRecipient) (*Recipient, error) {
	if err := p.Require(auth.Record); err != nil {
		return nil, err
	}
	centre, err := centreFor(p, "centre_id", in.CentreID)
	if err != nil {
		return nil, s.refuseWithAlert(ctx, p, err)
	}
	if in.Name, err = text("name", in.Name, 200, true); err != nil {
		return nil, err
	}
	if in.NationalID, err = text("national_id", in.NationalID, 64, false); err != nil {
		return nil, err
	}
	if err = oneOf("enum", "sex", in.Sex, Sexes); err != nil {
		return nil, err
	}
	if err = oneOf("enum", "blood_group", in.BloodGroup, BloodGroups); err != nil {
		return nil, err
	}
	if in.DateOfBirth, err = parseDate("date_of_birth", in.DateOfBirth, true); err != nil {
		return nil, err
	}
	if !auth.ValidCountry(in.Residence) {
		return nil, errs.Invalidf("iso3166", "residence", "residence must be an ISO 3166-1 alpha-2 country code")
	}
	if err = oneOf("enum", "organ_needed", in.OrganNeeded, OrganTypes); err != nil {
		return nil, err
	}
	if in.ListedOn, err = parseDate("listed_on", in.ListedOn, true); err != nil {
		return nil, err
	}
	if in.ListedOn < in.DateOfBirth {
		return nil, errs.Invalidf("dates_in_order", "listed_on", "listed_on is before date_of_birth")
	}
	id := s.W.IDs().New("RC")
	var out Recipient
	err = s.submit(ctx, p, "register recipient", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if in.DateOfBirth > day(now) || in.ListedOn > day(now) {
			return nil, errs.Invalidf("dates_in_order", "listed_on", "listed_on and date_of_birth cannot be in the future")
		}
		if err := requireCentre(ctx, tx, "centre_id", centre); err != nil {
			return nil, err
		}
		r := Recipient{ID: id, SubjectRef: "SU-" + id[3:], CentreID: centre, Sex: in.Sex, BloodGroup: in.BloodGroup,
			DateOfBirth: in.DateOfBirth, Residence: in.Residence, OrganNeeded: in.OrganNeeded, ListedOn: in.ListedOn}
		r.PersonPseudonym = s.pseudonym(ctx, tx, in.NationalID, r.SubjectRef)
		if err := s.Vault.Store(ctx, tx, r.SubjectRef, privacy.Person{Name: in.Name, NationalID: in.NationalID}, now); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeRecipientRegistered, r)
	}, &out)
	return &out, err
}

// ---- Procurement (para 6 e, h) ----

// NewProcurement is the input of RecordProcurement.
type NewProcurement struct {
	DonorID    string   `json:"donor_id"`
	CentreID   string   `json:"centre_id"`
	ProcuredAt string   `json:"procured_at"`
	Organs     []string `json:"organs"`
}

// Procurement is one retrieval of organs from a donor.
type Procurement struct {
	ID           string          `json:"id"`
	DonorID      string          `json:"donor_id"`
	CentreID     string          `json:"centre_id"`
	ProcuredAt   string          `json:"procured_at"`
	DonationYear int             `json:"donation_year"`
	DonationSeq  int             `json:"donation_seq"`
	Organs       []ProcuredOrgan `json:"organs"`
}

// ProcuredOrgan is one organ of a procurement with its identifier.
type ProcuredOrgan struct {
	ID    string `json:"id"`
	Organ string `json:"organ"`
}

// RecordProcurement records the retrieval of organs from a donor at an
// authorized centre and gives each organ its identifier.
func (s *Service) RecordProcurement(ctx context.Context, p *auth.Principal, in NewProcurement) (*Procurement, error) {
	if err := p.Require(auth.Record); err != nil {
		return nil, err
	}
	centre, err := centreFor(p, "centre_id", in.CentreID)
	if err != nil {
		return nil, s.refuseWithAlert(ctx, p, err)
	}
	if in.DonorID == "" {
		return nil, errs.Invalidf("required", "donor_id", "donor_id is required")
	}
	at, err := parseTime("procured_at", in.ProcuredAt)
	if err != nil {
		return nil, err
	}
	if len(in.Organs) == 0 || len(in.Organs) > 10 {
		return nil, errs.Invalidf("organ_count", "organs", "a procurement lists 1 to 10 organs")
	}
	for i, o := range in.Organs {
		if err := oneOf("enum", fmt.Sprintf("organs[%d]", i), o, OrganTypes); err != nil {
			return nil, err
		}
	}
	id := s.W.IDs().New("PC")
	var out Procurement
	err = s.submit(ctx, p, "record procurement", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := notFuture("procured_at", at, now); err != nil {
			return nil, err
		}
		if err := requireCentre(ctx, tx, "centre_id", centre); err != nil {
			return nil, err
		}
		d, err := getDonor(ctx, tx, in.DonorID)
		if err != nil {
			return nil, err
		}
		if d.DateOfDeath != "" && day(at) < d.DateOfDeath {
			return nil, errs.Invalidf("dates_in_order", "procured_at", "procured_at (%s) is before the donor's date of death (%s)", day(at), d.DateOfDeath)
		}
		// Count what the donor already gave, then what this procurement adds.
		counts := map[string]int{}
		rows, err := tx.Query(ctx, "SELECT organ FROM organs WHERE donor_id = ?", d.ID)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return nil, err
			}
			counts[o]++
		}
		rows.Close()
		limits := maxPerDonor
		if d.Kind == DonorLiving {
			limits = livingOrgans
		}
		for i, o := range in.Organs {
			field := fmt.Sprintf("organs[%d]", i)
			counts[o]++
			if counts[o] > limits[o] {
				if d.Kind == DonorLiving {
					return nil, errs.Alertf(errs.Invalid, "living_donor_organs", field, "a living donor can give at most %s", plural(limits[o], o))
				}
				return nil, errs.Invalidf("organ_count", field, "a donor has at most %s", plural(limits[o], o))
			}
			ok, err := authorized(ctx, tx, centre, "procurement", o, day(at))
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errs.Alertf(errs.Forbidden, "centre_authorization", field,
					"centre %s holds no valid authorization for procurement of %s on %s", centre, o, day(at))
			}
		}
		if err := requireConsent(ctx, tx, d, day(at)); err != nil {
			return nil, err
		}
		var country string
		if err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&country); err != nil {
			return nil, err
		}
		year := at.Year() % 100
		var last sql.NullInt64
		if err := tx.QueryRow(ctx, "SELECT MAX(donation_seq) FROM procurements WHERE donation_year = ?", year).Scan(&last); err != nil {
			return nil, err
		}
		seq := int(last.Int64) + 1
		if seq > 999999 {
			return nil, errs.New(errs.Conflict, "donation_numbers", "procured_at", "the registry has used all donation numbers of 20%02d", year)
		}
		pr := Procurement{ID: id, DonorID: d.ID, CentreID: centre, ProcuredAt: ledger.FormatTime(at), DonationYear: year, DonationSeq: seq}
		for i, o := range in.Organs {
			pr.Organs = append(pr.Organs, ProcuredOrgan{ID: OrganID{Country: country, Year: year, Seq: seq, Organ: i + 1}.String(), Organ: o})
		}
		return ledger.NewEntry(TypeProcurementRecorded, pr)
	}, &out)
	return &out, err
}

// requireConsent refuses a procurement without consent on file: a living
// donor's informed, voluntary, independently assessed consent, or the family or
// registry authorization of a deceased donation, given on or before the day.
func requireConsent(ctx context.Context, q store.Queryer, d *Donor, onDay string) error {
	kinds := []any{ConsentFamily, ConsentRegistry}
	rule, msg := "deceased_authorization", "a deceased donation needs a family or donor registry authorization on file before procurement"
	if d.Kind == DonorLiving {
		kinds = []any{ConsentLiving, ConsentLiving}
		rule, msg = "living_consent", "a living donation needs the donor's informed, voluntary, independently assessed consent on file before procurement"
	}
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM consents WHERE donor_id = ? AND kind IN (?, ?) AND given_on <= ?
		AND voluntary = 1 AND informed = 1 AND (kind <> ? OR assessor_independent = 1)`,
		append([]any{d.ID}, append(kinds, onDay, ConsentLiving)...)...).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.Alertf(errs.Forbidden, rule, "donor_id", "%s (donor %s)", msg, d.ID)
	}
	return nil
}

// ---- Per-procedure authorization (para 6 g) ----

// NewTransplantAuthorization is the input of AuthorizeTransplant.
type NewTransplantAuthorization struct {
	OrganID                 string `json:"organ_id"`
	RecipientID             string `json:"recipient_id"`
	CentreID                string `json:"centre_id"`
	AuthorizedBy            string `json:"authorized_by"`
	CompatibilityDocumented bool   `json:"compatibility_documented"`
	ConsentVerified         bool   `json:"consent_verified"`
	NoPaymentDeclared       bool   `json:"no_payment_declared"`
}

// TransplantAuthorization authorizes one organ for one recipient at one centre.
type TransplantAuthorization struct {
	ID                      string `json:"id"`
	OrganID                 string `json:"organ_id"`
	RecipientID             string `json:"recipient_id"`
	CentreID                string `json:"centre_id"`
	AuthorizedAt            string `json:"authorized_at"`
	AuthorizedBy            string `json:"authorized_by"`
	CompatibilityDocumented bool   `json:"compatibility_documented"`
	ConsentVerified         bool   `json:"consent_verified"`
	NoPaymentDeclared       bool   `json:"no_payment_declared"`
	OnWaitingList           bool   `json:"on_waiting_list"`
}

// AuthorizeTransplant checks the criteria of a transplantation before it
// happens: the organ is available and of the type the recipient waits for, the
// recipient is on the waiting list, compatibility and consent are documented,
// no payment was declared, and the centre is authorized.
func (s *Service) AuthorizeTransplant(ctx context.Context, p *auth.Principal, in NewTransplantAuthorization) (*TransplantAuthorization, error) {
	centre, oid, err := s.procedure(ctx, p, in.CentreID, in.OrganID, in.RecipientID)
	if err != nil {
		return nil, err
	}
	by, err := text("authorized_by", in.AuthorizedBy, 200, true)
	if err != nil {
		return nil, err
	}
	if !in.NoPaymentDeclared {
		// Para 6 b: no payment to a donor, their family or anyone else.
		return nil, s.refuseWithAlert(ctx, p, errs.Alertf(errs.Forbidden, "no_payment", "no_payment_declared",
			"a transplantation is not authorized unless it is declared that no payment or reward of monetary value was made"))
	}
	if !in.CompatibilityDocumented {
		return nil, errs.Invalidf("compatibility", "compatibility_documented", "document donor-recipient compatibility before authorizing")
	}
	if !in.ConsentVerified {
		return nil, errs.Invalidf("consent_verified", "consent_verified", "verify the donation's consent before authorizing")
	}
	id := s.W.IDs().New("TA")
	var out TransplantAuthorization
	err = s.submit(ctx, p, "authorize transplant", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		f, err := readProcedure(ctx, tx, centre, oid.String(), in.RecipientID, day(now))
		if err != nil {
			return nil, err
		}
		if err := centreRefusal("centre_id", centre, f.centreKind); err != nil {
			return nil, err
		}
		o, r := f.organ, f.recipient
		if o == nil {
			return nil, noOrgan(oid.String())
		}
		if o.Status != "procured" {
			return nil, errs.Alertf(errs.Conflict, "organ_available", "organ_id", "organ %s is already %s", o.ID, o.Status)
		}
		if r == nil {
			return nil, noRecipient(in.RecipientID)
		}
		if r.Status != "waiting" {
			return nil, errs.Invalidf("waiting_list", "recipient_id", "recipient %s is not on the waiting list (%s)", r.ID, r.Status)
		}
		if r.OrganNeeded != o.Organ {
			return nil, errs.Invalidf("organ_type", "organ_id", "organ %s is a %s; recipient %s waits for a %s", o.ID, o.Organ, r.ID, r.OrganNeeded)
		}
		if !f.centreAuthorized {
			return nil, errs.Alertf(errs.Forbidden, "centre_authorization", "centre_id",
				"centre %s holds no valid authorization for transplantation of %s on %s", centre, o.Organ, day(now))
		}
		return ledger.NewEntry(TypeTransplantAuthorized, TransplantAuthorization{ID: id, OrganID: o.ID, RecipientID: r.ID, CentreID: centre,
			AuthorizedAt: ledger.FormatTime(now), AuthorizedBy: by, CompatibilityDocumented: true, ConsentVerified: true,
			NoPaymentDeclared: true, OnWaitingList: true})
	}, &out)
	return &out, err
}

// procedureFacts is what the rules of a per-procedure authorization and of a
// transplantation check: the centre's kind (NULL when there is no such
// authority), the organ with its procurement and the recipient (nil when
// absent), whether the centre may transplant that organ type on the day, and
// the latest authorization of that organ for that recipient (NULL when none).
type procedureFacts struct {
	centreKind                 sql.NullString
	organ                      *Organ
	recipient                  *Recipient
	centreAuthorized           bool
	authID, authAt, authCentre sql.NullString
}

// procedureSQL reads procedureFacts in one statement: the writer runs it for
// every transplantation, and each statement costs more than the reads in it.
const procedureSQL = `SELECT c.kind, o.id, o.organ, ` + organStatus + `, o.donor_id, o.procurement_id, p.procured_at,
	r.id, ` + recipientStatus + `, r.organ_needed,
	(SELECT COUNT(*) FROM centre_authorizations ca WHERE ca.centre_id = ? AND ca.activity = 'transplantation'
		AND ca.organ = o.organ AND ` + validOn + `),
	ta.id, ta.authorized_at, ta.centre_id
	FROM (SELECT 1 AS one) x
	LEFT JOIN authorities c ON c.id = ?
	LEFT JOIN organs o ON o.id = ?
	LEFT JOIN procurements p ON p.id = o.procurement_id
	LEFT JOIN recipients r ON r.id = ?
	LEFT JOIN transplant_authorizations ta ON ta.organ_id = o.id AND ta.recipient_id = r.id
	ORDER BY ta.authorized_at DESC LIMIT 1`

func readProcedure(ctx context.Context, q store.Queryer, centreID, organID, recipientID, onDay string) (*procedureFacts, error) {
	var f procedureFacts
	var oID, oOrgan, oStatus, oDonor, oProc, oAt, rID, rStatus, rNeeded sql.NullString
	var n int
	if err := q.QueryRow(ctx, procedureSQL, centreID, onDay, onDay, onDay, centreID, organID, recipientID).Scan(
		&f.centreKind, &oID, &oOrgan, &oStatus, &oDonor, &oProc, &oAt, &rID, &rStatus, &rNeeded, &n,
		&f.authID, &f.authAt, &f.authCentre); err != nil {
		return nil, err
	}
	if oID.Valid {
		f.organ = &Organ{ID: oID.String, Organ: oOrgan.String, Status: oStatus.String, DonorID: oDonor.String,
			ProcurementID: oProc.String, ProcuredAt: oAt.String}
	}
	if rID.Valid {
		f.recipient = &Recipient{ID: rID.String, Status: rStatus.String, OrganNeeded: rNeeded.String}
	}
	f.centreAuthorized = n > 0
	return &f, nil
}

// procedure checks what a per-procedure authorization and a transplantation
// both start from: a coordinator recording for their own centre, a well-formed
// organ identifier, and a recipient.
func (s *Service) procedure(ctx context.Context, p *auth.Principal, centreID, organID, recipientID string) (string, OrganID, error) {
	if err := p.Require(auth.Record); err != nil {
		return "", OrganID{}, err
	}
	centre, err := centreFor(p, "centre_id", centreID)
	if err != nil {
		return "", OrganID{}, s.refuseWithAlert(ctx, p, err)
	}
	oid, err := ParseOrganID(organID)
	if err != nil {
		return "", OrganID{}, err
	}
	if recipientID == "" {
		return "", OrganID{}, errs.Invalidf("required", "recipient_id", "recipient_id is required")
	}
	return centre, oid, nil
}

// refuseWithAlert returns a refusal decided before any state was read, and
// records its alert first when it has one.
func (s *Service) refuseWithAlert(ctx context.Context, p *auth.Principal, err error) error {
	e, ok := errs.As(err)
	if !ok || !e.Alert {
		return err
	}
	_, err = s.W.Submit(ctx, p.Actor(), "refused command", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) { return nil, e })
	return err
}

// ---- Transplantation (para 6 e, g, h) ----

// NewTransplant is the input of RecordTransplant.
type NewTransplant struct {
	OrganID         string `json:"organ_id"`
	RecipientID     string `json:"recipient_id"`
	CentreID        string `json:"centre_id"`
	PerformedAt     string `json:"performed_at"`
	AuthorizationID string `json:"authorization_id"`
}

// Transplant is the transplantation of one organ into one recipient.
type Transplant struct {
	ID              string `json:"id"`
	OrganID         string `json:"organ_id"`
	RecipientID     string `json:"recipient_id"`
	CentreID        string `json:"centre_id"`
	AuthorizationID string `json:"authorization_id"`
	PerformedAt     string `json:"performed_at"`
}

// RecordTransplant records a transplantation. It is refused, and the regulator
// alerted, when the organ was never procured or is already transplanted, when
// the centre is not authorized for that organ type on that day, or when the
// per-procedure authorization is missing.
func (s *Service) RecordTransplant(ctx context.Context, p *auth.Principal, in NewTransplant) (*Transplant, error) {
	centre, oid, err := s.procedure(ctx, p, in.CentreID, in.OrganID, in.RecipientID)
	if err != nil {
		return nil, err
	}
	at, err := parseTime("performed_at", in.PerformedAt)
	if err != nil {
		return nil, err
	}
	id := s.W.IDs().New("TX")
	var out Transplant
	err = s.submit(ctx, p, "record transplant", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := notFuture("performed_at", at, now); err != nil {
			return nil, err
		}
		f, err := readProcedure(ctx, tx, centre, oid.String(), in.RecipientID, day(at))
		if err != nil {
			return nil, err
		}
		if err := centreRefusal("centre_id", centre, f.centreKind); err != nil {
			return nil, err
		}
		o, r := f.organ, f.recipient
		if o == nil {
			return nil, errs.Alertf(errs.NotFound, "organ_procured", "organ_id", "organ %s was never procured in this registry", oid)
		}
		if o.Status == "transplanted" {
			return nil, errs.Alertf(errs.Conflict, "organ_available", "organ_id", "organ %s is already transplanted", o.ID)
		}
		if r == nil {
			return nil, noRecipient(in.RecipientID)
		}
		if !f.centreAuthorized {
			return nil, errs.Alertf(errs.Forbidden, "centre_authorization", "centre_id",
				"centre %s holds no valid authorization for transplantation of %s on %s", centre, o.Organ, day(at))
		}
		if ledger.FormatTime(at) < o.ProcuredAt {
			return nil, errs.Invalidf("dates_in_order", "performed_at", "performed_at (%s) is before the organ was procured (%s)", ledger.FormatTime(at), o.ProcuredAt)
		}
		if !f.authID.Valid {
			return nil, errs.Alertf(errs.Forbidden, "procedure_authorization", "authorization_id",
				"no authorization of organ %s for recipient %s is on file", o.ID, r.ID)
		}
		authID, authAt, authCentre := f.authID.String, f.authAt.String, f.authCentre.String
		if in.AuthorizationID != "" && in.AuthorizationID != authID {
			return nil, errs.Invalidf("procedure_authorization", "authorization_id", "authorization %s is not the authorization of organ %s for recipient %s", in.AuthorizationID, o.ID, r.ID)
		}
		if authCentre != centre {
			return nil, errs.Alertf(errs.Forbidden, "procedure_authorization", "centre_id", "organ %s was authorized for recipient %s at centre %s, not %s", o.ID, r.ID, authCentre, centre)
		}
		// The authorization is stamped when it is recorded; a transplantation
		// recorded later may be dated earlier that same day, never on a day before.
		if day(at) < authAt[:10] {
			return nil, errs.Invalidf("dates_in_order", "performed_at", "performed_at (%s) is before the day of the authorization (%s)", day(at), authAt[:10])
		}
		return ledger.NewEntry(TypeTransplantRecorded, Transplant{ID: id, OrganID: o.ID, RecipientID: r.ID, CentreID: centre,
			AuthorizationID: authID, PerformedAt: ledger.FormatTime(at)})
	}, &out)
	return &out, err
}
