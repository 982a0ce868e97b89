package transplant

import (
	"context"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/store"
)

// ReadFigures is reading the registry's figures: counts of activity, no
// record and no personal data. The regulator and the auditor answer for them.
var ReadFigures = auth.NewAction("read the registry's figures", auth.Regulator, auth.Auditor)

// Activity is the registry's activity over a period of months, as the
// dashboards show it. A donation is what one donation number stands for
// (docs/transplant.md, "One donation, one number"): every procurement of a
// deceased donor is one donation, counted once, in the month and at the
// centre of the donor's first procurement in the log's order (the one that
// took the number), and a living donor's procurement, or a domino liver's, is
// a donation of its own. A deceased donor to whom an older release gave two
// numbers is one donation too, as the GODT counts one actual donor. An organ
// procured is dated by its procurement; a transplantation by performed_at, and an organ received
// from abroad and transplanted here (its outcome transplanted) by the
// outcome's day, at the centre that recorded it, as a transplantation of its
// organ type. Months are those of the UTC times the log records.
type Activity struct {
	// Donations, Organs and Transplants count, per month (2026-03),
	// donations, organs procured and transplantations.
	Donations, Organs, Transplants map[string]int
	// CentreDonations and CentreTransplants count, per centre id, the
	// donations the centre procured and the transplantations it performed
	// (of organs from abroad too).
	CentreDonations, CentreTransplants map[string]int
	// OrganProcured and OrganTransplanted count, per organ type, the organs
	// procured and the organs transplanted.
	OrganProcured, OrganTransplanted map[string]int
}

// The figures' statements. Each reads a range of an index of migration 6
// (procurements_time, organs_procurement, transplants_time) or 21
// (organ_imports_transplanted) and groups what
// it reads by month and by what the figures count it by, so that a period's
// rows are read once for all the figures they are in; from and end are
// months (2025-04, 2026-04): an RFC 3339 time t is in the period when
// from <= t < end.
const (
	// donationsSQL counts the procurements of the period that begin a
	// donation: all but a deceased donor's procurements after their first
	// (in the log's order, as donationOf reads it). Each of the period's
	// procurements is looked up, and its donor's procurements by
	// procurements_donor (one or two); the donor's kind is read only for a
	// procurement with an earlier one, in the inner EXISTS, so that the
	// donors' wide rows are not read for every procurement. The cost grows
	// with the period's procurements, not with the registry.
	donationsSQL = `SELECT substr(p.procured_at, 1, 7), p.centre_id, '', COUNT(*) FROM procurements p
		WHERE p.procured_at >= ? AND p.procured_at < ? AND NOT EXISTS (SELECT 1 FROM procurements f
			WHERE f.donor_id = p.donor_id AND (f.log_index < p.log_index OR (f.log_index = p.log_index AND f.id < p.id))
			AND EXISTS (SELECT 1 FROM donors d WHERE d.id = f.donor_id AND d.kind IN ('` + DonorBrainDeath + `', '` + DonorCirculatoryDeath + `')))
		GROUP BY substr(p.procured_at, 1, 7), p.centre_id`
	organsSQL = `SELECT substr(p.procured_at, 1, 7), '', o.organ, COUNT(*) FROM procurements p JOIN organs o ON o.procurement_id = p.id
		WHERE p.procured_at >= ? AND p.procured_at < ? GROUP BY substr(p.procured_at, 1, 7), o.organ`
	transplantsSQL = `SELECT substr(t.performed_at, 1, 7), t.centre_id, o.organ, COUNT(*) FROM transplants t JOIN organs o ON o.id = t.organ_id
		WHERE t.performed_at >= ? AND t.performed_at < ? GROUP BY substr(t.performed_at, 1, 7), t.centre_id, o.organ`
	// importTransplantsSQL counts the organs from abroad transplanted here
	// by the day of their outcome (a date: its month is its first seven
	// characters as a time's is), from a range of the covering index of
	// migration 21 (organ_imports_transplanted).
	importTransplantsSQL = `SELECT substr(outcome_on, 1, 7), centre_id, organ, COUNT(*) FROM organ_imports
		WHERE outcome = 'transplanted' AND outcome_on >= ? AND outcome_on < ? GROUP BY substr(outcome_on, 1, 7), centre_id, organ`
	lastActivitySQL = `SELECT COALESCE(MAX(m), '') FROM (SELECT MAX(procured_at) AS m FROM procurements
		UNION ALL SELECT MAX(performed_at) FROM transplants` + lastImportSQL + `) AS last`
	lastImportSQL = `
		UNION ALL SELECT MAX(outcome_on) FROM organ_imports WHERE outcome = 'transplanted'`
)

// Activity counts the registry's activity from the month from to the month
// before end (2025-04, 2026-04), for the regulator and the auditor.
func (s *Service) Activity(ctx context.Context, p *auth.Principal, from, end string) (*Activity, error) {
	if err := p.Require(ReadFigures); err != nil {
		return nil, err
	}
	a := Activity{Donations: map[string]int{}, Organs: map[string]int{}, Transplants: map[string]int{},
		CentreDonations: map[string]int{}, CentreTransplants: map[string]int{}, OrganProcured: map[string]int{}, OrganTransplanted: map[string]int{}}
	for _, c := range []struct {
		sql                  string
		month, centre, organ map[string]int
	}{
		{donationsSQL, a.Donations, a.CentreDonations, nil},
		{organsSQL, a.Organs, nil, a.OrganProcured},
		{transplantsSQL, a.Transplants, a.CentreTransplants, a.OrganTransplanted},
		{importTransplantsSQL, a.Transplants, a.CentreTransplants, a.OrganTransplanted},
	} {
		rows, err := s.DB.Read().Query(ctx, c.sql, from, end)
		if err != nil {
			return nil, err
		}
		type row struct {
			month, centre, organ string
			n                    int
		}
		rs, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.month, &x.centre, &x.organ, &x.n) })
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			c.month[r.month] += r.n
			if c.centre != nil {
				c.centre[r.centre] += r.n
			}
			if c.organ != nil {
				c.organ[r.organ] += r.n
			}
		}
	}
	return &a, nil
}

// LastActivity returns the time of the latest donation or transplantation
// recorded (the day, for an organ from abroad transplanted here), "" when
// there is none: the dashboards offer its months when the period shown has
// no activity.
func (s *Service) LastActivity(ctx context.Context, p *auth.Principal) (string, error) {
	if err := p.Require(ReadFigures); err != nil {
		return "", err
	}
	var t string
	err := s.DB.Read().QueryRow(ctx, lastActivitySQL).Scan(&t)
	return t, err
}
