package web

import (
	"context"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/chart"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- Organ donation and transplantation: the figures on the home page ----

// dashboard is the transplant registry's figures: activity by month, by
// centre and by organ, for the regulator and the auditor. Its words are in
// the language of s; their files are the same in every language (Fields,
// Codes).
func (t *transplantPages) dashboard(ctx context.Context, s *Session, p chart.Period) ([]chart.Panel, error) {
	if !s.P.Can(transplant.ReadFigures) {
		return nil, nil
	}
	a, err := t.svc.Activity(ctx, s.P, p.From(), p.End())
	if err != nil {
		return nil, err
	}
	from, until := p.From(), p.Until.Format(chart.MonthLayout)
	months := chart.Panel{ID: "transplant-months", Title: s.T("Donation and transplantation by month"),
		Desc: s.l.N("Donations, organs procured and transplantations in the %d months %s to %s, by the month they took place (UTC).",
			p.Months, from, until),
		Kind: chart.Columns, Category: s.T("Month"), Unit: s.T("count"), Categories: p.List(),
		Series: []chart.Series{{Name: s.T("Donations"), Values: p.ByMonth(a.Donations)}, {Name: s.T("Organs procured"), Values: p.ByMonth(a.Organs)},
			{Name: s.T("Transplantations"), Values: p.ByMonth(a.Transplants)}},
		Fields: []string{"month", "donations", "organs_procured", "transplantations"}}
	if months.Empty() {
		last, err := t.svc.LastActivity(ctx, s.P)
		if err != nil {
			return nil, err
		}
		months.Note = s.T("No donation or transplantation is recorded in these months.")
		if len(last) >= 7 {
			months.Note += " " + s.T("The latest recorded is in %s: choose it as the last month above to see the months before it.", last[:7])
		}
	}

	centres, err := auth.ListAuthorities(ctx, t.svc.DB.Read(), transplant.KindCentre)
	if err != nil {
		return nil, err
	}
	byCentre := chart.Panel{ID: "transplant-centres", Title: s.T("Activity by centre"),
		Desc: s.l.N("Donations each centre procured and transplantations it performed in the %d months %s to %s; every registered centre is listed, idle ones with zeros.",
			p.Months, from, until),
		Kind: chart.Bars, Category: s.T("Centre"), Unit: s.T("count"),
		Series: []chart.Series{{Name: s.T("Donations")}, {Name: s.T("Transplantations")}},
		Fields: []string{"centre_id", "donations", "transplantations"}}
	names := map[string]int{}
	for _, c := range centres {
		names[c.Name]++
	}
	for _, c := range centres {
		label := c.Name
		if names[c.Name] > 1 {
			label += " (" + c.ID + ")"
		}
		byCentre.Categories = append(byCentre.Categories, label)
		byCentre.Codes = append(byCentre.Codes, c.ID)
		byCentre.Series[0].Values = append(byCentre.Series[0].Values, float64(a.CentreDonations[c.ID]))
		byCentre.Series[1].Values = append(byCentre.Series[1].Values, float64(a.CentreTransplants[c.ID]))
	}

	byOrgan := chart.Panel{ID: "transplant-organs", Title: s.T("Organs by type"),
		Desc: s.l.N("Organs procured and organs transplanted in the %d months %s to %s, by organ.", p.Months, from, until),
		Kind: chart.Bars, Category: s.T("Organ"), Unit: s.T("organs"),
		Series: []chart.Series{{Name: s.T("Procured")}, {Name: s.T("Transplanted")}},
		Fields: []string{"organ", "procured", "transplanted"}}
	for _, o := range transplant.OrganTypes {
		byOrgan.Categories = append(byOrgan.Categories, s.T(labelOf(transplantLabels, o)))
		byOrgan.Codes = append(byOrgan.Codes, o)
		byOrgan.Series[0].Values = append(byOrgan.Series[0].Values, float64(a.OrganProcured[o]))
		byOrgan.Series[1].Values = append(byOrgan.Series[1].Values, float64(a.OrganTransplanted[o]))
	}
	return []chart.Panel{months, byCentre, byOrgan}, nil
}
