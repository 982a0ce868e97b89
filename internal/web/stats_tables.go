package web

import (
	"cmp"
	"context"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/chart"
	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/stats"
)

// ---- The statistics registry: tables and charts ----
//
// Everything these pages show passes the disclosure control first
// (Service.Publish): the table, the charts and their downloads alike; a
// suppressed count is "x" in a table and is left out of a chart.

// tableForm is a table asked for: the query (stage, unit, ICCS level and
// filter, period, region) and the dimensions of its rows and columns.
type tableForm struct {
	Q         stats.Query
	Row, Col  string
	Level     int
	Period    string
	Region    string
	ICCSCode  string
	PersonFor string // the unit the breakdown by sex and age counts
}

// tableDims are the dimensions a table's rows and columns may be: the ICCS
// category, the period and every tag but the stage and the unit, which the
// form fixes.
func tableDims() []string {
	out := []string{stats.DimICCS.ID, stats.DimPeriod.ID}
	for _, d := range stats.Dimensions {
		if d.ID != stats.DimStage.ID && d.ID != stats.DimUnit.ID {
			out = append(out, d.ID)
		}
	}
	return out
}

// valueCodes are the codes of a dimension's values.
func valueCodes(d stats.Dimension) []string {
	out := make([]string, 0, len(d.Values))
	for _, v := range d.Values {
		out = append(out, v.Code)
	}
	return out
}

// pageParams are a table page's own parameters, beside those of the
// statistics query stats.ParseQuery reads (the API's too): the dimensions
// of the rows and the columns, the region (filter.region in a link), the
// view and format of a download.
var pageParams = []string{"rows", "cols", "region", "view", "format"}

// readTableForm reads a table's query from the page's query parameters
// with stats.ParseQuery, the defaults filled in: police-recorded offences
// by ICCS section and year. A bad parameter is refused naming it.
func readTableForm(q url.Values) (tableForm, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(q.Get(name)); v != "" {
			return v
		}
		return def
	}
	parsed, err := stats.ParseQuery(q, pageParams...)
	if err != nil {
		return tableForm{}, err
	}
	if len(parsed.By) > 0 {
		return tableForm{}, errs.Invalidf("query", "by", "a table page breaks down by its rows and cols, not by")
	}
	f := tableForm{Row: get("rows", stats.DimICCS.ID), Col: get("cols", stats.DimPeriod.ID), Period: cmp.Or(parsed.Period, stats.PeriodYear),
		Region: get("region", "")}
	f.Q = parsed
	f.Q.Stage, f.Q.Unit, f.Q.Totals = cmp.Or(parsed.Stage, stats.StagePolice), cmp.Or(parsed.Unit, stats.UnitOffence), true
	if !slices.Contains(valueCodes(stats.DimStage)[1:], f.Q.Stage) {
		return f, errs.Invalidf("enum", "stage", "stage must be one of %s", strings.Join(valueCodes(stats.DimStage)[1:], ", "))
	}
	if !slices.Contains(valueCodes(stats.DimUnit)[1:], f.Q.Unit) {
		return f, errs.Invalidf("enum", "unit", "unit must be one of %s", strings.Join(valueCodes(stats.DimUnit)[1:], ", "))
	}
	f.Level = parsed.Level
	if q.Get("level") == "" {
		f.Level = 1
	}
	if f.Level < 1 || f.Level > 4 {
		return f, errs.Invalidf("range", "level", "level must be an ICCS level from 1 (sections) to 4 (classes)")
	}
	dims := tableDims()
	if !slices.Contains(dims, f.Row) {
		return f, errs.Invalidf("enum", "rows", "rows must be one of %s", strings.Join(dims, ", "))
	}
	if !slices.Contains(dims, f.Col) {
		return f, errs.Invalidf("enum", "cols", "cols must be one of %s", strings.Join(dims, ", "))
	}
	if f.Row == f.Col {
		return f, errs.Invalidf("distinct", "cols", "the rows and the columns must break the table down by two different dimensions")
	}
	if !slices.Contains(stats.Periods, f.Period) {
		return f, errs.Invalidf("enum", "period", "period must be year, quarter or month")
	}
	for i, c := range f.Q.ICCS {
		code, err := stats.ICCS.Check("iccs", c)
		if err != nil {
			return f, err
		}
		f.Q.ICCS[i] = code
	}
	f.ICCSCode = strings.Join(f.Q.ICCS, ",")
	if f.Region != "" {
		if f.Q.Filter == nil {
			f.Q.Filter = map[string][]string{}
		}
		f.Q.Filter[stats.DimRegion.ID] = append(f.Q.Filter[stats.DimRegion.ID], f.Region)
	}
	// Sex and age are those of the person counted: victims at the police,
	// persons at every stage; offences have none.
	f.PersonFor = f.Q.Unit
	if f.PersonFor == stats.UnitOffence {
		f.PersonFor = stats.UnitPerson
		if f.Q.Stage == stats.StagePolice {
			f.PersonFor = stats.UnitVictim
		}
	}
	return f, nil
}

// query is f's query broken down by row and col, the ICCS at level and the
// period by period when one of them is theirs.
func (f tableForm) query(row, col string, unit string) stats.Query {
	q := f.Q
	q.Unit = unit
	q.Level, q.Period, q.By = 0, stats.PeriodNone, nil
	for _, d := range []string{row, col} {
		switch d {
		case stats.DimICCS.ID:
			q.Level = f.Level
		case stats.DimPeriod.ID:
			q.Period = f.Period
		default:
			q.By = append(q.By, d)
		}
	}
	return q
}

// The views of a table page, each downloadable: the table asked for, the
// trend by year, the breakdown by sex and age band.
const (
	viewTable  = "table"
	viewTrend  = "trend"
	viewSexAge = "sex-age"
)

// publishPlaced is one view of f after disclosure control, its rows and
// columns labelled in s's language, and how many units the period from-to
// cannot place (stats.Result.NotPlaced).
func (h *statsPages) publishPlaced(ctx context.Context, s *Session, f tableForm, view string) (disclosure.Published, int64, error) {
	var row, col, unit, title string
	switch view {
	case viewTrend:
		row, col, unit = stats.DimICCS.ID, stats.DimPeriod.ID, f.Q.Unit
		f.Period = stats.PeriodYear
		title = s.T("By year")
	case viewSexAge:
		row, col, unit = stats.DimAgeBand.ID, stats.DimSex.ID, f.PersonFor
		title = s.T("By sex and age band")
	default:
		row, col, unit = f.Row, f.Col, f.Q.Unit
		title = s.T("Table")
	}
	pub, notPlaced, err := h.svc.PublishPlaced(ctx, s.P, f.query(row, col, unit))
	if e, ok := errs.As(err); ok && e.Rule == "too_many_cells" {
		// The registry names the query's by or totals, which the page has
		// no input for: the page names its rows, and in its words what
		// its user can change.
		return pub, 0, errs.Invalidf("too_many_cells", "rows", "the table would have too many cells to publish (at most %d): choose a coarser ICCS level or period, other rows or columns, or fewer records (ICCS category, from, to, region)", stats.MaxPublishedCells)
	}
	if err != nil {
		return pub, 0, err
	}
	if dimOrder(row) > dimOrder(col) {
		// the registry's breakdown puts the ICCS first and the period
		// last: col came first, so its table is the transpose of ours
		pub = transpose(pub)
	}
	pub.Title = title
	pub.Corner = dimLabel(s, row)
	pub.Rows = relabel(s, row, pub.Rows, f.Level)
	pub.Cols = relabel(s, col, pub.Cols, f.Level)
	return pub, notPlaced, nil
}

// dimOrder is where a dimension comes in a query's breakdown
// (stats.Result.Dims): the ICCS first, the tags, then the period.
func dimOrder(id string) int {
	switch id {
	case stats.DimICCS.ID:
		return 0
	case stats.DimPeriod.ID:
		return 2
	}
	return 1
}

// transpose swaps a published table's rows and columns (the disclosure
// control protects both ways alike).
func transpose(p disclosure.Published) disclosure.Published {
	t := disclosure.Published{Title: p.Title, Corner: p.Corner, Rows: p.Cols, Cols: p.Rows, RowTotals: p.ColTotals, ColTotals: p.RowTotals,
		Total: p.Total, Threshold: p.Threshold, Cells: make([][]disclosure.Cell, len(p.Cols))}
	for j := range p.Cols {
		t.Cells[j] = make([]disclosure.Cell, len(p.Rows))
		for i := range p.Rows {
			t.Cells[j][i] = p.Cells[i][j]
		}
	}
	return t
}

// dimLabel is a dimension's name in s's language.
func dimLabel(s *Session, id string) string {
	if d, ok := stats.Dim(id); ok {
		return s.T(d.Label)
	}
	return id
}

// relabel writes the codes of a dimension's values as people read them:
// an ICCS category with its title, a tag's value by its label, a total as
// "Total"; periods and regions stay as they are. In a table by ICCS level
// level, a category of a coarser level that has categories below it counts
// only the records coded at it (a police force's count given for a section,
// say), not the category's total: it is written "not further specified",
// as classifications write such residual rows, so that no reader takes it
// for the category's total. A category with none below it (0101) is as
// specified as the classification allows, and keeps its title.
func relabel(s *Session, dim string, codes []string, level int) []string {
	d, _ := stats.Dim(dim)
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = c
		switch {
		case c == stats.Total:
			out[i] = s.T("Total")
		case dim == stats.DimICCS.ID:
			out[i] = iccsLabel(c, s.L().Code())
			if k, ok := stats.ICCS.Lookup(c); ok && k.Level < level && stats.ICCS.Subdivided(k.Code) {
				out[i] = s.T("%s, not further specified", out[i])
			}
		default:
			for _, v := range d.Values {
				if v.Code == c {
					out[i] = s.T(v.Label)
				}
			}
		}
	}
	return out
}

// pubTable is a published table as the page shows it.
type pubTable struct {
	ID, Caption, Corner string
	Cols                []string
	Rows                []pubRow
	Totals              []pubCell
	Total               pubCell
	Suppressed          int
	Threshold           int
}

type pubRow struct {
	Label string
	Cells []pubCell
	Total pubCell
}

type pubCell struct {
	Text       string
	Suppressed bool
}

func shownTable(s *Session, id string, p disclosure.Published) *pubTable {
	t := &pubTable{ID: id, Caption: p.Title, Corner: p.Corner, Cols: p.Cols, Threshold: p.Threshold}
	cell := func(c disclosure.Cell) pubCell {
		if c.Suppressed {
			t.Suppressed++
			return pubCell{Text: disclosure.Suppressed, Suppressed: true}
		}
		return pubCell{Text: s.L().Number(int64(c.Value))}
	}
	for i, label := range p.Rows {
		r := pubRow{Label: label}
		for _, c := range p.Cells[i] {
			r.Cells = append(r.Cells, cell(c))
		}
		r.Total = cell(p.RowTotals[i])
		t.Rows = append(t.Rows, r)
	}
	for _, c := range p.ColTotals {
		t.Totals = append(t.Totals, cell(c))
	}
	t.Total = cell(p.Total)
	return t
}

// trendPanel draws the trend by year: the total, and the categories with
// the most records whose every year is published (at most four); a
// category with a suppressed year is left out of the chart, not drawn as
// zero, and the note says so.
func trendPanel(s *Session, p disclosure.Published, unit string) chart.Panel {
	pn := chart.Panel{ID: "stats-trend", Title: s.T("Trend by year"), Kind: chart.Lines, Category: s.T("Year"), Unit: unit,
		Desc: s.T("The counts of each year: the total and the categories that count the most."), Categories: p.Cols}
	total := chart.Series{Name: s.T("Total")}
	for _, c := range p.ColTotals {
		total.Values = append(total.Values, float64(c.Value))
		if c.Suppressed {
			return chart.Panel{ID: pn.ID, Title: pn.Title, Kind: chart.Lines, Category: pn.Category, Unit: unit,
				Note: s.T("The totals of some years are suppressed by the disclosure control: no trend is drawn.")}
		}
	}
	pn.Series = append(pn.Series, total)
	type cat struct {
		i   int
		sum int
	}
	var cats []cat
	left := 0
	for i, row := range p.Cells {
		ok := true
		for _, c := range row {
			ok = ok && !c.Suppressed
		}
		if !ok || p.RowTotals[i].Suppressed {
			left++
			continue
		}
		cats = append(cats, cat{i, p.RowTotals[i].Value})
	}
	slices.SortStableFunc(cats, func(a, b cat) int { return b.sum - a.sum })
	for _, c := range cats[:min(3, len(cats))] {
		se := chart.Series{Name: p.Rows[c.i]}
		for _, v := range p.Cells[c.i] {
			se.Values = append(se.Values, float64(v.Value))
		}
		pn.Series = append(pn.Series, se)
	}
	if left > 0 {
		pn.Note = s.T("Categories with a count suppressed by the disclosure control are not drawn; the table gives them.")
	}
	return pn
}

// sexAgePanel draws the breakdown by sex and age band: a bar per age band
// and sex; suppressed counts are left out and the note says so.
func sexAgePanel(s *Session, p disclosure.Published, unit string) chart.Panel {
	pn := chart.Panel{ID: "stats-sex-age", Title: s.T("By sex and age band"), Kind: chart.Bars, Category: s.T("Age band"), Unit: unit,
		Desc: s.T("The persons counted by their sex and age band."), Categories: p.Rows}
	suppressed := false
	for j, name := range p.Cols {
		se := chart.Series{Name: name}
		for i := range p.Rows {
			c := p.Cells[i][j]
			suppressed = suppressed || c.Suppressed
			se.Values = append(se.Values, float64(c.Value))
		}
		pn.Series = append(pn.Series, se)
	}
	if suppressed {
		pn.Note = s.T("Counts suppressed by the disclosure control are drawn as empty bars; the table gives them as x.")
	}
	return pn
}

// unitWords is what a unit counts, for a chart's axis.
func unitWords(s *Session, unit string) string {
	switch unit {
	case stats.UnitVictim:
		return s.T("victims")
	case stats.UnitPerson:
		return s.T("persons")
	}
	return s.T("offences")
}

type tablesData struct {
	Table, Trend, SexAge *pubTable
	Panels               []chart.Panel
	Downloads            map[string][]Link
	SDMX                 string // the link of the SDMX-CSV file
	PersonFor            string
	Stages, Units, Dims  []Option
	Levels, Periods      []Option
	UNCTSTables          []Option
	Years, Formats       []Option
	Threshold            int
	CanPublish           bool
	// NotPlaced is how many units of the table's selection are dated by a
	// year (or month) alone that from or to cuts through: in no cell. Fewer
	// than the disclosure threshold are not told exactly (NotPlacedFew), as
	// a count of the table would not be.
	NotPlaced    int64
	NotPlacedFew bool
}

func (h *statsPages) tables(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := s.P.Require(stats.ReadStatistics); err != nil {
		s.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	v := s.View(r, "Crime and criminal-justice statistics")
	d := &tablesData{CanPublish: s.P.Can(stats.PublishTables), Downloads: map[string][]Link{}}
	h.tableOptions(s, d)
	v.Data = d
	f, err := readTableForm(q)
	form := url.Values{"stage": {f.Q.Stage}, "unit": {f.Q.Unit}, "level": {strconv.Itoa(max(f.Level, 1))}, "rows": {f.Row}, "cols": {f.Col},
		"period": {f.Period}, "from": {f.Q.From}, "to": {f.Q.To}, "region": {f.Region}, "iccs": {q.Get("iccs")}}
	v.SetForm("table", form)
	v.SetForm("uncts", url.Values{"table": {stats.UNCTSTables[0]}, "year": {d.Years[1].Value}, "format": {string(export.XLSX)}}) // the last whole year
	if err != nil {
		s.Show(w, r, "tables", v, &Refusal{Form: "table", Values: form, Err: err})
		return
	}
	views := map[string]*disclosure.Published{}
	for _, view := range []string{viewTable, viewTrend, viewSexAge} {
		p, notPlaced, err := h.publishPlaced(ctx, s, f, view)
		if view == viewTable && notPlaced > 0 {
			if notPlaced >= int64(d.Threshold) {
				d.NotPlaced = notPlaced
			} else {
				d.NotPlacedFew = true
			}
		}
		if err != nil {
			if _, ok := errs.As(err); ok {
				s.Show(w, r, "tables", v, &Refusal{Form: "table", Values: form, Err: err})
				return
			}
			s.Fail(w, r, err)
			return
		}
		views[view] = &p
		d.Downloads[view] = statsDownloads(form, view)
	}
	d.Table = shownTable(s, "stats-table", *views[viewTable])
	d.Trend = shownTable(s, "stats-trend-table", *views[viewTrend])
	d.SexAge = shownTable(s, "stats-sex-age-table", *views[viewSexAge])
	d.PersonFor = unitWords(s, f.PersonFor)
	d.Panels = []chart.Panel{trendPanel(s, *views[viewTrend], unitWords(s, f.Q.Unit)), sexAgePanel(s, *views[viewSexAge], d.PersonFor)}
	d.SDMX = "/stats/sdmx?" + nonEmpty(form).Encode()
	s.Show(w, r, "tables", v, nil)
}

// statsDownloads are the links that download a view of the table of the
// query form, in each format.
func statsDownloads(form url.Values, view string) []Link {
	q := nonEmpty(form)
	q.Set("view", view)
	var out []Link
	for _, f := range export.Formats {
		q.Set("format", f)
		out = append(out, Link{Href: "/stats/tables/export?" + q.Encode(), Label: strings.ToUpper(f)})
	}
	return out
}

// nonEmpty is a form's values less the empty ones.
func nonEmpty(form url.Values) url.Values {
	q := url.Values{}
	for k, vs := range form {
		if len(vs) == 1 && vs[0] != "" {
			q[k] = vs
		}
	}
	return q
}

// unctsLabels are the words of the UN-CTS tables.
var unctsLabels = map[string]string{
	"police_offences":      i18n.M("Offences recorded by the police"),
	"police_victims":       i18n.M("Victims recorded by the police"),
	stats.StagePolice:      i18n.M("Persons brought into formal contact with the police"),
	stats.StageProsecution: i18n.M("Persons prosecuted"),
	stats.StageCourts:      i18n.M("Persons convicted"),
	stats.StagePrisons:     i18n.M("Persons held in prisons"),
}

// tableOptions fills the choices of the page's forms.
func (h *statsPages) tableOptions(s *Session, d *tablesData) {
	for _, v := range stats.DimStage.Values[1:] {
		d.Stages = append(d.Stages, Option{v.Code, s.T(v.Label)})
	}
	for _, tb := range stats.UNCTSTables {
		d.UNCTSTables = append(d.UNCTSTables, Option{tb, s.T(labelOf(unctsLabels, tb))})
	}
	for _, v := range stats.DimUnit.Values[1:] {
		d.Units = append(d.Units, Option{v.Code, s.T(v.Label)})
	}
	for _, id := range tableDims() {
		d.Dims = append(d.Dims, Option{id, dimLabel(s, id)})
	}
	for i, l := range []i18n.Msg{i18n.M("1: sections"), i18n.M("2: divisions"), i18n.M("3: groups"), i18n.M("4: classes")} {
		d.Levels = append(d.Levels, Option{strconv.Itoa(i + 1), s.T(l)})
	}
	for _, p := range []string{stats.PeriodYear, stats.PeriodQuarter, stats.PeriodMonth} {
		d.Periods = append(d.Periods, Option{p, s.T(statsLabels[p])})
	}
	now := time.Now
	if h.svc.Now != nil {
		now = h.svc.Now
	}
	year := now().Year()
	d.Threshold = h.svc.Threshold
	if d.Threshold == 0 {
		d.Threshold = disclosure.DefaultThreshold
	}
	for _, f := range export.Formats {
		d.Formats = append(d.Formats, Option{f, strings.ToUpper(f)})
	}
	for y := year; y > year-10; y-- {
		d.Years = append(d.Years, Option{strconv.Itoa(y), strconv.Itoa(y)})
	}
}

// tableExport downloads one view of a table page (view: table, trend or
// sex-age) as CSV or XLSX, after the disclosure control; the export is in
// the log, as every export is.
func (h *statsPages) tableExport(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := s.P.Require(stats.PublishTables); err != nil {
		s.Fail(w, r, err)
		return
	}
	format, filter, err := export.Query(r.URL.Query())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	view := filter.Get("view")
	if !slices.Contains([]string{viewTable, viewTrend, viewSexAge}, view) {
		s.Fail(w, r, errs.Invalidf("enum", "view", "view must be table, trend or sex-age"))
		return
	}
	f, err := readTableForm(filter)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pub, notPlaced, err := h.publishPlaced(r.Context(), s, f, view)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	var notes []export.Note
	if f.Q.From != "" || f.Q.To != "" {
		// The units from or to cut through the year (or month) of: in no
		// cell, as the page says under the table; the file says it in its
		// header.
		notes = append(notes, export.Note{Name: notPlacedNote, Value: stats.NotPlacedText(notPlaced, pub.Threshold)})
	}
	s.Export(w, r, export.Request{Registry: stats.Module.Name, List: view, Filter: filter, Format: format, Columns: pub.Columns(), Notes: notes,
		Rows: func(context.Context) iter.Seq2[[]any, error] { return pub.Lines() }})
}

// notPlacedNote names the header line of a table's download that says how
// many units of its selection, dated by a year or month alone that from or
// to cuts through, are counted in no cell (stats.Result.NotPlaced).
var notPlacedNote = i18n.M("units not placed in the period (dated by a year or month alone that from or to cuts through; in no cell)")

// sdmx downloads the table's query as SDMX-CSV: every cell and total.
func (h *statsPages) sdmx(w http.ResponseWriter, r *http.Request, s *Session) {
	f, err := readTableForm(r.URL.Query())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	req, err := h.svc.SDMX(s.P, f.query(f.Row, f.Col, f.Q.Unit))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.Export(w, r, req)
}

// uncts downloads one table of the UN-CTS questionnaire for a year.
func (h *statsPages) uncts(w http.ResponseWriter, r *http.Request, s *Session) {
	format, filter, err := export.Query(r.URL.Query())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	year, ok := atoiRange(filter.Get("year"), 1900, 9999)
	if !ok {
		s.Fail(w, r, errs.Invalidf("range", "year", "year must be a year such as 2025"))
		return
	}
	req, err := h.svc.UNCTS(s.P, filter.Get("table"), year, format)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.Export(w, r, req)
}
