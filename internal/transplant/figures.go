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
// dashboards show it. A donation is a procurement (one donor's organs taken
// on one occasion), dated by procured_at; an organ procured is dated by its
// procurement; a transplantation by performed_at. Months are those of the
// UTC times the log records.
type Activity struct {
	// ByMonth counts, per month (2026-03), donations, organs procured and
	// transplantations.
	Donations, Organs, Transplants map[string]int
	// ByCentre counts, per centre id, the donations the centre procured
	// and the transplantations it performed.
	CentreDonations, CentreTransplants map[string]int
	// ByOrgan counts, per organ type, the organs procured and the organs
	// transplanted.
	OrganProcured, OrganTransplanted map[string]int
}

// The figures' statements. Each reads a range of an index of migration 5
// (procurements_time, organs_procurement, transplants_time) and groups what
// it reads; from and end are months (2025-04, 2026-04): an RFC 3339 time t
// is in the period when from <= t < end.
const (
	donationsByMonthSQL = `SELECT substr(procured_at, 1, 7), COUNT(*) FROM procurements
		WHERE procured_at >= ? AND procured_at < ? GROUP BY substr(procured_at, 1, 7)`
	organsByMonthSQL = `SELECT substr(p.procured_at, 1, 7), COUNT(*) FROM procurements p JOIN organs o ON o.procurement_id = p.id
		WHERE p.procured_at >= ? AND p.procured_at < ? GROUP BY substr(p.procured_at, 1, 7)`
	transplantsByMonthSQL = `SELECT substr(performed_at, 1, 7), COUNT(*) FROM transplants
		WHERE performed_at >= ? AND performed_at < ? GROUP BY substr(performed_at, 1, 7)`
	donationsByCentreSQL = `SELECT centre_id, COUNT(*) FROM procurements
		WHERE procured_at >= ? AND procured_at < ? GROUP BY centre_id`
	transplantsByCentreSQL = `SELECT centre_id, COUNT(*) FROM transplants
		WHERE performed_at >= ? AND performed_at < ? GROUP BY centre_id`
	organsProcuredSQL = `SELECT o.organ, COUNT(*) FROM procurements p JOIN organs o ON o.procurement_id = p.id
		WHERE p.procured_at >= ? AND p.procured_at < ? GROUP BY o.organ`
	organsTransplantedSQL = `SELECT o.organ, COUNT(*) FROM transplants t JOIN organs o ON o.id = t.organ_id
		WHERE t.performed_at >= ? AND t.performed_at < ? GROUP BY o.organ`
	lastActivitySQL = `SELECT COALESCE(MAX(m), '') FROM (SELECT MAX(procured_at) AS m FROM procurements
		UNION ALL SELECT MAX(performed_at) FROM transplants) AS last`
)

// Activity counts the registry's activity from the month from to the month
// before end (2025-04, 2026-04), for the regulator and the auditor.
func (s *Service) Activity(ctx context.Context, p *auth.Principal, from, end string) (*Activity, error) {
	if err := p.Require(ReadFigures); err != nil {
		return nil, err
	}
	var a Activity
	q := s.DB.Read()
	for _, c := range []struct {
		sql string
		out *map[string]int
	}{
		{donationsByMonthSQL, &a.Donations}, {organsByMonthSQL, &a.Organs}, {transplantsByMonthSQL, &a.Transplants},
		{donationsByCentreSQL, &a.CentreDonations}, {transplantsByCentreSQL, &a.CentreTransplants},
		{organsProcuredSQL, &a.OrganProcured}, {organsTransplantedSQL, &a.OrganTransplanted},
	} {
		m, err := counts(ctx, q, c.sql, from, end)
		if err != nil {
			return nil, err
		}
		*c.out = m
	}
	return &a, nil
}

// LastActivity returns the time of the latest donation or transplantation
// recorded, "" when there is none: the dashboards offer its months when the
// period shown has no activity.
func (s *Service) LastActivity(ctx context.Context, p *auth.Principal) (string, error) {
	if err := p.Require(ReadFigures); err != nil {
		return "", err
	}
	var t string
	err := s.DB.Read().QueryRow(ctx, lastActivitySQL).Scan(&t)
	return t, err
}

// counts runs a statement that answers (key, count) rows.
func counts(ctx context.Context, q store.Queryer, sql string, args ...any) (map[string]int, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return store.Counts(rows)
}
