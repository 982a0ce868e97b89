package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/chart"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
)

// ---- Dashboards: the figures on the home page, and their CSV ----
//
// The home page shows the figures the principal answers for over a period of
// months: the core's (alerts by rule and state) and each section's
// (Section.Dashboard). Each is a chart.Panel: its chart drawn as SVG, its
// table beside it, and a link to its CSV at /figures/<id>.csv, which draws
// the same panel again for the same period.

// dashboardData is the figures part of the home page.
type dashboardData struct {
	Period  chart.Period
	Query   string // the period as a query string, for the CSV links
	Lengths []Option
	Panels  []chart.Panel
}

// CSV is the link to the CSV of the panel id, for the period shown.
func (d *dashboardData) CSV(id string) string { return "/figures/" + id + ".csv?" + d.Query }

// dashboard returns the panels of every part of the UI that s may read, over
// the period p, the core's first; from only the part whose panels' ids start
// with prefix when prefix is not empty.
func (u *UI) dashboard(ctx context.Context, s *Session, p chart.Period, prefix string) ([]chart.Panel, error) {
	var out []chart.Panel
	if prefix == "" || strings.HasPrefix(prefix, "alerts-") {
		ps, err := u.alertPanels(ctx, s, p)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	for i := range u.Sections {
		sec := &u.Sections[i]
		if sec.Dashboard == nil || (prefix != "" && !strings.HasPrefix(prefix, sec.Name+"-")) {
			continue
		}
		ps, err := sec.Dashboard(ctx, &Session{P: s.P, Authority: s.Authority, CSRF: s.CSRF, ui: u, sec: sec}, p)
		if err != nil {
			return nil, err
		}
		for _, pn := range ps {
			if !strings.HasPrefix(pn.ID, sec.Name+"-") {
				return nil, errors.New("web: section " + sec.Name + ": panel " + pn.ID + " must start with the section's name")
			}
		}
		out = append(out, ps...)
	}
	for i := range out {
		if err := out[i].Check(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// alertPanels is the core's figure: the alerts raised in the period, by rule
// and by the state each is in now.
func (u *UI) alertPanels(ctx context.Context, s *Session, p chart.Period) ([]chart.Panel, error) {
	if !s.P.Can(auth.ReadAlerts) {
		return nil, nil
	}
	counts, err := u.alertService().ByRule(ctx, s.P, p.From(), p.End())
	if err != nil {
		return nil, err
	}
	pn := chart.Panel{ID: "alerts-rules", Title: "Alerts by rule",
		Desc: "Alerts raised in " + p.String() + ", by the rule whose refusal raised them and the state each is in now.",
		Kind: chart.Bars, Category: "Rule", Unit: "alerts"}
	for _, c := range counts {
		if !slices.Contains(pn.Categories, c.Rule) {
			pn.Categories = append(pn.Categories, c.Rule)
		}
	}
	for _, st := range ledger.AlertStates {
		se := chart.Series{Name: labelOf(nil, st), Values: make([]float64, len(pn.Categories))}
		for _, c := range counts {
			if c.State == st {
				se.Values[slices.Index(pn.Categories, c.Rule)] += float64(c.Count)
			}
		}
		pn.Series = append(pn.Series, se)
	}
	if len(pn.Categories) == 0 {
		pn.Note = "No alert was raised in these months."
	}
	return []chart.Panel{pn}, nil
}

// homeDashboard fills the figures of the home page for the period its query
// asks; a period refused is shown on the period form, with the default
// period's figures under it.
func (u *UI) homeDashboard(r *http.Request, s *Session, v *View) (*dashboardData, *Refusal, error) {
	q := r.URL.Query()
	now := time.Now()
	p, err := chart.ParsePeriod(q, now)
	var ref *Refusal
	if err != nil {
		if _, ok := errs.As(err); !ok {
			return nil, nil, err
		}
		ref = &Refusal{Form: "period", Values: q, Err: err}
		p = chart.LastMonths(now, 12)
	}
	ps, err := u.dashboard(r.Context(), s, p, "")
	if err != nil || len(ps) == 0 {
		return nil, nil, err
	}
	if ref == nil {
		v.SetForm("period", p.Query())
	}
	d := &dashboardData{Period: p, Query: p.Query().Encode(), Panels: ps}
	for _, n := range chart.PeriodLengths {
		d.Lengths = append(d.Lengths, Option{Value: n, Label: n + " months"})
	}
	return d, ref, nil
}

// figureCSV answers /figures/<id>.csv: the table of one panel of the
// principal's dashboard, for the period of the query, as CSV.
func (u *UI) figureCSV(w http.ResponseWriter, r *http.Request, s *Session) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".csv")
	if !ok {
		u.fail(w, r, s, errs.New(errs.NotFound, "page", "", "no such page"))
		return
	}
	p, err := chart.ParsePeriod(r.URL.Query(), time.Now())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	ps, err := u.dashboard(r.Context(), s, p, id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pn, err := chart.Find(ps, id)
	if err != nil {
		u.fail(w, r, s, errs.New(errs.NotFound, "figure", "", "no figure %s among those you may read", id))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="`+csvName(pn.ID, p)+`"`)
	if err := pn.WriteCSV(w); err != nil {
		u.Log.Error("web: writing a figure's CSV", "figure", pn.ID, "err", err)
	}
}

// csvName is the file name of a figure's CSV: custos-<id>-<from>-to-<until>.csv.
func csvName(id string, p chart.Period) string {
	return "custos-" + id + "-" + p.From() + "-to-" + p.Until.Format(chart.MonthLayout) + ".csv"
}
