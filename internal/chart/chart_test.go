package chart

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
)

// en is the English reader, whose charts the tests read.
var en = i18n.CoreOnly().English()

// parse decodes s as XML and returns its elements' names and its text.
func parse(t *testing.T, s string) (elems map[string]int, text string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	elems = map[string]int{}
	var tb strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			elems[tok.Name.Local]++
		case xml.CharData:
			tb.Write(tok)
			tb.WriteByte('|')
		}
	}
	return elems, tb.String()
}

func panels() map[string]Panel {
	months := []string{"2025-11", "2025-12", "2026-01"}
	ps := map[string]Panel{
		"columns": {ID: "t-month", Title: "Activity by month", Desc: "Per month", Kind: Columns, Category: "Month", Unit: "records",
			Categories: months, Series: []Series{{"Donations", []float64{3, 0, 12}}, {"Transplants", []float64{5, 1, 7}}}},
		"bars": {ID: "t-centre", Title: "By centre", Kind: Bars, Category: "Centre", Unit: "records",
			Categories: []string{"Centre A", "Centre B"}, Series: []Series{{"Transplants", []float64{40, 2}}}},
		"one": {ID: "one", Title: "One value", Kind: Columns, Category: "Month", Unit: "cases",
			Categories: []string{"2026-01"}, Series: []Series{{"Cases", []float64{1}}}},
		"zero": {ID: "zero", Title: "Zeros", Kind: Bars, Category: "Rule", Unit: "alerts",
			Categories: []string{"a", "b"}, Series: []Series{{"Open", []float64{0, 0}}}},
		"empty":      {ID: "empty", Title: "Nothing", Kind: Columns, Category: "Month", Unit: "cases"},
		"empty-bars": {ID: "empty-bars", Title: "Nothing", Kind: Bars, Category: "Rule", Unit: "alerts", Series: []Series{{"Open", nil}}},
		"decimals": {ID: "hours", Title: "Hours", Kind: Bars, Category: "Step", Unit: "hours", Decimals: 1,
			Categories: []string{"match to report"}, Series: []Series{{"Median", []float64{0.25}}, {"90th percentile", []float64{3.75}}}},
		"many": {ID: "many", Title: "24 months", Kind: Columns, Category: "Month", Unit: "organs",
			Categories: LastMonths(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), 24).List(),
			Series:     []Series{{"A", make([]float64, 24)}, {"B", make([]float64, 24)}, {"C", make([]float64, 24)}, {"D", make([]float64, 24)}, {"E", make([]float64, 24)}}},
	}
	for name, p := range ps {
		p.Fields = fields(p)
		ps[name] = p
	}
	return ps
}

// fields are column names for p's file: "category", then "s1", "s2", ...
func fields(p Panel) []string {
	fs := []string{"category"}
	for i := range p.Series {
		fs = append(fs, fmt.Sprintf("s%d", i+1))
	}
	return fs
}

// TestSVGIsWellFormedAndLabelled draws every kind of panel, zero and empty
// ones included, and checks each is well-formed XML with a title, a
// description, a bar per value and each value written in a bar's tooltip.
func TestSVGIsWellFormedAndLabelled(t *testing.T) {
	for name, p := range panels() {
		t.Run(name, func(t *testing.T) {
			if err := p.Check(); err != nil {
				t.Fatal(err)
			}
			s := string(p.SVG(en))
			elems, text := parse(t, s)
			if elems["svg"] != 1 || elems["title"] < 1 || elems["desc"] != 1 {
				t.Errorf("elements %v", elems)
			}
			if !strings.Contains(s, `aria-labelledby="`+p.ID+`-title `+p.ID+`-desc"`) || !strings.Contains(s, `role="img"`) {
				t.Errorf("not labelled for assistive technology: %.200s", s)
			}
			bars := 0
			for si, se := range p.Series {
				for i, v := range se.Values {
					bars++
					tip := p.Categories[i] + ", " + se.Name + ": " + p.Shown(en, v) + " " + p.Unit
					if !strings.Contains(text, tip) {
						t.Errorf("series %d: no tooltip %q", si, tip)
					}
				}
			}
			if elems["rect"] != bars+len(p.Series) { // a bar per value, a swatch per series
				t.Errorf("%d rects for %d values and %d series", elems["rect"], bars, len(p.Series))
			}
			if !strings.HasPrefix(text, p.Title+"|") {
				t.Errorf("title first: %.80q", text)
			}
			if p.Empty() != strings.Contains(text, "No figures to show") {
				t.Errorf("empty %v, text %q", p.Empty(), text)
			}
			tb := string(p.Table(en))
			if _, _ = parse(t, tb); !strings.Contains(tb, "<caption>"+p.Title+"</caption>") {
				t.Errorf("table: %s", tb)
			}
		})
	}
}

// TestSVGDescribesItsLargestValue: the description says the largest figure,
// with its series and category.
func TestSVGDescribesItsLargestValue(t *testing.T) {
	p := panels()["columns"]
	_, text := parse(t, string(p.SVG(en)))
	if !strings.Contains(text, "Per month. Largest: 12 records, Donations, 2026-01.") {
		t.Errorf("description: %q", text)
	}
	p = panels()["decimals"]
	_, text = parse(t, string(p.SVG(en)))
	for _, want := range []string{"Largest: 3.8 hours", "match to report, Median: 0.2 hours", "|0.0|"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q: %q", want, text)
		}
	}
}

// TestLabelsAreEscaped: a label with markup stays text, in the SVG, the
// table and the tooltip, and the SVG stays well-formed.
func TestLabelsAreEscaped(t *testing.T) {
	evil := `<script>alert("x")</script> & 'Centre'`
	p := Panel{ID: "x", Title: evil, Desc: evil, Kind: Bars, Category: evil, Unit: evil,
		Categories: []string{evil, "b"}, Series: []Series{{evil, []float64{1, 2}}}}
	for _, k := range []Kind{Bars, Columns, Lines} {
		p.Kind = k
		s := string(p.SVG(en))
		if strings.Contains(s, "<script") || strings.Contains(s, `"x"`) {
			t.Fatalf("kind %d: markup not escaped: %s", k, s)
		}
		_, text := parse(t, s)
		if !strings.Contains(text, evil) {
			t.Errorf("kind %d: the label does not read back as text: %q", k, text)
		}
	}
	tb := string(p.Table(en))
	if strings.Contains(tb, "<script") {
		t.Fatalf("table not escaped: %s", tb)
	}
	if _, text := parse(t, tb); !strings.Contains(text, evil) {
		t.Errorf("table text %q", text)
	}
}

// TestLines: a trend line per series, a marked point per value with its
// tooltip, a legend entry per series drawn as its line, and the series told
// apart by dash as well as colour.
func TestLines(t *testing.T) {
	p := Panel{ID: "stats-trend", Title: "Offences by year", Desc: "Police-recorded offences", Kind: Lines, Category: "Year", Unit: "offences",
		Categories: []string{"2023", "2024", "2025"},
		Series:     []Series{{"Homicide", []float64{12, 15, 9}}, {"Robbery", []float64{230, 0, 180}}, {"Fraud", []float64{400, 410, 455}}}}
	p.Fields = fields(p)
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	s := string(p.SVG(en))
	elems, text := parse(t, s)
	if elems["polyline"] != 3 {
		t.Errorf("%d polylines for 3 series", elems["polyline"])
	}
	if marks := elems["circle"] + elems["rect"] + elems["polygon"]; marks != 9+3 { // a mark per value, one per legend entry
		t.Errorf("%d marks for 9 values and 3 series: %v", marks, elems)
	}
	for _, tip := range []string{"2023, Homicide: 12 offences", "2024, Robbery: 0 offences", "2025, Fraud: 455 offences"} {
		if !strings.Contains(text, tip) {
			t.Errorf("no tooltip %q", tip)
		}
	}
	if !strings.Contains(text, "Largest: 455 offences, Fraud, 2025.") {
		t.Errorf("description: %q", text)
	}
	if strings.Count(s, `stroke-dasharray="6 3"`) != 2 || strings.Count(s, `stroke-dasharray="2 3"`) != 2 {
		t.Errorf("the second and third series are not dashed (line and legend): %s", s)
	}
	p.Series = []Series{{"Homicide", []float64{0, 0, 0}}}
	if _, text := parse(t, string(p.SVG(en))); !strings.Contains(text, "No figures to show") {
		t.Errorf("an all-zero line chart does not say so: %q", text)
	}
}

func TestCheckRefusesWhatCannotBeDrawn(t *testing.T) {
	for name, p := range map[string]Panel{
		"id":        {ID: "Bad ID", Title: "t"},
		"title":     {ID: "a"},
		"length":    {ID: "a", Title: "t", Categories: []string{"x"}, Series: []Series{{"s", []float64{1, 2}}}},
		"negative":  {ID: "a", Title: "t", Categories: []string{"x"}, Series: []Series{{"s", []float64{-1}}}},
		"not-a-num": {ID: "a", Title: "t", Categories: []string{"x"}, Series: []Series{{"s", []float64{nan()}}}},
		// The file's columns and categories are codes, the same in every
		// language: a panel without them, or with words, cannot be written.
		"no-fields":     {ID: "a", Title: "t", Categories: []string{"x"}, Series: []Series{{"s", []float64{1}}}},
		"fields-short":  {ID: "a", Title: "t", Categories: []string{"x"}, Series: []Series{{"s", []float64{1}}}, Fields: []string{"x"}},
		"field-a-word":  {ID: "a", Title: "t", Categories: []string{"x"}, Series: []Series{{"s", []float64{1}}}, Fields: []string{"Organe", "s"}},
		"codes-too-few": {ID: "a", Title: "t", Categories: []string{"x", "y"}, Series: []Series{{"s", []float64{1, 2}}}, Fields: []string{"c", "s"}, Codes: []string{"x"}},
	} {
		if err := p.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func nan() float64 { var z float64; return z / z }

// TestColumnsAndRows: the table as a file holds it (package export writes
// it, quoting what a spreadsheet would run as a formula): the panel's
// fields as columns, not its words, a row per category with its code and
// its values as Format writes them.
func TestColumnsAndRows(t *testing.T) {
	p := Panel{ID: "c", Title: "t", Category: "Centre", Decimals: 1, Categories: []string{"=HYPERLINK(\"x\")", "Centre, \"B\""},
		Series: []Series{{"Median", []float64{1.25, 0}}, {"+P90", []float64{2, 3}}}, Fields: []string{"centre", "median", "p90"}}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Columns(), "|"); got != "centre|median|p90" {
		t.Errorf("columns %q", got)
	}
	var rows []string
	for row, err := range p.Rows() {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, strings.TrimSuffix(fmt.Sprintln(row...), "\n"))
	}
	want := []string{"=HYPERLINK(\"x\") 1.2 2.0", "Centre, \"B\" 0.0 3.0"}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows %q, want %q", rows, want)
	}
	p.Codes = []string{"C-1", "C-2"}
	rows = nil
	for row := range p.Rows() {
		rows = append(rows, fmt.Sprint(row[0]))
	}
	if got := strings.Join(rows, "|"); got != "C-1|C-2" {
		t.Errorf("rows with codes start %q, want C-1|C-2", got)
	}
}

func TestFindAndValue(t *testing.T) {
	ps := []Panel{panels()["columns"], panels()["bars"]}
	p, err := Find(ps, "t-centre")
	if err != nil || p.Title != "By centre" {
		t.Fatalf("find: %v %v", p, err)
	}
	if _, err := Find(ps, "nope"); !errors.Is(err, ErrNoPanel) {
		t.Errorf("find nope: %v", err)
	}
	if v, ok := ps[0].Value("Transplants", "2026-01"); !ok || v != 7 {
		t.Errorf("value %v %v", v, ok)
	}
	if _, ok := ps[0].Value("Transplants", "2024-01"); ok {
		t.Error("value of a month not shown")
	}
}

func TestPeriod(t *testing.T) {
	now := time.Date(2026, 3, 9, 13, 0, 0, 0, time.FixedZone("x", 3600*5))
	p, err := ParsePeriod(url.Values{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.From() != "2025-04" || p.End() != "2026-04" || p.Months != 12 || len(p.List()) != 12 || p.List()[11] != "2026-03" {
		t.Errorf("default period %v: %s to %s, %q", p, p.From(), p.End(), p.List())
	}
	p, err = ParsePeriod(url.Values{"until": {"2025-12"}, "months": {"24"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.From() != "2024-01" || p.End() != "2026-01" || p.Words(en) != "the 24 months 2024-01 to 2025-12" || p.Query().Encode() != "months=24&until=2025-12" {
		t.Errorf("period %s: %s to %s, %s", p.Words(en), p.From(), p.End(), p.Query().Encode())
	}
	if got := p.ByMonth(map[string]int{"2024-01": 3, "2025-12": 4, "2026-01": 9}); got[0] != 3 || got[23] != 4 || len(got) != 24 {
		t.Errorf("by month %v", got)
	}
	for _, c := range []struct {
		q           url.Values
		rule, field string
	}{
		{url.Values{"months": {"13"}}, "enum", "months"},
		{url.Values{"months": {"12abc"}}, "enum", "months"},
		{url.Values{"until": {"2026-4"}}, "month_format", "until"},
		{url.Values{"until": {"2026-04"}}, "range", "until"},
		{url.Values{"until": {"0999-12"}}, "range", "until"},
	} {
		_, err := ParsePeriod(c.q, now)
		e, ok := errs.As(err)
		if !ok || e.Rule != c.rule || e.Field != c.field {
			t.Errorf("%v: %v, want rule %s on %s", c.q, err, c.rule, c.field)
		}
	}
}

// TestScaleIsRound: the value axis ends at a round number over the largest
// value, in steps its labels write exactly.
func TestScaleIsRound(t *testing.T) {
	for _, c := range []struct {
		max       float64
		decimals  int
		top, step float64
	}{
		{1046, 0, 1250, 250}, {98, 0, 100, 20}, {10, 0, 10, 2}, {12, 0, 15, 5}, {1, 0, 1, 1}, {3, 0, 3, 1},
		{3.75, 1, 4, 1}, {0.25, 1, 0.3, 0.1}, {0, 0, 1, 1},
	} {
		p := Panel{Decimals: c.decimals, Categories: []string{"a"}, Series: []Series{{"s", []float64{c.max}}}}
		top, step := p.scale()
		if math.Abs(top-c.top) > 1e-9 || math.Abs(step-c.step) > 1e-9 {
			t.Errorf("max %v (%d decimals): top %v step %v, want %v and %v", c.max, c.decimals, top, step, c.top, c.step)
		}
	}
}

// FuzzParsePeriod: any query either is refused with a refusal that names
// the parameter, or reads as a period of 12 or 24 whole months ending no
// later than now's month.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range [][2]string{{"2025-12", "24"}, {"", ""}, {"2026-4", "12"}, {"0000-00", "-1"}, {"2025-12x", "1e1"}} {
		f.Add(s[0], s[1])
	}
	now := time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, until, months string) {
		q := url.Values{}
		if until != "" {
			q.Set("until", until)
		}
		if months != "" {
			q.Set("months", months)
		}
		p, err := ParsePeriod(q, now)
		if err != nil {
			if e, ok := errs.As(err); !ok || (e.Field != "until" && e.Field != "months") {
				t.Fatalf("%q %q: %v", until, months, err)
			}
			return
		}
		if (p.Months != 12 && p.Months != 24) || p.Until.After(now) || p.Until.Day() != 1 || len(p.List()) != p.Months || p.List()[p.Months-1] != p.Until.Format(MonthLayout) {
			t.Fatalf("%q %q: period %+v", until, months, p)
		}
	})
}

// TestDrawnInTheReadersLanguage: a chart and its table drawn for a French
// reader write the chart's own words from the catalogue, and the figures
// with a decimal comma and the language's grouping; the file keeps them as
// a spreadsheet reads them.
func TestDrawnInTheReadersLanguage(t *testing.T) {
	fr := i18n.CoreOnly().Localizer("fr")
	p := panels()["decimals"]
	p.Series[1].Values[0] = 1234.5
	_, text := parse(t, string(p.SVG(fr)))
	largest := fr.T("Largest: %s %s, %s, %s. The table beside the chart gives every figure.", "1\u00a0234,5", "hours", "90th percentile", "match to report")
	if largest == en.T("Largest: %s %s, %s, %s. The table beside the chart gives every figure.", "1\u00a0234,5", "hours", "90th percentile", "match to report") {
		t.Fatal("the catalogue has no French for the chart's description")
	}
	for _, want := range []string{largest, "match to report, Median: 0,2 hours", "|0,0|"} {
		if !strings.Contains(text, want) {
			t.Errorf("the French chart lacks %q: %q", want, text)
		}
	}
	if tb := string(p.Table(fr)); !strings.Contains(tb, `<td class="num">1`+"\u00a0"+`234,5</td>`) {
		t.Errorf("the French table: %s", tb)
	}
	for row := range p.Rows() {
		if row[2] != "1234.5" {
			t.Errorf("the file's figure %q, want 1234.5", row[2])
		}
	}
	empty := panels()["empty"]
	if _, text := parse(t, string(empty.SVG(fr))); !strings.Contains(text, fr.T("No figures to show: every value is zero.")) || strings.Contains(text, "No figures") {
		t.Errorf("the French empty chart: %q", text)
	}
}
