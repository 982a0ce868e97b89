package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/chart"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- The GODT annual report (docs/oversight.md) ----
//
// The regulator's and the auditor's page of the WHO Global Observatory
// report: a form (year, population; the country is the registry's), the
// report's fields as a table, a chart of transplants by organ and donor type,
// and the report's files.

func (t *transplantPages) godtPages() []Page {
	return []Page{
		get("/godt", t.godt).Allowed(transplant.ReadFigures),
		get("/godt/export", t.godtExport).Allowed(transplant.ReadFigures),
	}
}

// godtNav is the link to the report, for whoever reads the figures.
func godtNav(p *auth.Principal) []Link {
	if p.Can(transplant.ReadFigures) {
		return []Link{{"/transplant/godt", i18n.M("GODT report")}}
	}
	return nil
}

type godtData struct {
	Country   string
	Report    *transplant.GODTReport
	Rows      []godtRow
	Panel     *chart.Panel
	Downloads []Link
}

// godtRow is a field of the report as the page shows it, its numbers
// written for the reader; Known is false when the registry holds no data
// for the field.
type godtRow struct {
	Field, Value, PerMillion string
	Known                    bool
}

// godtOrgans are the chart's categories: the transplants of each organ by
// donor type, under the report's fields.
var godtOrgans = []struct {
	organ                 string
	deceased, living, dom string // fields; "" when the report has none
	total                 string
}{
	{"kidney", "dd_kidney_tx", "ld_kidney_tx", "", "total_kidney_tx"},
	{"liver", "dd_liver_tx", "ld_liver_tx", "domino_liver_tx", "total_liver_tx"},
	{"heart", "total_heart_tx", "", "", "total_heart_tx"},
	{"lung", "dd_lung_tx", "ld_lung_tx", "", "total_lung_tx"},
	{"pancreas", "pancreas_tx", "", "", "pancreas_tx"},
	{"intestine", "small_bowel_tx", "", "", "small_bowel_tx"},
}

// godt is the report's page: the form, and with a year and a population
// the report.
func (t *transplantPages) godt(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := s.P.Require(transplant.ReadFigures); err != nil {
		s.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	country, err := t.svc.Jurisdiction(ctx)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	q := r.URL.Query()
	year, population := strings.TrimSpace(q.Get("year")), strings.TrimSpace(q.Get("population"))
	if year == "" {
		year = strconv.Itoa(s.Now().UTC().Year() - 1)
	}
	pg := s.View(r, "GODT report")
	pg.SetForm("godt", url.Values{"year": {year}, "population": {population}})
	data := godtData{Country: country}
	var ref *Refusal
	if population != "" {
		query := url.Values{"country": {country}, "year": {year}, "population": {population}}
		g, err := transplant.GODTQueryOf(query)
		var rep *transplant.GODTReport
		if err == nil {
			rep, err = t.svc.GODT(ctx, s.P, g)
		}
		if err != nil {
			ref = &Refusal{Form: "godt", Values: url.Values{"year": {year}, "population": {population}}, Err: err}
		} else {
			data.Report = rep
			for _, f := range rep.Figures {
				row := godtRow{Field: f.Field, Known: f.Value != nil}
				if row.Known {
					row.Value, row.PerMillion = s.L().Fixed(float64(*f.Value), 0), s.L().Fixed(*f.PerMillion, 2)
				}
				data.Rows = append(data.Rows, row)
			}
			data.Panel = godtPanel(s, rep)
			data.Downloads = Downloads(&http.Request{URL: &url.URL{RawQuery: query.Encode()}}, "/transplant/godt/export")
			pg.Title = s.T("GODT report %s %d", rep.Country, rep.Year)
		}
	}
	pg.Data = data
	s.Show(w, r, "godt", pg, ref)
}

// godtPanel is the chart of the report's transplants by organ and donor type.
func godtPanel(s *Session, rep *transplant.GODTReport) *chart.Panel {
	pn := &chart.Panel{ID: "transplant-godt", Title: s.T("Transplants by organ and donor type"),
		Desc: s.T("Transplants performed in %s in %d, by organ and donor type, counted as the GODT counts them: a double kidney or a double lung is one transplant; a heart-lung is one heart and one lung.",
			rep.Country, rep.Year),
		Kind: chart.Bars, Category: s.T("Organ"), Unit: s.T("transplants"),
		Series: []chart.Series{{Name: s.T("Deceased donors")}, {Name: s.T("Living donors")}, {Name: s.T("Domino")}}}
	for _, o := range godtOrgans {
		pn.Categories = append(pn.Categories, s.T(labelOf(transplantLabels, o.organ)))
		for i, f := range []string{o.deceased, o.living, o.dom} {
			v := 0.0
			if f != "" {
				v = float64(rep.Value(f))
			}
			pn.Series[i].Values = append(pn.Series[i].Values, v)
		}
	}
	if pn.Empty() {
		pn.Note = s.T("No transplantation is recorded in this year.")
	}
	return pn
}

// godtExport answers the report's download links with the file.
func (t *transplantPages) godtExport(w http.ResponseWriter, r *http.Request, s *Session) {
	req, err := t.svc.GODTExport(s.P, r.URL.Query())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.Export(w, r, req)
}
