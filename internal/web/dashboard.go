package web

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/chart"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/i18n"
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
	Period  string // the period in words, in the reader's language
	Query   string // the period as a query string, for the CSV links
	Lengths []Option
	Panels  []chart.Panel
}

// CSV is the link to the CSV of the panel id, for the period shown.
func (d *dashboardData) CSV(id string) string { return "/figures/" + id + ".csv?" + d.Query }

// dashboard returns the panels of every part of the UI that s may read, over
// the period p, the core's first; from only the part whose panels' ids start
// with prefix when prefix is not empty. Their texts are in s's language:
// each part writes them through s (Session.T).
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
		ps, err := sec.Dashboard(ctx, &Session{P: s.P, Authority: s.Authority, CSRF: s.CSRF, ui: u, sec: sec, zone: s.zone, l: s.l}, p)
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
	pn := chart.Panel{ID: "alerts-rules", Title: s.T("Alerts by rule"),
		Desc: s.T("Alerts raised in %s, by the rule whose refusal raised them and the state each is in now.", p.Words(s.L())),
		Kind: chart.Bars, Category: s.T("Rule"), Unit: s.T("alerts"), Fields: append([]string{"rule"}, ledger.AlertStates...)}
	for _, c := range counts {
		if !slices.Contains(pn.Categories, c.Rule) {
			pn.Categories = append(pn.Categories, c.Rule)
		}
	}
	for _, st := range ledger.AlertStates {
		se := chart.Series{Name: s.T(labelOf(alertStateLabels, st)), Values: make([]float64, len(pn.Categories))}
		for _, c := range counts {
			if c.State == st {
				se.Values[slices.Index(pn.Categories, c.Rule)] += float64(c.Count)
			}
		}
		pn.Series = append(pn.Series, se)
	}
	if len(pn.Categories) == 0 {
		pn.Note = s.T("No alert was raised in these months.")
	}
	return []chart.Panel{pn}, nil
}

// alertStateLabels are the words for the states of an alert.
var alertStateLabels = map[string]i18n.Msg{
	ledger.StateOpen:         i18n.M("Open"),
	ledger.StateAcknowledged: i18n.M("Acknowledged"),
	ledger.StateClosed:       i18n.M("Closed"),
}

// homeDashboard fills the figures of the home page for the period its query
// asks; a period refused is shown on the period form, with the default
// period's figures under it.
func (u *UI) homeDashboard(r *http.Request, s *Session, v *View) (*dashboardData, *Refusal, error) {
	q := r.URL.Query()
	now := u.now()
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
	d := &dashboardData{Period: p.Words(s.L()), Query: p.Query().Encode(), Panels: ps}
	for _, n := range chart.PeriodLengths {
		months, _ := strconv.Atoi(n)
		d.Lengths = append(d.Lengths, Option{Value: n, Label: s.L().N("%d months", months)})
	}
	return d, ref, nil
}

// figureFile answers /figures/<id>.csv (or .xlsx): the table of one panel
// of the principal's dashboard, for the period of the query, as an export
// (package export): read in one snapshot of the registry, its header naming
// the figure, the period and the log checkpoint it reflects, and logged.
func (u *UI) figureFile(w http.ResponseWriter, r *http.Request, s *Session) {
	name := r.PathValue("file")
	id, f := "", export.Format("")
	for _, ff := range export.Formats {
		if base, ok := strings.CutSuffix(name, "."+ff); ok {
			id, f = base, export.Format(ff)
		}
	}
	if id == "" {
		u.fail(w, r, s, errs.New(errs.NotFound, "page", "", "no such page"))
		return
	}
	// The header's list is the figure's id, as its address names it; the
	// registry is the section whose figure it is (the core's for alerts).
	registry, _, _ := strings.Cut(id, "-")
	if registry == "alerts" {
		registry = "core"
	}
	// The panel is drawn once before the export, to refuse a figure that is
	// not the principal's before anything is logged, and again inside the
	// export's snapshot, so that its figures are those of the checkpoint the
	// file names. A period refused is answered only once the figure is
	// known to be the principal's (drawn for the default period), so that a
	// principal who may not read it learns nothing from the period's rules.
	now := u.now()
	p, perr := chart.ParsePeriod(r.URL.Query(), now)
	if perr != nil {
		if _, ok := errs.As(perr); !ok {
			u.fail(w, r, s, perr)
			return
		}
		p = chart.LastMonths(now, 12)
	}
	var columns []string
	ps, err := u.dashboard(r.Context(), s, p, id)
	if err == nil {
		var pn *chart.Panel
		if pn, err = chart.Find(ps, id); err == nil {
			columns = pn.Columns()
		}
	}
	if errors.Is(err, chart.ErrNoPanel) {
		err = errs.New(errs.NotFound, "figure", "", "no figure %s among those you may read", id)
	}
	if err == nil {
		err = perr
	}
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	s.Export(w, r, export.Request{Registry: registry, List: id, Filter: p.Query(), Format: f, Columns: columns,
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			ps, err := u.dashboard(ctx, s, p, id)
			if err != nil {
				return func(yield func([]any, error) bool) { yield(nil, err) }
			}
			pn, err := chart.Find(ps, id)
			if err != nil {
				return func(yield func([]any, error) bool) { yield(nil, err) }
			}
			return pn.Rows()
		}})
}
