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

// ---- Recipients ----

// NewRecipient is the input of RegisterRecipient.
type NewRecipient struct {
	CentreID    string `json:"centre_id"`
	Name        string `json:"name" api:"required"`
	NationalID  string `json:"national_id"`
	Sex         string `json:"sex" api:"required"`
	BloodGroup  string `json:"blood_group" api:"required"`
	DateOfBirth string `json:"date_of_birth" api:"required"`
	Residence   string `json:"residence" api:"required"`
	// Region is the region of residence the equity report counts by
	// (optional; ISO 3166-2 subdivision such as XA-NO, or a code the
	// deployment chooses).
	Region      string `json:"region,omitempty"`
	OrganNeeded string `json:"organ_needed" api:"required"`
	ListedOn    string `json:"listed_on" api:"required"`
	// As a donor's (NewDonor).
	DuplicateOf        string `json:"duplicate_of"`
	NotDuplicateReason string `json:"not_duplicate_reason"`
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
	Region          string `json:"region,omitempty"` // added with transplant migration 13: old entries have none
	OrganNeeded     string `json:"organ_needed"`
	ListedOn        string `json:"listed_on"`
	Status          string `json:"status,omitempty"`
	// As a donor's (Donor).
	DuplicateOf        string `json:"duplicate_of,omitempty"`
	NotDuplicateReason string `json:"not_duplicate_reason,omitempty"`
	RecordedAt         string `json:"recorded_at,omitempty"`
}

// RegisterRecipient puts a patient on the waiting list of a centre.
func (s *Service) RegisterRecipient(ctx context.Context, p *auth.Principal, in NewRecipient) (*Recipient, error) {
	const command = "register recipient"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	centre, err := centreFor(p, "centre_id", in.CentreID)
	if err != nil {
		return nil, s.refuseWithAlert(ctx, p, command, err)
	}
	if in.Name, err = check.Line("name", in.Name, 200, true); err != nil {
		return nil, err
	}
	if in.NationalID, err = check.Line("national_id", in.NationalID, 64, false); err != nil {
		return nil, err
	}
	if err = check.OneOf("sex", in.Sex, Sexes); err != nil {
		return nil, err
	}
	if err = check.OneOf("blood_group", in.BloodGroup, BloodGroups); err != nil {
		return nil, err
	}
	if in.DateOfBirth, err = check.Date("date_of_birth", in.DateOfBirth, true); err != nil {
		return nil, err
	}
	// Read as every other country of the registry is (country): in any
	// case, with spaces around it.
	if in.Residence, err = country("residence", in.Residence, false); err != nil {
		return nil, err
	}
	if in.Region, err = checkRegion("region", in.Region); err != nil {
		return nil, err
	}
	if err = check.OneOf("organ_needed", in.OrganNeeded, OrganTypes); err != nil {
		return nil, err
	}
	if in.ListedOn, err = check.Date("listed_on", in.ListedOn, true); err != nil {
		return nil, err
	}
	if in.ListedOn < in.DateOfBirth {
		return nil, errs.Invalidf("dates_in_order", "listed_on", "listed_on is before date_of_birth")
	}
	dup := duplicate{DuplicateOf: in.DuplicateOf, NotDuplicateReason: in.NotDuplicateReason}
	if err = dup.check(); err != nil {
		return nil, err
	}
	id := s.W.IDs().New("RC")
	rec, err := ledger.SubmitAs[Recipient](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if in.DateOfBirth > day(now) || in.ListedOn > day(now) {
			return nil, errs.Invalidf("dates_in_order", "listed_on", "listed_on and date_of_birth cannot be in the future")
		}
		if err := requireCentre(ctx, tx, "centre_id", centre); err != nil {
			return nil, err
		}
		r := Recipient{ID: id, SubjectRef: "SU-" + id[3:], CentreID: centre, Sex: in.Sex, BloodGroup: in.BloodGroup,
			DateOfBirth: in.DateOfBirth, Residence: in.Residence, Region: in.Region, OrganNeeded: in.OrganNeeded, ListedOn: in.ListedOn}
		r.DuplicateOf, r.NotDuplicateReason = dup.DuplicateOf, dup.NotDuplicateReason
		linked, err := s.resolveDuplicate(ctx, tx, "recipient", dup, in.NationalID, in.Name, in.DateOfBirth)
		if err != nil {
			return nil, err
		}
		r.PersonPseudonym = s.pseudonym(ctx, tx, in.NationalID, r.SubjectRef)
		if linked != "" {
			r.PersonPseudonym = linked
		}
		sealed, err := s.storePerson(ctx, tx, r.ID, r.SubjectRef, privacy.Person{Name: in.Name, NationalID: in.NationalID}, in.DateOfBirth, now)
		if err != nil {
			return nil, err
		}
		return sealedEntry(TypeRecipientRegistered, r, sealed)
	})
	return rec, s.logDuplicate(ctx, p, err)
}
