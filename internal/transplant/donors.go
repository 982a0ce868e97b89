package transplant

import (
	"context"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// ---- Donors (para 6 b, h; Directive 2010/53/EU Annex, Part A) ----

// NewDonor is the input of RegisterDonor: the donor characterisation and the
// personal data, which is sealed apart and never logged.
type NewDonor struct {
	Kind                 string `json:"kind" api:"required"`
	CentreID             string `json:"centre_id"`
	Name                 string `json:"name" api:"required"`
	NationalID           string `json:"national_id"`
	Sex                  string `json:"sex" api:"required"`
	BloodGroup           string `json:"blood_group" api:"required"`
	DateOfBirth          string `json:"date_of_birth"`
	EstimatedAge         *int   `json:"estimated_age"`
	WeightKg             *int   `json:"weight_kg"`
	HeightCm             *int   `json:"height_cm"`
	CauseOfDeath         string `json:"cause_of_death"`
	DateOfDeath          string `json:"date_of_death"`
	IVDrugUse            string `json:"iv_drug_use" api:"required"`
	Malignancy           string `json:"malignancy" api:"required"`
	TransmissibleDisease string `json:"transmissible_disease" api:"required"`
	HIV                  string `json:"hiv" api:"required"`
	HCV                  string `json:"hcv" api:"required"`
	HBV                  string `json:"hbv" api:"required"`
	OrganFunction        string `json:"organ_function" api:"required"`
	// A registration that looks like a donor already registered (same
	// national identifier, or same name and date of birth) says one of
	// these, or is refused with likely_duplicate.
	DuplicateOf        string `json:"duplicate_of"`
	NotDuplicateReason string `json:"not_duplicate_reason"`
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
	DuplicateOf          string `json:"duplicate_of,omitempty"`         // the record of the same person it is linked to
	NotDuplicateReason   string `json:"not_duplicate_reason,omitempty"` // why it is not the person of a record that looked alike
	RecordedAt           string `json:"recorded_at,omitempty"`
}

// Validate checks the donor input without reading the registry.
func (in *NewDonor) validate(now time.Time) error {
	var err error
	if err = check.OneOf("kind", in.Kind, DonorKinds); err != nil {
		return err
	}
	if in.Name, err = check.Line("name", in.Name, 200, true); err != nil {
		return err
	}
	if in.NationalID, err = check.Line("national_id", in.NationalID, 64, false); err != nil {
		return err
	}
	if err = check.OneOf("sex", in.Sex, Sexes); err != nil {
		return err
	}
	if err = check.OneOf("blood_group", in.BloodGroup, BloodGroups); err != nil {
		return err
	}
	if in.DateOfBirth, err = check.Date("date_of_birth", in.DateOfBirth, false); err != nil {
		return err
	}
	if in.DateOfBirth == "" && in.EstimatedAge == nil {
		return errs.Invalidf("required", "date_of_birth", "give the date of birth or, when unknown, estimated_age")
	}
	if err = check.DateNotFuture("date_of_birth", in.DateOfBirth, now); err != nil {
		return err
	}
	if err = check.IntRange("estimated_age", in.EstimatedAge, 0, 120); err != nil {
		return err
	}
	if err = check.IntRange("weight_kg", in.WeightKg, 1, 400); err != nil {
		return err
	}
	if err = check.IntRange("height_cm", in.HeightCm, 20, 260); err != nil {
		return err
	}
	if in.CauseOfDeath, err = check.Text("cause_of_death", in.CauseOfDeath, 500, false); err != nil {
		return err
	}
	if in.DateOfDeath, err = check.Date("date_of_death", in.DateOfDeath, false); err != nil {
		return err
	}
	if isDeceased(in.Kind) {
		if in.CauseOfDeath == "" {
			return errs.Invalidf("required", "cause_of_death", "cause_of_death is required for a deceased donor")
		}
		if in.DateOfDeath == "" {
			return errs.Invalidf("required", "date_of_death", "date_of_death is required for a deceased donor")
		}
		if err = check.DateNotFuture("date_of_death", in.DateOfDeath, now); err != nil {
			return err
		}
		if in.DateOfBirth != "" && in.DateOfDeath < in.DateOfBirth {
			return errs.Invalidf("dates_in_order", "date_of_death", "date_of_death is before date_of_birth")
		}
	} else if in.CauseOfDeath != "" || in.DateOfDeath != "" {
		return errs.Invalidf("living_donor", "date_of_death", "a living donor has no cause or date of death")
	}
	for _, f := range []struct{ name, v string }{{"iv_drug_use", in.IVDrugUse}, {"malignancy", in.Malignancy}, {"transmissible_disease", in.TransmissibleDisease}} {
		if err = check.OneOf(f.name, f.v, YesNo); err != nil {
			return err
		}
	}
	for _, f := range []struct{ name, v string }{{"hiv", in.HIV}, {"hcv", in.HCV}, {"hbv", in.HBV}} {
		if err = check.OneOf(f.name, f.v, TestResults); err != nil {
			return err
		}
	}
	if in.OrganFunction, err = check.Text("organ_function", in.OrganFunction, 2000, true); err != nil {
		return err
	}
	dup := duplicate{DuplicateOf: in.DuplicateOf, NotDuplicateReason: in.NotDuplicateReason}
	if err = dup.check(); err != nil {
		return err
	}
	in.DuplicateOf, in.NotDuplicateReason = dup.DuplicateOf, dup.NotDuplicateReason
	return nil
}

// RegisterDonor records a donor. The name and national identifier are sealed
// in the vault; the record and its log leaf carry only the subject reference
// and a pseudonym of the national identifier.
func (s *Service) RegisterDonor(ctx context.Context, p *auth.Principal, in NewDonor) (*Donor, error) {
	const command = "register donor"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	centre, err := centreFor(p, "centre_id", in.CentreID)
	if err != nil {
		return nil, s.refuseWithAlert(ctx, p, command, err)
	}
	id := s.W.IDs().New("DN")
	d, err := ledger.SubmitAs[Donor](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
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
		d.DuplicateOf, d.NotDuplicateReason = in.DuplicateOf, in.NotDuplicateReason
		linked, err := s.resolveDuplicate(ctx, tx, "donor", duplicate{in.DuplicateOf, in.NotDuplicateReason}, in.NationalID, in.Name, in.DateOfBirth)
		if err != nil {
			return nil, err
		}
		d.PersonPseudonym = s.pseudonym(ctx, tx, in.NationalID, d.SubjectRef)
		if linked != "" {
			d.PersonPseudonym = linked
		}
		// Personal data is written here, not by the projector: it never enters the log.
		sealed, err := s.storePerson(ctx, tx, d.ID, d.SubjectRef, privacy.Person{Name: in.Name, NationalID: in.NationalID}, in.DateOfBirth, now)
		if err != nil {
			return nil, err
		}
		return sealedEntry(TypeDonorRegistered, d, sealed)
	})
	return d, s.logDuplicate(ctx, p, err)
}
