package transplant

import (
	"context"
	"database/sql"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Procurement (para 6 e, h) ----

// NewProcurement is the input of RecordProcurement.
type NewProcurement struct {
	DonorID    string   `json:"donor_id" api:"required"`
	CentreID   string   `json:"centre_id"`
	ProcuredAt string   `json:"procured_at" api:"required"`
	Organs     []string `json:"organs" api:"required"`
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
	const command = "record procurement"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	centre, err := centreFor(p, "centre_id", in.CentreID)
	if err != nil {
		return nil, s.refuseWithAlert(ctx, p, command, err)
	}
	if err := check.Required("donor_id", in.DonorID); err != nil {
		return nil, err
	}
	at, err := check.Time("procured_at", in.ProcuredAt)
	if err != nil {
		return nil, err
	}
	if len(in.Organs) == 0 || len(in.Organs) > 10 {
		return nil, errs.Invalidf("organ_count", "organs", "a procurement lists 1 to 10 organs")
	}
	for i, o := range in.Organs {
		if err := check.OneOf(check.Index("organs", i), o, OrganTypes); err != nil {
			return nil, err
		}
	}
	id := s.W.IDs().New("PC")
	return ledger.SubmitAs[Procurement](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := check.NotFuture("procured_at", at, now); err != nil {
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
		if err := adultLivingDonor(d, day(at)); err != nil {
			return nil, err
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
			field := check.Index("organs", i)
			counts[o]++
			if counts[o] > limits[o] {
				if d.Kind == DonorLiving && limits[o] == 0 {
					return nil, errs.Alertf(errs.Invalid, "living_donor_organs", field, "a living donor never gives a %s", o)
				}
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
		dn, err := donationOf(ctx, tx, d, "procured_at", at)
		if err != nil {
			return nil, err
		}
		pr := Procurement{ID: id, DonorID: d.ID, CentreID: centre, ProcuredAt: ledger.FormatTime(at), DonationYear: dn.Year, DonationSeq: dn.Seq}
		for i, o := range in.Organs {
			pr.Organs = append(pr.Organs, ProcuredOrgan{ID: OrganID{Country: dn.Country, Year: dn.Year, Seq: dn.Seq, Organ: dn.Organ + i}.String(), Organ: o})
		}
		return ledger.NewEntry(TypeProcurementRecorded, pr)
	})
}

// AdultAge is the age from which a living person may give an organ: WHO
// Guiding Principle 4 allows no removal from a living minor for
// transplantation but for narrow exceptions under national law, and the
// registry records no such exception (a living donor's consent is their
// own, which a minor cannot give for this), so none is taken.
const AdultAge = 18

// adultLivingDonor refuses, with an alert, the procurement on onDay from a
// living donor who is under AdultAge that day (livingMinor). A deceased
// donor, and a domino donor, whose liver is removed for their own
// transplantation and not for another's, pass.
func adultLivingDonor(d *Donor, onDay string) error {
	minor, err := livingMinor(d, onDay)
	if err != nil || !minor {
		return err
	}
	return errs.Alertf(errs.Forbidden, "living_donor_minor", "donor_id",
		"a living donor is %d or older on the day of procurement: donor %s is not on %s (WHO Guiding Principle 4)", AdultAge, d.ID, onDay)
}

// livingMinor says whether d is a living donor under AdultAge on onDay: by
// their date of birth, or, when it is unknown, by the age estimated at
// registration plus the whole years since. The procurement and the
// consent read the age alike, so that a donor whose consent was taken is
// not refused their procurement on the same day for their age, nor the
// reverse. A donor of another kind, or of no known age, is not one.
func livingMinor(d *Donor, onDay string) (bool, error) {
	if d.Kind != DonorLiving {
		return false, nil
	}
	on, err := time.Parse(DateLayout, onDay)
	if err != nil {
		return false, err
	}
	var age int
	switch {
	case d.DateOfBirth != "":
		born, err := time.Parse(DateLayout, d.DateOfBirth)
		if err != nil {
			return false, err
		}
		age = yearsBetween(born, on)
	case d.EstimatedAge != nil && len(d.RecordedAt) >= len(DateLayout):
		registered, err := time.Parse(DateLayout, d.RecordedAt[:len(DateLayout)])
		if err != nil {
			return false, err
		}
		age = *d.EstimatedAge + yearsBetween(registered, on)
	default:
		return false, nil
	}
	return age < AdultAge, nil
}

// yearsBetween is the number of whole years from from to to: an age.
func yearsBetween(from, to time.Time) int {
	n := to.Year() - from.Year()
	if to.Month() < from.Month() || (to.Month() == from.Month() && to.Day() < from.Day()) {
		n--
	}
	return n
}

// requireConsent refuses a procurement without consent on file: a living
// donor's informed, voluntary, independently assessed consent, given on or
// before the day while they were an adult (a consent given under AdultAge,
// recorded before RecordConsent refused it, is no consent to donate), or the
// family or registry authorization of a deceased donation, given on or
// before the day.
func requireConsent(ctx context.Context, q store.Queryer, d *Donor, onDay string) error {
	kinds := []any{ConsentFamily, ConsentRegistry}
	if d.Kind == DonorLiving {
		kinds = []any{ConsentLiving, ConsentLiving}
	}
	rows, err := q.Query(ctx, `SELECT given_on FROM consents WHERE donor_id = ? AND kind IN (?, ?) AND given_on <= ?
		AND voluntary = 1 AND informed = 1 AND (kind <> ? OR assessor_independent = 1)`,
		append([]any{d.ID}, append(kinds, onDay, ConsentLiving)...)...)
	if err != nil {
		return err
	}
	var given []string
	for rows.Next() {
		var on string
		if err := rows.Scan(&on); err != nil {
			rows.Close()
			return err
		}
		given = append(given, on)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	n := 0
	for _, on := range given {
		minor, err := livingMinor(d, on)
		if err != nil {
			return err
		}
		if !minor {
			n++
		}
	}
	switch {
	case n > 0:
	case d.Kind == DonorLiving:
		return errs.Alertf(errs.Forbidden, "living_consent", "donor_id",
			"a living donation needs the donor's consent on file, recorded as informed, voluntary and independently assessed and given on or before the day of procurement (donor %s)", d.ID)
	default:
		return errs.Alertf(errs.Forbidden, "deceased_authorization", "donor_id",
			"a deceased donation needs a family or donor registry authorization on file, recorded as informed and voluntary and given on or before the day of procurement (donor %s)", d.ID)
	}
	return nil
}

// donationOf gives the donation number of a procurement at at from donor d,
// as the OrganID of its first organ. All the procurements of a deceased
// donor are one donation (ISBT 128: one donation, one Donation
// Identification Number on every organ of it, docs/transplant.md): the
// first takes the next number of its year (nextDonation), and each later
// one reuses the number of the donor's first procurement, in the log's
// order, its organs numbered on after the last organ of that number. A
// registry written by an older release may hold a second number for the
// same donation, printed on labels and kept as printed: the first is the
// one reused. A living donor's procurement, and a domino liver's, is a
// donation of its own, with a number of its own.
func donationOf(ctx context.Context, tx *store.Tx, d *Donor, field string, at time.Time) (OrganID, error) {
	if isDeceased(d.Kind) {
		rows, err := tx.Query(ctx, `SELECT o.id, p.donation_year, p.donation_seq FROM procurements p JOIN organs o ON o.procurement_id = p.id
			WHERE p.donor_id = ? ORDER BY p.log_index, p.id, o.id`, d.ID)
		if err != nil {
			return OrganID{}, err
		}
		type row struct {
			organ     string
			year, seq int
		}
		rs, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.organ, &x.year, &x.seq) })
		if err != nil {
			return OrganID{}, err
		}
		var dn OrganID
		for _, r := range rs {
			if dn.Seq == 0 {
				dn.Year, dn.Seq = r.year, r.seq
			}
			if r.year != dn.Year || r.seq != dn.Seq {
				continue // a second number of an older release
			}
			oid, err := ParseOrganID(r.organ)
			if err != nil {
				return OrganID{}, err
			}
			// The country as printed on the donation's labels, and the
			// organ number after the last: a deceased donor has at most
			// 8 organs (maxPerDonor), far from the 99 an identifier holds.
			dn.Country = oid.Country
			dn.Organ = max(dn.Organ, oid.Organ+1)
		}
		if dn.Seq != 0 {
			return dn, nil
		}
	}
	country, year, seq, err := nextDonation(ctx, tx, field, at)
	return OrganID{Country: country, Year: year, Seq: seq, Organ: 1}, err
}

// nextDonation gives the donation number of a procurement at at: the
// registry's country, the year (two digits) and the next sequence number of
// that year. field names the time in the refusal when the year's numbers are
// all used.
func nextDonation(ctx context.Context, tx *store.Tx, field string, at time.Time) (country string, year, seq int, err error) {
	if err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&country); err != nil {
		return "", 0, 0, err
	}
	year = at.Year() % 100
	var last sql.NullInt64
	if err := tx.QueryRow(ctx, "SELECT MAX(donation_seq) FROM procurements WHERE donation_year = ?", year).Scan(&last); err != nil {
		return "", 0, 0, err
	}
	seq = int(last.Int64) + 1
	if seq > 999999 {
		return "", 0, 0, errs.New(errs.Conflict, "donation_numbers", field, "the registry has used all donation numbers of 20%02d", year)
	}
	return country, year, seq, nil
}
