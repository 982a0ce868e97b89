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
	"github.com/custos-project/custos/internal/store"
)

// ---- Consent (para 6 b) ----

// NewConsent is the input of RecordConsent.
type NewConsent struct {
	Kind                string `json:"kind" api:"required"`
	GivenOn             string `json:"given_on" api:"required"`
	AssessedBy          string `json:"assessed_by" api:"required"`
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
	const command = "record consent"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	var d *Donor
	ownDonor := func(ctx context.Context, q store.Queryer) (err error) {
		if d, err = getDonor(ctx, q, donorID); err != nil {
			return err
		}
		_, err = centreFor(p, "donor_id", d.CentreID)
		return err
	}
	if err := s.scopeFirst(ctx, p, command, ownDonor); err != nil {
		return nil, err
	}
	if err := check.OneOf("kind", in.Kind, ConsentKinds); err != nil {
		return nil, err
	}
	given, err := check.Date("given_on", in.GivenOn, true)
	if err != nil {
		return nil, err
	}
	assessor, err := check.Line("assessed_by", in.AssessedBy, 200, true)
	if err != nil {
		return nil, err
	}
	c := Consent{ID: s.W.IDs().New("CO"), DonorID: donorID, Kind: in.Kind, GivenOn: given, AssessedBy: assessor,
		AssessorIndependent: in.AssessorIndependent, Voluntary: in.Voluntary, Informed: in.Informed}
	return ledger.SubmitAs[Consent](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := check.DateNotFuture("given_on", given, now); err != nil {
			return nil, err
		}
		if err := ownDonor(ctx, tx); err != nil {
			return nil, err
		}
		// A consent before the donor was born is a date mistyped, and it
		// would authorize every procurement after it.
		if d.DateOfBirth != "" && given < d.DateOfBirth {
			return nil, errs.Invalidf("dates_in_order", "given_on", "given_on is before the donor's date of birth")
		}
		if d.Kind == DonorLiving {
			if c.Kind != ConsentLiving {
				return nil, errs.Invalidf("consent_kind", "kind", "a living donor gives %s", ConsentLiving)
			}
			// A minor's consent would be on file for the day they turn
			// 18 and is no consent to donate (WHO Guiding Principle 4):
			// refused and alerted, as the procurement is, whatever the
			// flags say, so that the regulator sees every attempt.
			minor, err := livingMinor(d, given)
			if err != nil {
				return nil, err
			}
			if minor {
				return nil, errs.Alertf(errs.Forbidden, "living_donor_minor", "donor_id",
					"a living donor is %d or older on the day of their consent: donor %s is not on %s (WHO Guiding Principle 4)", AdultAge, d.ID, given)
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
		if err := notRecordedYet(ctx, tx, &c); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeConsentRecorded, c)
	})
}

// notRecordedYet refuses a consent already on file as it is (the same
// donor, kind, given_on, assessor and flags): a double submission of the
// form, or an API client's retry without an Idempotency-Key, would
// otherwise put one consent on file twice. Run in the writer, two
// submissions at once cannot both pass (as notReportedYet for an SAE
// report). A consent of another kind or day, by another assessor, or with
// other flags (a consent recorded as not informed, then as informed) is
// another record.
func notRecordedYet(ctx context.Context, tx *store.Tx, c *Consent) error {
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM consents WHERE donor_id = ? AND kind = ? AND given_on = ? AND assessed_by = ?
		AND assessor_independent = ? AND voluntary = ? AND informed = ? ORDER BY id LIMIT 1`,
		c.DonorID, c.Kind, c.GivenOn, c.AssessedBy, boolInt(c.AssessorIndependent), boolInt(c.Voluntary), boolInt(c.Informed)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return errs.New(errs.Conflict, "duplicate_consent", "given_on",
		"consent %s of donor %s is on file already (same kind, given_on, assessed_by and flags): a consent is recorded once; another day or kind is another consent", id, c.DonorID)
}
