package stats_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
)

// sdmxRef is an SDMX-ML reference (<Ref id=… agencyID=… version=…/>).
type sdmxRef struct {
	ID      string `xml:"id,attr"`
	Agency  string `xml:"agencyID,attr"`
	Version string `xml:"version,attr"`
}

type sdmxComponent struct {
	ID       string   `xml:"id,attr"`
	Position int      `xml:"position,attr"`
	Concept  sdmxRef  `xml:"ConceptIdentity>Ref"`
	Codelist *sdmxRef `xml:"LocalRepresentation>Enumeration>Ref"`
	Format   *struct {
		Type string `xml:"textType,attr"`
	} `xml:"LocalRepresentation>TextFormat"`
}

// sdmxStructure is what the test reads of the Structure message.
type sdmxStructure struct {
	XMLName   xml.Name `xml:"Structure"`
	Dataflows []struct {
		ID      string  `xml:"id,attr"`
		Agency  string  `xml:"agencyID,attr"`
		Version string  `xml:"version,attr"`
		DSD     sdmxRef `xml:"Structure>Ref"`
	} `xml:"Structures>Dataflows>Dataflow"`
	Codelists []struct {
		ID    string `xml:"id,attr"`
		Codes []struct {
			ID string `xml:"id,attr"`
		} `xml:"Code"`
	} `xml:"Structures>Codelists>Codelist"`
	Concepts []struct {
		ID string `xml:"id,attr"`
	} `xml:"Structures>Concepts>ConceptScheme>Concept"`
	DSDs []struct {
		ID         string          `xml:"id,attr"`
		Dimensions []sdmxComponent `xml:"DataStructureComponents>DimensionList>Dimension"`
		Time       []sdmxComponent `xml:"DataStructureComponents>DimensionList>TimeDimension"`
		Attributes []sdmxComponent `xml:"DataStructureComponents>AttributeList>Attribute"`
		Measure    []sdmxComponent `xml:"DataStructureComponents>MeasureList>PrimaryMeasure"`
	} `xml:"Structures>DataStructures>DataStructure"`
}

// sdmxID is SDMX's IDType: what every id of the structure must match.
var sdmxID = regexp.MustCompile(`^[A-Za-z0-9_@$\-]+$`)

// sdmxPeriod is SDMX 2.1's ObservationalTimePeriodType (SDMXCommon.xsd),
// without time zones, which the files never write: a Gregorian period
// (xs:gYear, xs:gYearMonth, xs:date), a date-time, a reporting period
// (YYYY-A1, -S1, -T1, -Q1, -M01, -W01, -D001), or a time range, a start
// date (or date-time) and a positive ISO 8601 duration (Technical Notes
// 4.2.7, "Distinct Range": YYYY-MM-DD(Thh:mm:ss)?/<duration>).
var sdmxPeriod = func() *regexp.Regexp {
	const (
		year     = `\d{4}`
		month    = year + `-(0[1-9]|1[0-2])`
		date     = month + `-(0[1-9]|[12]\d|3[01])`
		dateTime = date + `T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?`
		report   = year + `-(A1|S[12]|T[1-3]|Q[1-4]|M(0[1-9]|1[0-2])|W(0[1-9]|[1-4]\d|5[0-3])|D(00[1-9]|0[1-9]\d|[12]\d\d|3[0-5]\d|36[0-6]))`
		// an xs:duration, positive: at least one part, T only before one
		days     = `(\d+Y(\d+M)?(\d+D)?|\d+M(\d+D)?|\d+D)`
		times    = `T(\d+H(\d+M)?(\d+(\.\d+)?S)?|\d+M(\d+(\.\d+)?S)?|\d+(\.\d+)?S)`
		duration = `P(` + days + `(` + times + `)?|` + times + `)`
	)
	return regexp.MustCompile(`^(` + year + `|` + month + `|` + date + `|` + dateTime + `|` + report + `|(` + date + `|` + dateTime + `)/` + duration + `)$`)
}()

// sdmxDays is the first and last day an SDMX period the files write
// covers: YYYY, YYYY-A1, YYYY-Qn, YYYY-MM, or a range YYYY-MM-DD/PnY, PnM
// or PnD (the one-unit durations custos writes).
func sdmxDays(t *testing.T, p string) (time.Time, time.Time) {
	t.Helper()
	if start, dur, ok := strings.Cut(p, "/"); ok {
		s, err := time.Parse(time.DateOnly, start)
		n, err2 := strconv.Atoi(dur[1 : len(dur)-1])
		if err != nil || err2 != nil || n <= 0 || dur[0] != 'P' {
			t.Fatalf("time range %q: not a date and a duration of one unit", p)
		}
		var after time.Time
		switch dur[len(dur)-1] {
		case 'Y':
			after = s.AddDate(n, 0, 0)
		case 'M':
			after = s.AddDate(0, n, 0)
		case 'D':
			after = s.AddDate(0, 0, n)
		default:
			t.Fatalf("time range %q: unit %c", p, dur[len(dur)-1])
		}
		return s, after.AddDate(0, 0, -1)
	}
	y, err := strconv.Atoi(p[:4])
	if err != nil {
		t.Fatalf("period %q", p)
	}
	first, months := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), 12
	switch rest := p[4:]; {
	case rest == "" || rest == "-A1":
	case strings.HasPrefix(rest, "-Q"):
		q, _ := strconv.Atoi(rest[2:])
		first, months = first.AddDate(0, 3*(q-1), 0), 3
	default:
		m, err := strconv.Atoi(rest[1:])
		if err != nil {
			t.Fatalf("period %q", p)
		}
		first, months = first.AddDate(0, m-1, 0), 1
	}
	return first, first.AddDate(0, months, -1)
}

// checkTimePeriods checks the TIME_PERIOD of an SDMX-CSV file of q: every
// one an SDMX period (sdmxPeriod), never _T; a total over all periods (a
// time range) covers exactly the periods it sums (from the first day of
// the first to the last of the last, the query's from and to where given),
// and is their sum where none is suppressed; a query not counted by period
// writes the span of the same query counted by month. It returns how many
// totals over periods it checked.
func checkTimePeriods(t *testing.T, w *world, q stats.Query, lines [][]string) int {
	t.Helper()
	col := map[string]int{}
	for i, c := range lines[0] {
		col[c] = i
	}
	tp := col["TIME_PERIOD"]
	// day is a bound's first day (its last when end): from=2023 starts on
	// 2023-01-01, to=2024-02 ends on 2024-02-29.
	day := func(s string, end bool) time.Time {
		for _, l := range []struct {
			layout  string
			y, m, d int
		}{{time.DateOnly, 0, 0, 1}, {"2006-01", 0, 1, 0}, {"2006", 1, 0, 0}} {
			if d, err := time.Parse(l.layout, s); err == nil {
				if end {
					return d.AddDate(l.y, l.m, l.d-1)
				}
				return d
			}
		}
		t.Fatalf("bound %q", s)
		return time.Time{}
	}
	// The span the records counted by month cover, and the query's bounds.
	mq := q
	mq.Period, mq.Totals = "month", false
	res, err := w.S.Aggregate(context.Background(), w.Statistician, mq)
	if err != nil {
		t.Fatal(err)
	}
	var lo, hi time.Time
	for _, c := range res.Cells {
		a, b := sdmxDays(t, strings.Replace(c.Key[len(c.Key)-1], "-U", "", 1))
		if lo.IsZero() || a.Before(lo) {
			lo = a
		}
		if b.After(hi) {
			hi = b
		}
	}
	bound := func(lo, hi time.Time) (time.Time, time.Time) {
		if q.From != "" {
			lo = day(q.From, false)
		}
		if q.To != "" {
			hi = day(q.To, true)
		}
		return lo, hi
	}
	type group struct {
		total   []string
		periods []string
		sum     int
		hidden  bool
	}
	groups := map[string]*group{}
	var order []string
	for _, l := range lines[1:] {
		p := l[tp]
		if !sdmxPeriod.MatchString(p) {
			t.Fatalf("%v: TIME_PERIOD %q is not an SDMX period (row %v)", q.By, p, l)
		}
		key := slices.Clone(l[3:tp])
		id := strings.Join(key, ",")
		g, ok := groups[id]
		if !ok {
			g = &group{}
			groups[id] = g
			order = append(order, id)
		}
		if strings.Contains(p, "/") {
			if g.total != nil {
				t.Fatalf("%v: two totals over all periods for %s", q.By, id)
			}
			g.total = l
			continue
		}
		g.periods = append(g.periods, p)
		n, err := strconv.Atoi(l[col["OBS_VALUE"]])
		g.sum += n
		g.hidden = g.hidden || err != nil
	}
	totals := 0
	for _, id := range order {
		g := groups[id]
		if g.total == nil {
			t.Errorf("%v: the rows of %s (%v) have no total over their periods", q.By, id, g.periods)
			continue
		}
		totals++
		start, end := sdmxDays(t, g.total[tp])
		var wantLo, wantHi time.Time
		if q.Period == "" {
			if len(g.periods) > 0 {
				t.Fatalf("%v: periods %v in a file not counted by period", q.By, g.periods)
			}
			wantLo, wantHi = bound(lo, hi)
		} else {
			if len(g.periods) == 0 {
				t.Fatalf("%v: a total over periods %s sums no period's row", q.By, g.total[tp])
			}
			var a, b time.Time
			for _, p := range g.periods {
				s, e := sdmxDays(t, p)
				if a.IsZero() || s.Before(a) {
					a = s
				}
				if e.After(b) {
					b = e
				}
				// each row it sums lies (in part, where from or to cuts its period) in the range
				if e.Before(start) || s.After(end) {
					t.Errorf("%v: %s sums %s, outside it", q.By, g.total[tp], p)
				}
			}
			wantLo, wantHi = bound(a, b)
			if n, err := strconv.Atoi(g.total[col["OBS_VALUE"]]); err == nil && !g.hidden && n != g.sum {
				t.Errorf("%v: the total %s of %s is %d, its periods sum %d", q.By, g.total[tp], id, n, g.sum)
			}
		}
		if !start.Equal(wantLo) || !end.Equal(wantHi) {
			t.Errorf("%v %s–%s: the total of %s is %s (%s to %s), want %s to %s", q.By, q.From, q.To, id, g.total[tp],
				start.Format(time.DateOnly), end.Format(time.DateOnly), wantLo.Format(time.DateOnly), wantHi.Format(time.DateOnly))
		}
	}
	return totals
}

// TestSDMXStructure: the SDMX-ML structure the SDMX-CSV files name parses
// as XML, its ids are SDMX ids, its data structure has the file's columns
// in the file's order, and every code of files exported from imported
// records (by each coded dimension, by period, with totals and a period
// that leaves records unplaced) is in its dimension's codelist.
func TestSDMXStructure(t *testing.T) {
	var b bytes.Buffer
	if err := stats.SDMXStructure(&b, stats.SDMXAgency, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	// Well-formed, and every id attribute an SDMX id.
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	ids := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("the structure is not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "id" || a.Name.Local == "agencyID" || a.Name.Local == "maintainableParentID" {
					ids++
					if !sdmxID.MatchString(a.Value) {
						t.Errorf("<%s %s=%q>: not an SDMX id", se.Name.Local, a.Name.Local, a.Value)
					}
				}
			}
		}
	}
	var st sdmxStructure
	if err := xml.Unmarshal(b.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Dataflows) != 1 || len(st.DSDs) != 1 {
		t.Fatalf("dataflows %d, data structures %d; want one each", len(st.Dataflows), len(st.DSDs))
	}
	flow, dsd := st.Dataflows[0], st.DSDs[0]
	if got := flow.Agency + ":" + flow.ID + "(" + flow.Version + ")"; got != stats.SDMXDataflow(stats.SDMXAgency) || flow.DSD.ID != dsd.ID {
		t.Fatalf("dataflow %s of %s; the files name %s, the structure is %s", got, flow.DSD.ID, stats.SDMXDataflow(stats.SDMXAgency), dsd.ID)
	}
	codes := map[string][]string{}
	for _, cl := range st.Codelists {
		for _, c := range cl.Codes {
			codes[cl.ID] = append(codes[cl.ID], c.ID)
		}
	}
	if n := len(codes["CL_ICCS"]); n != len(stats.ICCS.Categories)+1 {
		t.Errorf("CL_ICCS has %d codes; the classification %d categories and _T", n, len(stats.ICCS.Categories))
	}
	concepts := map[string]bool{}
	for _, c := range st.Concepts {
		concepts[c.ID] = true
	}
	// The components, by position: the columns of a file after ACTION.
	comps := append(slices.Clone(dsd.Dimensions), dsd.Time...)
	slices.SortFunc(comps, func(a, b sdmxComponent) int { return a.Position - b.Position })
	codelistOf := map[string]string{}
	var columns []string
	for i, c := range comps {
		if c.Position != i+1 {
			t.Errorf("dimension %s at position %d, want %d", c.ID, c.Position, i+1)
		}
		columns = append(columns, c.ID)
		if c.Codelist != nil {
			if codes[c.Codelist.ID] == nil {
				t.Errorf("dimension %s: codelist %s is not in the structure", c.ID, c.Codelist.ID)
			}
			codelistOf[c.ID] = c.Codelist.ID
		}
	}
	for _, c := range append(append(comps, dsd.Attributes...), dsd.Measure...) {
		if !concepts[c.Concept.ID] {
			t.Errorf("component %s: concept %s is not in the structure", c.ID, c.Concept.ID)
		}
	}
	for _, a := range dsd.Attributes {
		if a.Codelist != nil {
			codelistOf[a.ID] = a.Codelist.ID
		}
	}
	if len(dsd.Time) != 1 || dsd.Time[0].ID != "TIME_PERIOD" || len(dsd.Measure) != 1 || dsd.Measure[0].ID != "OBS_VALUE" {
		t.Fatalf("time %v, measure %v", dsd.Time, dsd.Measure)
	}
	attrs := []string{}
	for _, a := range dsd.Attributes {
		attrs = append(attrs, a.ID)
	}
	if !slices.Equal(attrs, []string{"CONF_STATUS", stats.SDMXNotPlaced}) {
		t.Errorf("attributes %v", attrs)
	}

	// Files of imported records: each row's codes in their codelists.
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newWorld(t, dsn)
		m := w.mapping(t)
		f := makeFile(t, 3000, statstest.Options{Seed: 7, Years: 2, FirstYear: 2023})
		if _, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Mapping: m.ID}, bytes.NewReader(f.data), 0, nil); err != nil {
			t.Fatal(err)
		}
		// The API serves the same structure, to anyone.
		r := w.Do(t, "GET", "/api/v1/stats/sdmx/structure", "", nil)
		if r.Status != http.StatusOK || !bytes.Contains(r.Raw, []byte(`<str:DataStructure id="`+dsd.ID+`"`)) {
			t.Fatalf("GET /api/v1/stats/sdmx/structure: %d %.200s", r.Status, r.Raw)
		}
		queries := []stats.Query{
			{Stage: "police", Unit: "victim", Level: 4, By: []string{"sex", "age_band"}, Period: "year"},
			{Stage: "police", Unit: "offence", Level: 2, By: []string{"attempt", "weapon", "context", "cyber"}, Period: "quarter", From: "2023-03", To: "2024-06"},
			{Stage: "police", Unit: "victim", Level: 1, By: []string{"victim_sex", "victim_age_band", "victim_citizenship", "relationship"}, Period: "month"},
			{Stage: "courts", Unit: "person", Level: 3, By: []string{"perpetrator_sex", "perpetrator_age_band", "juvenile", "perpetrator_citizenship", "recidivism"}},
			{Stage: "prisons", Unit: "person", Level: 0, By: []string{"region"}, From: "2024"},
			// not counted by period: the span of the records' dates, or from and to
			{Stage: "police", Unit: "offence", Level: 0},
			{Stage: "police", Unit: "victim", Level: 1, By: []string{"sex"}, To: "2023-08"},
			{Stage: "police", Unit: "victim", Level: 1, From: "2023-03-15", To: "2024-02-10"},
			{Stage: "police", Unit: "offence", Level: 1, Period: "month", From: "2023-11"},
			// nothing counted, from and to given: the grand total, 0, over them
			{Stage: "courts", Unit: "person", Level: 1, By: []string{"sex"}, From: "2030", To: "2031-06"},
		}
		totals := 0
		for _, q := range queries {
			req, err := w.S.SDMX(w.Statistician, q)
			if err != nil {
				t.Fatal(err)
			}
			lines := exportCSV(t, w, req)
			want := append(append([]string{"STRUCTURE", "STRUCTURE_ID", "ACTION"}, columns...), "OBS_VALUE", "CONF_STATUS")
			if q.From != "" || q.To != "" {
				want = append(want, stats.SDMXNotPlaced)
			}
			if !slices.Equal(lines[0], want) {
				t.Fatalf("%v: columns %v, want %v (the structure's)", q.By, lines[0], want)
			}
			if len(lines) < 2 {
				t.Fatalf("%v: no rows", q.By)
			}
			for _, l := range lines[1:] {
				if l[0] != "dataflow" || l[1] != stats.SDMXDataflow(stats.SDMXAgency) || l[2] != stats.SDMXAction {
					t.Fatalf("%v: row %v", q.By, l)
				}
				for i, v := range l {
					cl := codelistOf[lines[0][i]]
					if cl != "" && !slices.Contains(codes[cl], v) {
						t.Fatalf("%v: %s %q is not in %s (row %v)", q.By, lines[0][i], v, cl, l)
					}
				}
			}
			totals += checkTimePeriods(t, w, q, lines)
		}
		if totals < 20 {
			t.Errorf("%d totals over all periods checked: the test checks little", totals)
		}
		// Nothing counted, neither from nor to: no row, whatever the
		// query's dimensions. Broken down by two, the file had a grand
		// total 0 dated _T, the one row a tool strict about TIME_PERIOD
		// refuses, where by one it had none.
		nowhere := map[string][]string{"region": {"Nowhere"}}
		for _, q := range []stats.Query{
			{Stage: "police", Unit: "victim", Level: 1, Filter: nowhere},
			{Stage: "police", Unit: "victim", Level: 1, By: []string{"sex"}, Filter: nowhere},
			{Stage: "police", Unit: "victim", Level: 1, By: []string{"sex", "region"}, Period: "year", Filter: nowhere},
		} {
			req, err := w.S.SDMX(w.Statistician, q)
			if err != nil {
				t.Fatal(err)
			}
			if lines := exportCSV(t, w, req); len(lines) != 1 {
				t.Errorf("%v, nothing counted: rows %v, want none", q.By, lines[1:])
			}
		}
	})
}

// TestSDMXRange: a span is written as its first day and a duration of
// whole years, else whole months, else days, that ends on its last day; a
// month's last day may come as day 31 (as a month-dated record's).
func TestSDMXRange(t *testing.T) {
	for _, c := range []struct {
		lo, hi int
		want   string
	}{
		{20200101, 20241231, "2020-01-01/P5Y"},
		{20240301, 20240631, "2024-03-01/P4M"},
		{20240301, 20240630, "2024-03-01/P4M"},
		{20240201, 20240231, "2024-02-01/P1M"},
		{20230201, 20230231, "2023-02-01/P1M"},
		{20230301, 20240229, "2023-03-01/P1Y"},
		{20231001, 20241231, "2023-10-01/P15M"},
		{20240315, 20240410, "2024-03-15/P27D"},
		{20240301, 20240330, "2024-03-01/P30D"},
		{20240101, 20240101, "2024-01-01/P1D"},
	} {
		got := stats.SDMXRange(c.lo, c.hi)
		if got != c.want || !sdmxPeriod.MatchString(got) {
			t.Errorf("%d to %d: %s, want %s", c.lo, c.hi, got, c.want)
		}
		if s, e := sdmxDays(t, got); s.Format("20060102") != strconv.Itoa(c.lo) || e.Day() > c.hi%100 || e.Format("200601") != strconv.Itoa(c.hi/100) {
			t.Errorf("%s covers %s to %s, not %d to %d", got, s.Format(time.DateOnly), e.Format(time.DateOnly), c.lo, c.hi)
		}
	}
	for _, bad := range []string{"_T", "2024-13", "2024-Q5", "2024-01-01/P", "2024-01-01/PT", "2024-01-01/5Y", "2024-01-01/P1M1Y", "2024-01-01/P5Y/", "2024-A2"} {
		if sdmxPeriod.MatchString(bad) {
			t.Errorf("%q matches the SDMX period pattern", bad)
		}
	}
}

// sdmxIntegerBits are the bits of SDMX 2.1's integer types (SDMXCommon.xsd,
// SimpleDataType): Short is xs:short, Integer xs:int, Long xs:long.
var sdmxIntegerBits = map[string]int{"Short": 16, "Integer": 32, "Long": 64}

// TestSDMXLargeCounts: a big country's counts, past 2^31 once summed
// (three records of a billion thefts), are written whole in the SDMX-CSV
// file, and every OBS_VALUE fits the type the structure declares for it,
// so that a tool validating the file against the structure loads it.
// Before, OBS_VALUE was declared Integer (xs:int, at most 2,147,483,647)
// and the totals, 3,000,000,000 and more, were invalid.
func TestSDMXLargeCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		records := "iccs,stage,unit,date,region,count\n" +
			"0502,police,offence,2025,North,1000000000\n" +
			"0502,police,offence,2025,South,1000000000\n" +
			"050211,police,offence,2025,South,1000000000\n" +
			"0101,police,offence,2025,North,120\n"
		if r := w.Upload(t, "/api/v1/stats/imports?source=big.csv", w.Token, "text/csv", []byte(records)); r.Status != http.StatusCreated {
			t.Fatalf("import: %d %s", r.Status, r.Raw)
		}
		st := w.Do(t, "GET", "/api/v1/stats/sdmx/structure", "", nil)
		var s sdmxStructure
		if err := xml.Unmarshal(st.Raw, &s); err != nil || len(s.DSDs) != 1 || len(s.DSDs[0].Measure) != 1 || s.DSDs[0].Measure[0].Format == nil {
			t.Fatalf("structure: %v %.300s", err, st.Raw)
		}
		typ := s.DSDs[0].Measure[0].Format.Type
		bits, ok := sdmxIntegerBits[typ]
		if !ok {
			t.Fatalf("OBS_VALUE is %s, not an integer type of SDMX", typ)
		}
		r := w.Do(t, "GET", "/api/v1/stats/sdmx?stage=police&unit=offence&level=2&by=region", w.Token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("SDMX-CSV: %d %s", r.Status, r.Raw)
		}
		lines, err := csv.NewReader(bytes.NewReader(r.Raw)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := slices.Index(lines[0], "OBS_VALUE")
		var grand int64
		for _, l := range lines[1:] {
			if l[col] == "" {
				continue
			}
			n, err := strconv.ParseInt(l[col], 10, bits)
			if err != nil {
				t.Errorf("OBS_VALUE %s does not fit the structure's %s: %v (row %v)", l[col], typ, err, l)
			}
			if l[3] == stats.Total && l[6] == stats.Total {
				grand = n
			}
		}
		if grand != 3000000120 {
			t.Errorf("grand total %d, want 3000000120", grand)
		}
	})
}

// TestSDMXAgency: a statistics office that names its own SDMX agency
// (--sdmx-agency) has it in every artefact of the structure the API serves
// (each agencyID and the message's sender) and in the SDMX-CSV files'
// STRUCTURE_ID, so that the files and the structure agree and a tool that
// loads several offices' files keeps them apart. Before, every registry's
// were CUSTOS's, whatever the office, and the docs told the office to map
// the artefacts to its agency by hand.
func TestSDMXAgency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		w.S.Agency = "UNODC.XA_NSO"
		if r := w.Upload(t, "/api/v1/stats/imports?source=few.csv", w.Token, "text/csv", []byte("iccs,stage,unit,date,count\n0101,police,offence,2025,12\n")); r.Status != http.StatusCreated {
			t.Fatalf("import: %d %s", r.Status, r.Raw)
		}
		st := w.Do(t, "GET", "/api/v1/stats/sdmx/structure", "", nil)
		agencies := map[string]int{}
		dec := xml.NewDecoder(bytes.NewReader(st.Raw))
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			if se, ok := tok.(xml.StartElement); ok {
				for _, a := range se.Attr {
					if a.Name.Local == "agencyID" || se.Name.Local == "Sender" && a.Name.Local == "id" {
						agencies[a.Value]++
					}
				}
			}
		}
		if len(agencies) != 1 || agencies["UNODC.XA_NSO"] < 20 {
			t.Fatalf("the structure's agencies: %v; want UNODC.XA_NSO alone", agencies)
		}
		var s sdmxStructure
		if err := xml.Unmarshal(st.Raw, &s); err != nil || len(s.Dataflows) != 1 {
			t.Fatalf("structure: %v", err)
		}
		flow := s.Dataflows[0].Agency + ":" + s.Dataflows[0].ID + "(" + s.Dataflows[0].Version + ")"
		r := w.Do(t, "GET", "/api/v1/stats/sdmx?stage=police&unit=offence&level=1", w.Token, nil)
		lines, err := csv.NewReader(bytes.NewReader(r.Raw)).ReadAll()
		if r.Status != http.StatusOK || err != nil || len(lines) < 2 {
			t.Fatalf("SDMX-CSV: %d %v %s", r.Status, err, r.Raw)
		}
		for _, l := range lines[1:] {
			if l[1] != flow || flow != "UNODC.XA_NSO:ICCS_STATS(1.0)" {
				t.Fatalf("STRUCTURE_ID %s; the structure's dataflow %s", l[1], flow)
			}
		}
	})
	for _, id := range []string{"", "XA NSO", "1NSO", "XA.", "XA:NSO", strings.Repeat("A", 65)} {
		if stats.CheckSDMXAgency(id) == nil {
			t.Errorf("agency id %q allowed", id)
		}
	}
	for _, id := range []string{"CUSTOS", "XA_NSO", "UNODC.XA-NSO"} {
		if err := stats.CheckSDMXAgency(id); err != nil {
			t.Errorf("agency id %q: %v", id, err)
		}
	}
}
