package stats

import (
	"context"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
)

// SDMX confidentiality status (SDMX code list CL_CONF_STATUS) of a
// published cell: free, or suppressed by disclosure control because it is
// small (C) or to protect another (D).
const (
	ConfFree      = "F"
	ConfPrimary   = "C"
	ConfSecondary = "D"
)

func (s *Service) threshold() int {
	if s.Threshold > 0 {
		return s.Threshold
	}
	return disclosure.DefaultThreshold
}

// MaxPublishedCells is the most cells of the two-way table a published
// query makes (a page's table, an SDMX-CSV file): the disclosure control's
// time grows faster than the table (a table of 72,000 cells with many
// small counts took it 87 seconds, one of 7,200 under half a second), and
// a query by every dimension of a large registry would keep a processor
// for hours, after its reader has gone. A table of ICCS classes by month
// over six years fits (320 by 78).
const MaxPublishedCells = 25_000

// protected is a query's counts after disclosure control: its breakdown
// folded into one two-way table, rows by every dimension but the last,
// columns by the last.
type protected struct {
	res  *Result
	rows [][]string // the row keys (the codes of dims[:k-1])
	cols []string   // the last dimension's codes
	pub  disclosure.Published
	raw  [][]int // the counts before disclosure control, as pub.Cells
}

// protect aggregates q (without totals) and applies the disclosure control;
// dated keeps the span of the counted records' dates (plan.dated).
func (s *Service) protect(ctx context.Context, q Query, dated bool) (*protected, error) {
	q.Totals = false
	res, err := s.aggregate(ctx, s.DB.Read(), q, dated)
	if err != nil {
		return nil, err
	}
	pr := &protected{res: res}
	k := len(res.Dims)
	rowIdx, colIdx := map[string]int{}, map[string]int{}
	var counts [][]int
	for _, c := range res.Cells {
		var rk []string
		col := Total
		if k > 0 {
			rk, col = c.Key[:k-1], c.Key[k-1]
		}
		r := strings.Join(rk, "\x00")
		if _, ok := rowIdx[r]; !ok {
			rowIdx[r] = len(pr.rows)
			pr.rows = append(pr.rows, rk)
		}
		if _, ok := colIdx[col]; !ok {
			colIdx[col] = len(pr.cols)
			pr.cols = append(pr.cols, col)
		}
	}
	if k > 0 {
		slices.SortStableFunc(pr.cols, func(a, b string) int { return res.rank(k-1, a) - res.rank(k-1, b) })
		for i, c := range pr.cols {
			colIdx[c] = i
		}
	}
	counts = make([][]int, len(pr.rows))
	for i := range counts {
		counts[i] = make([]int, len(pr.cols))
	}
	for _, c := range res.Cells {
		var rk []string
		col := Total
		if k > 0 {
			rk, col = c.Key[:k-1], c.Key[k-1]
		}
		counts[rowIdx[strings.Join(rk, "\x00")]][colIdx[col]] += int(c.Count)
	}
	labels := make([]string, len(pr.rows))
	for i, r := range pr.rows {
		labels[i] = strings.Join(r, " / ")
		if len(r) == 0 {
			labels[i] = Total
		}
	}
	corner := strings.Join(res.Dims[:max(k-1, 0)], " / ")
	if corner == "" {
		corner = "total"
	}
	if n := len(pr.rows) * len(pr.cols); n > MaxPublishedCells {
		return nil, errs.Invalidf("too_many_cells", "by", "the table would have %d cells (%d rows of %d columns); a published table has at most %d: ask for fewer dimensions, a coarser ICCS level or period, or fewer records (iccs, from, to, filter)",
			n, len(pr.rows), len(pr.cols), MaxPublishedCells)
	}
	pr.raw = counts
	pr.pub, err = disclosure.Protect(disclosure.Table{Title: q.Stage + " " + q.Unit, Corner: corner, Rows: labels, Cols: pr.cols, Counts: counts}, s.threshold())
	return pr, err
}

// Publish is q's counts as a two-way table after disclosure control, what
// a page, a chart or a file shows: rows by every dimension of the
// breakdown but the last (joined with " / "; "_T" when there is one
// dimension), columns by the last, with the row and column totals. Small
// counts are suppressed, and enough others that none can be recomputed.
func (s *Service) Publish(ctx context.Context, p *auth.Principal, q Query) (disclosure.Published, error) {
	if err := p.Require(ReadStatistics); err != nil {
		return disclosure.Published{}, err
	}
	pr, err := s.protect(ctx, q, false)
	if err != nil {
		return disclosure.Published{}, err
	}
	return pr.pub, nil
}

// PublishPlaced is Publish, and how many units the query selects that its
// period cannot place (Result.NotPlaced), counted in no cell of the table.
func (s *Service) PublishPlaced(ctx context.Context, p *auth.Principal, q Query) (disclosure.Published, int64, error) {
	if err := p.Require(ReadStatistics); err != nil {
		return disclosure.Published{}, 0, err
	}
	pr, err := s.protect(ctx, q, false)
	if err != nil {
		return disclosure.Published{}, 0, err
	}
	return pr.pub, pr.res.NotPlaced, nil
}

// SDMXNotPlaced is the column of an SDMX-CSV export that says how many
// units its query selects but cannot place in its period (Result.NotPlaced):
// an attribute of the whole data set, repeated on every row as SDMX-CSV
// writes an attribute attached above the observation. A file whose query
// has neither from nor to cuts no record's period and has no such column.
const SDMXNotPlaced = "NOT_PLACED"

// NotPlacedText is how a published file writes a count of units not placed
// (Result.NotPlaced): the number, or "<" and the disclosure threshold when
// it is from 1 to under it, as a table's count that small is not shown.
func NotPlacedText(n int64, threshold int) string {
	if n > 0 && n < int64(threshold) {
		return "<" + strconv.Itoa(threshold)
	}
	return strconv.FormatInt(n, 10)
}

// cutsPeriods tells whether q's period may cut through a record's year or
// month: it has from or to, and so a count of units not placed.
func cutsPeriods(q Query) bool { return q.From != "" || q.To != "" }

// SDMXColumns are an SDMX-CSV 2.0 export's columns for a query: STRUCTURE
// (dataflow), STRUCTURE_ID (SDMXDataflow) and ACTION (SDMXAction), every
// dimension of the data structure (sdmxDimensions: ICCS, STAGE,
// UNIT_MEASURE, the others, TIME_PERIOD; _T in those the query does not
// break down by), OBS_VALUE and CONF_STATUS, then NOT_PLACED
// (SDMXNotPlaced) when the query has from or to.
func SDMXColumns(q Query) []string {
	cols := []string{"STRUCTURE", "STRUCTURE_ID", "ACTION"}
	for _, d := range sdmxDimensions() {
		cols = append(cols, d.SDMX)
	}
	cols = append(cols, "OBS_VALUE", "CONF_STATUS")
	if cutsPeriods(q) {
		cols = append(cols, SDMXNotPlaced)
	}
	return cols
}

// sdmxCode is a value's SDMX code in a dimension.
func sdmxCode(dim, v string) string {
	switch {
	case v == Total:
		return Total
	case dim == DimICCS.ID, dim == DimRegion.ID && v != "unknown":
		return v
	case dim == DimRegion.ID:
		return "_U"
	case dim == DimPeriod.ID:
		if y, ok := strings.CutSuffix(v, "-U"); ok {
			return y + "-A1" // the month is not known: the whole year
		}
		return v
	}
	d, _ := Dim(dim)
	for _, x := range d.Values {
		if x.Code == v {
			return x.SDMX
		}
	}
	return v
}

func queryFilter(q Query) url.Values {
	f := url.Values{"stage": {q.Stage}, "unit": {q.Unit}, "level": {strconv.Itoa(q.Level)}}
	if len(q.ICCS) > 0 {
		f["iccs"] = q.ICCS
	}
	if len(q.By) > 0 {
		f["by"] = q.By
	}
	for k, v := range map[string]string{"period": q.Period, "from": q.From, "to": q.To} {
		if v != "" {
			f.Set(k, v)
		}
	}
	for d, vs := range q.Filter {
		f["filter."+d] = vs
	}
	if len(q.Sources) > 0 {
		f["sources"] = q.Sources
	}
	return f
}

// SDMX is the export of q as SDMX-CSV (export.SDMXCSV): one row per
// published cell, after disclosure control. The cells are those of the
// two-way table Publish makes: the breakdown's cells, the totals over its
// last dimension ("_T" there), the totals over all the others ("_T" in
// each of them) and the grand total, then the partial totals of every
// other combination of dimensions (suppressed when they take in a
// suppressed cell); a suppressed cell has no OBS_VALUE
// and CONF_STATUS C (small) or D (protecting another). Serve it with
// export.Serve or web.Session.Export.
func (s *Service) SDMX(p *auth.Principal, q Query) (export.Request, error) {
	if err := p.Require(PublishTables); err != nil {
		return export.Request{}, err
	}
	if _, err := s.plan(q, nil, [2]int{2000, 2000}); err != nil {
		return export.Request{}, err
	}
	return export.Request{Registry: Module.Name, List: "sdmx", Filter: queryFilter(q), Format: export.SDMXCSV, Columns: SDMXColumns(q),
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return func(yield func([]any, error) bool) {
				// A query not counted by period writes the span of its
				// records' dates, unless from and to give it.
				pr, err := s.protect(ctx, q, q.Period == "" && (q.From == "" || q.To == ""))
				if err != nil {
					yield(nil, err)
					return
				}
				for _, line := range pr.sdmxLines(q, SDMXDataflow(s.agency())) {
					if !yield(line, nil) {
						return
					}
				}
			}
		}}, nil
}

// sdmxLines writes the protected table's cells as SDMX-CSV rows (sdmxCells),
// each with the units not placed (SDMXNotPlaced) when the query has from or
// to. A query that counts nothing still has its grand total, 0, so that
// the file says how many units it could not place.
func (pr *protected) sdmxLines(q Query, flow string) [][]any {
	out := pr.sdmxCells(q, flow, len(pr.rows) == 0 && cutsPeriods(q))
	if cutsPeriods(q) {
		notPlaced := NotPlacedText(pr.res.NotPlaced, pr.pub.Threshold)
		for i := range out {
			out[i] = append(out[i], notPlaced)
		}
	}
	return out
}

// sdmxCells writes the protected table's cells as SDMX-CSV rows; empty
// says to write the grand total (0) of a table without cells.
func (pr *protected) sdmxCells(q Query, flow string, empty bool) [][]any {
	dims := pr.res.Dims
	k := len(dims)
	var out [][]any
	all := sdmxDimensions()
	span := pr.sdmxSpan(q)
	line := func(key []string, c disclosure.Cell) {
		// every dimension _T but those of the key, the stage and the unit
		codes := map[string]string{DimStage.ID: sdmxCode(DimStage.ID, q.Stage), DimUnit.ID: sdmxCode(DimUnit.ID, q.Unit)}
		for i, v := range key {
			codes[dims[i]] = sdmxCode(dims[i], v)
		}
		l := []any{"dataflow", flow, SDMXAction}
		for _, d := range all {
			v, ok := codes[d.ID]
			if !ok {
				v = Total
			}
			if d.ID == DimPeriod.ID && v == Total && span != "" {
				// SDMX's time dimension has no total: the span summed
				v = span
			}
			l = append(l, v)
		}
		switch {
		case !c.Suppressed:
			l = append(l, c.Value, ConfFree)
		case c.Primary:
			l = append(l, "", ConfPrimary)
		default:
			l = append(l, "", ConfSecondary)
		}
		out = append(out, l)
	}
	totals := func(n int) []string {
		t := make([]string, n)
		for i := range t {
			t[i] = Total
		}
		return t
	}
	if k == 0 {
		line(nil, pr.pub.Total)
		return out
	}
	if empty {
		line(totals(k), disclosure.Cell{})
		return out
	}
	for i, rk := range pr.rows {
		for j, col := range pr.cols {
			line(append(slices.Clone(rk), col), pr.pub.Cells[i][j])
		}
		line(append(slices.Clone(rk), Total), pr.pub.RowTotals[i])
	}
	if k > 1 && len(pr.rows) > 0 { // nothing counted: no row, as with one dimension
		for j, col := range pr.cols {
			line(append(totals(k-1), col), pr.pub.ColTotals[j])
		}
		line(totals(k), pr.pub.Total)
	}
	// The partial totals: "_T" in some of the dimensions, not in the others
	// (SDMX's totals of every combination), those the table does not have
	// (over the last dimension alone, over all the others, over all).
	for mask := 1; mask < 1<<k-1; mask++ {
		if mask == 1<<(k-1) || mask == 1<<(k-1)-1 {
			continue
		}
		for _, m := range pr.marginal(mask) {
			line(m.key, m.cell)
		}
	}
	return out
}

// sdmxSpan is what an SDMX-CSV file writes in TIME_PERIOD for a total over
// all periods, and for every row of a query not counted by period: the
// time range (sdmxRange) from the query's from, or else the first day of
// the first period counted (of the table's periods, when counted by
// period; of the counted records' dates otherwise, Result.first), to its
// to, or else the last day of the last period counted. "" when a bound is
// neither given nor counted (a query that counts nothing, without both
// from and to): the file writes _T there, as it did before.
func (pr *protected) sdmxSpan(q Query) string {
	var lo, hi int
	if q.From != "" {
		lo = boundKey(q.From, false)
	}
	if q.To != "" {
		hi = boundKey(q.To, true)
	}
	first, last := pr.res.first, pr.res.last
	if q.Period != "" {
		first, last = 0, 0
		for _, p := range pr.cols { // the period is the last dimension
			a, b, ok := periodDays(p)
			if !ok {
				continue
			}
			if first == 0 || a < first {
				first = a
			}
			last = max(last, b)
		}
	}
	if lo == 0 {
		lo = first
	}
	if hi == 0 {
		hi = last
	}
	if lo == 0 || hi == 0 || lo > hi {
		return ""
	}
	return sdmxRange(lo, hi)
}

// periodDays is the first and last day (yyyymmdd, as dateKey writes them)
// of a period's code: YYYY or YYYY-U (a year, or its records of no known
// month or quarter), YYYY-Qn, YYYY-MM.
func periodDays(code string) (int, int, bool) {
	y, err := strconv.Atoi(code[:min(4, len(code))])
	if err != nil || len(code) < 4 {
		return 0, 0, false
	}
	rest := code[4:]
	switch {
	case rest == "" || rest == "-U":
		return y*10000 + 101, y*10000 + 1231, true
	case len(rest) == 3 && rest[:2] == "-Q" && rest[2] >= '1' && rest[2] <= '4':
		q := int(rest[2] - '0')
		return y*10000 + (3*q-2)*100 + 1, y*10000 + 3*q*100 + 31, true
	case len(rest) == 3 && rest[0] == '-':
		m, err := strconv.Atoi(rest[1:])
		if err != nil || m < 1 || m > 12 {
			return 0, 0, false
		}
		return y*10000 + m*100 + 1, y*10000 + m*100 + 31, true
	}
	return 0, 0, false
}

// sdmxRange writes the days lo to hi (yyyymmdd; hi may be day 31 of a
// shorter month, as dateKey writes a month's last day) as an SDMX 2.1 time
// range (ObservationalTimePeriodType's TimeRangeType): the first day and
// an ISO 8601 duration of one unit, whole years (2020-01-01/P5Y), else
// whole months (2024-03-01/P4M), else days (2024-03-15/P27D).
func sdmxRange(lo, hi int) string {
	day := func(k int) time.Time {
		return time.Date(k/10000, time.Month(k/100%100), k%100, 0, 0, 0, 0, time.UTC)
	}
	start := day(lo)
	end := day(hi/100*100+1).AddDate(0, 1, -1) // the month's last day
	if d := hi % 100; d < end.Day() {
		end = day(hi)
	}
	after := end.AddDate(0, 0, 1)
	first := start.Format(time.DateOnly)
	if start.Day() == 1 && after.Day() == 1 {
		months := (after.Year()-start.Year())*12 + int(after.Month()) - int(start.Month())
		if months%12 == 0 {
			return first + "/P" + strconv.Itoa(months/12) + "Y"
		}
		return first + "/P" + strconv.Itoa(months) + "M"
	}
	return first + "/P" + strconv.Itoa(int(after.Sub(start).Hours()/24)) + "D"
}

// partial is a partial total of the table's cells.
type partial struct {
	key  []string
	cell disclosure.Cell
}

// marginal sums the table's cells over the dimensions whose bit is set in
// mask ("_T" in the key), in the table's order. A sum that takes in a
// suppressed cell is suppressed (flagged primary when itself small): it
// would be one more equation to work the cell out from, which the
// disclosure control of the two-way table did not weigh. A sum of
// published cells says nothing they do not.
func (pr *protected) marginal(mask int) []partial {
	var out []partial
	index := map[string]int{}
	for i, rk := range pr.rows {
		for j, col := range pr.cols {
			key := append(slices.Clone(rk), col)
			for d := range key {
				if mask&(1<<d) != 0 {
					key[d] = Total
				}
			}
			id := strings.Join(key, "\x00")
			k, ok := index[id]
			if !ok {
				k = len(out)
				index[id] = k
				out = append(out, partial{key: key})
			}
			out[k].cell.Value += pr.raw[i][j]
			out[k].cell.Suppressed = out[k].cell.Suppressed || pr.pub.Cells[i][j].Suppressed
		}
	}
	for k := range out {
		if c := &out[k].cell; c.Suppressed {
			*c = disclosure.Cell{Suppressed: true, Primary: c.Value > 0 && c.Value < pr.pub.Threshold}
		}
	}
	return out
}

// UNCTSCrime is a crime a UN-CTS table asks for: its name in the
// questionnaire and the ICCS category it is counted under (with every
// category beneath). Some rows are part of another ("of which" in the
// questionnaire: rape of sexual violence, bribery of corruption), so the
// rows do not add up; the table's last row counts every offence.
type UNCTSCrime struct {
	Name string `json:"name"`
	ICCS string `json:"iccs"`
}

// UNCTSCrimes are the crimes of the UN-CTS tables, in the questionnaire's
// order (docs/stats.md says where the list comes from).
var UNCTSCrimes = []UNCTSCrime{
	{"intentional_homicide", "0101"},
	{"attempted_intentional_homicide", "0102"},
	{"serious_assault", "020111"},
	{"kidnapping", "020221"},
	{"trafficking_in_persons", "0204"},
	{"sexual_violence", "0301"},
	{"rape", "03011"},
	{"sexual_exploitation_of_children", "03022"},
	{"robbery", "0401"},
	{"burglary", "0501"},
	{"theft", "0502"},
	{"theft_of_a_motorized_land_vehicle", "050211"},
	{"drug_trafficking", "06012"},
	{"drug_possession", "06011"},
	{"fraud", "0701"},
	{"corruption", "0703"},
	{"bribery", "07031"},
	{"money_laundering", "07041"},
	{"smuggling_of_migrants", "08051"},
}

// unctsVictimCrimes are the crimes whose victims the questionnaire counts.
var unctsVictimCrimes = []string{"intentional_homicide", "attempted_intentional_homicide", "serious_assault", "kidnapping", "trafficking_in_persons",
	"sexual_violence", "rape", "sexual_exploitation_of_children", "robbery"}

// UNCTSAll names the last row of a UN-CTS table: every offence.
const UNCTSAll = "all_offences"

// The UN-CTS tables: what each counts, by the columns of its last
// dimension (and its other dimensions as row keys beside the crime).
var unctsTables = map[string]Query{
	"police_offences": {Stage: StagePolice, Unit: UnitOffence, Level: 4, By: []string{DimAttempt.ID}},
	"police_victims":  {Stage: StagePolice, Unit: UnitVictim, Level: 4, By: []string{DimSex.ID}},
	StagePolice:       {Stage: StagePolice, Unit: UnitPerson, Level: 4, By: []string{DimSex.ID, DimJuvenile.ID}},
	StageProsecution:  {Stage: StageProsecution, Unit: UnitPerson, Level: 4, By: []string{DimSex.ID, DimJuvenile.ID}},
	StageCourts:       {Stage: StageCourts, Unit: UnitPerson, Level: 4, By: []string{DimSex.ID, DimJuvenile.ID}},
	StagePrisons:      {Stage: StagePrisons, Unit: UnitPerson, Level: 4, By: []string{DimSex.ID, DimJuvenile.ID}},
}

// UNCTSQuery is the aggregation behind a UN-CTS table for a year: every
// record by its own ICCS category and the table's dimensions; the table
// sums its cells under each crime's category (UNCTSRows).
func UNCTSQuery(table string, year int) (Query, bool) {
	q, ok := unctsTables[table]
	if !ok {
		return Query{}, false
	}
	q.By = slices.Clone(q.By)
	y := strconv.Itoa(year)
	q.From, q.To = y, y
	return q, true
}

// UNCTSRows are the crimes a table has rows for (the victims' table asks
// for violent crimes only).
func UNCTSRows(table string) []UNCTSCrime {
	if table != "police_victims" {
		return UNCTSCrimes
	}
	var out []UNCTSCrime
	for _, c := range UNCTSCrimes {
		if slices.Contains(unctsVictimCrimes, c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// UNCTS is the export of one UN-CTS table (UNCTSTables) for a year, as CSV
// or XLSX, after disclosure control: a row per crime of the questionnaire
// (UNCTSRows, with its ICCS code; by sex too, for the tables of persons)
// and a last row of every offence, a column per value of the last
// dimension (attempted or completed offences, the victims' sex, juvenile
// or adult persons) and the row's total; a suppressed cell is "x".
func (s *Service) UNCTS(p *auth.Principal, table string, year int, format export.Format) (export.Request, error) {
	if err := p.Require(PublishTables); err != nil {
		return export.Request{}, err
	}
	q, ok := UNCTSQuery(table, year)
	if !ok {
		return export.Request{}, errs.Invalidf("enum", "table", "table must be one of %s", strings.Join(UNCTSTables, ", "))
	}
	if year < 1900 || year > 9999 {
		return export.Request{}, errs.Invalidf("range", "year", "year must be between 1900 and 9999")
	}
	if format != export.CSV && format != export.XLSX {
		return export.Request{}, errs.Invalidf("format", "format", "format must be one of csv, xlsx")
	}
	filter := url.Values{"table": {table}, "year": {strconv.Itoa(year)}}
	cols := []string{"crime", "iccs"}
	cols = append(cols, q.By[:len(q.By)-1]...)
	last, _ := Dim(q.By[len(q.By)-1])
	for _, v := range last.Values {
		cols = append(cols, v.Code)
	}
	cols = append(cols, "total")
	return export.Request{Registry: Module.Name, List: "uncts-" + table, Filter: filter, Format: format, Columns: cols,
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return func(yield func([]any, error) bool) {
				lines, err := s.unctsLines(ctx, q, UNCTSRows(table), last)
				if err != nil {
					yield(nil, err)
					return
				}
				for _, line := range lines {
					if !yield(line, nil) {
						return
					}
				}
			}
		}}, nil
}

// unctsLines counts q, sums its cells under each crime's category (and
// over all, for the last row), protects that table and writes it with a
// column for every value of the last dimension, present or not.
//
// The rows nest: every crime is part of every offence, rape of sexual
// violence, bribery of corruption, theft of a vehicle of theft. Protected
// as rows of one two-way table, which they are not, a row would give away
// what another hides: a 0 published for sexual violence shows that rape's
// suppressed cell in that column is 0 too, and the row's total then gives
// its other suppressed cell; a published row and its "of which" row give
// their difference, a count the table never shows. So the table protected
// is that of the parts the rows are made of, which do add up: each crime's
// own records (those of its category that no row below it counts) and the
// records of no crime, each group of the inner dimensions (sex, for the
// persons' tables) a table of its own, whose column totals are its
// all_offences row. A crime's cell is the sum of its parts' cells, and is
// suppressed when one of them is; so is its total. Everything published is
// then a sum of what that protection publishes, and tells no more.
func (s *Service) unctsLines(ctx context.Context, q Query, crimes []UNCTSCrime, last Dimension) ([][]any, error) {
	q.Totals = false
	res, err := s.aggregate(ctx, s.DB.Read(), q, false)
	if err != nil {
		return nil, err
	}
	inner := len(q.By) - 1 // the dimensions between the ICCS and the last
	// The row keys: each crime (then every offence) by each value of the
	// inner dimensions met, in the order of their values.
	var inners [][]string
	seen := map[string]bool{}
	for _, c := range res.Cells {
		k := strings.Join(c.Key[1:1+inner], "\x00")
		if !seen[k] {
			seen[k] = true
			inners = append(inners, c.Key[1:1+inner])
		}
	}
	if inner == 0 {
		inners = [][]string{{}}
	}
	slices.SortFunc(inners, func(a, b []string) int {
		for i := range a {
			if d := res.rank(1+i, a[i]) - res.rank(1+i, b[i]); d != 0 {
				return d
			}
		}
		return 0
	})
	group := map[string]int{}
	for g, in := range inners {
		group[strings.Join(in, "\x00")] = g
	}
	// The parts: part p < len(crimes) holds the records of crime p's
	// category under no other crime of it; part len(crimes), those of no
	// crime. contains[c][p]: crime c's row takes in part p.
	other := len(crimes)
	contains := make([][]bool, len(crimes))
	for c := range crimes {
		contains[c] = make([]bool, len(crimes)+1)
		for p := range crimes {
			contains[c][p] = ICCS.Under(crimes[p].ICCS, crimes[c].ICCS)
		}
	}
	partOf := func(code string) int {
		part := other
		for p, cr := range crimes {
			if ICCS.Under(code, cr.ICCS) && (part == other || len(cr.ICCS) > len(crimes[part].ICCS)) {
				part = p
			}
		}
		return part
	}
	counts := make([][][]int, len(inners)) // group, part, value of the last dimension
	for g := range counts {
		counts[g] = make([][]int, len(crimes)+1)
		for p := range counts[g] {
			counts[g][p] = make([]int, len(last.Values))
		}
	}
	for _, c := range res.Cells {
		g := group[strings.Join(c.Key[1:1+inner], "\x00")]
		v := slices.Index(last.Codes(), c.Key[len(c.Key)-1])
		counts[g][partOf(c.Key[0])][v] += int(c.Count)
	}
	parts := make([]string, len(crimes)+1)
	for p, cr := range crimes {
		parts[p] = cr.Name
	}
	parts[other] = "other_offences"
	cell := func(c disclosure.Cell) any {
		if c.Suppressed {
			return disclosure.Suppressed
		}
		return c.Value
	}
	pubs := make([]disclosure.Published, len(inners))
	for g := range inners {
		if pubs[g], err = disclosure.Protect(disclosure.Table{Title: q.Stage + " " + q.Unit, Corner: "crime", Rows: parts, Cols: last.Codes(), Counts: counts[g]}, s.threshold()); err != nil {
			return nil, err
		}
	}
	// sum is the published sum of some parts: suppressed when one is.
	sum := func(cells []disclosure.Cell) disclosure.Cell {
		var out disclosure.Cell
		for _, c := range cells {
			if c.Suppressed {
				return disclosure.Cell{Suppressed: true}
			}
			out.Value += c.Value
		}
		return out
	}
	out := make([][]any, 0, (len(crimes)+1)*len(inners))
	for ci := range len(crimes) + 1 {
		for g, in := range inners {
			pub := pubs[g]
			l := []any{UNCTSAll, Total}
			if ci < len(crimes) {
				l = []any{crimes[ci].Name, crimes[ci].ICCS}
			}
			for _, x := range in {
				l = append(l, x)
			}
			if ci == len(crimes) {
				for j := range last.Values {
					l = append(l, cell(pub.ColTotals[j]))
				}
				out = append(out, append(l, cell(pub.Total)))
				continue
			}
			for j := range last.Values {
				var of []disclosure.Cell
				for p := range crimes {
					if contains[ci][p] {
						of = append(of, pub.Cells[p][j])
					}
				}
				l = append(l, cell(sum(of)))
			}
			var totals []disclosure.Cell
			for p := range crimes {
				if contains[ci][p] {
					totals = append(totals, pub.RowTotals[p])
				}
			}
			out = append(out, append(l, cell(sum(totals))))
		}
	}
	return out, nil
}

// The UN-CTS tables an export may ask for: offences recorded and victims
// (police), and persons brought into formal contact with the police,
// prosecuted, convicted (courts) and held (prisons).
var UNCTSTables = []string{"police_offences", "police_victims", StagePolice, StageProsecution, StageCourts, StagePrisons}
