package httpapi_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// unodcCase is one case of the generated dataset: its assessment.
type unodcCase map[string]string

// generatedCases are 30 confirmed cases over three years, spread so that
// each table of the return has cells of 5 and more, cells of 1 to 4 and
// zeros; 2023 has four cases only, so its total is small.
func generatedCases() []unodcCase {
	var out []unodcCase
	for i := range 30 {
		year := "2025"
		switch {
		case i < 14:
			year = "2024"
		case i >= 26:
			year = "2023"
		}
		organ := "kidney"
		if i%6 == 5 {
			organ = "liver"
		}
		if i == 29 {
			organ = transplant.Unknown
		}
		dn := []string{"XB", "XC", transplant.Unknown}[i%3]
		if i == 7 {
			dn = "XD"
		}
		ds, rs := "male", "male"
		if i%4 == 0 {
			ds = "female"
		}
		if i%5 == 0 {
			rs = "female"
		}
		rn := "XA"
		if i%2 == 1 {
			rn = "XE"
		}
		out = append(out, unodcCase{"year": year, "organ": organ, "donor_nationality": dn, "donor_sex": ds,
			"donor_age_band": transplant.AgeBands[(i/3)%3+1], "recipient_nationality": rn, "recipient_sex": rs,
			"recipient_age_band": transplant.AgeBands[3+i%4]})
	}
	return out
}

func (c unodcCase) body(conclusion string) map[string]any {
	y, _ := strconv.Atoi(c["year"])
	return map[string]any{"conclusion": conclusion, "year": y, "organ": c["organ"],
		"donor":     map[string]any{"nationality": c["donor_nationality"], "sex": c["donor_sex"], "age_band": c["donor_age_band"]},
		"recipient": map[string]any{"nationality": c["recipient_nationality"], "sex": c["recipient_sex"], "age_band": c["recipient_age_band"]}}
}

// TestUNODCReturn records the designated authority's assessments of a
// generated set of reports (refusals first: each names its rule and field
// and writes nothing) and checks every line of the UNODC return, in CSV and
// XLSX: each count is the dataset's, none from 1 to 4 is published, each
// table's rows and columns with a suppressed cell have at least two, the
// small year is suppressed in every table, and only confirmed cases of
// reports not closed as unfounded are counted.
func TestUNODCReturn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newTraffickingWorld(t, dsn)
		base := "/api/v1/transplant/trafficking"
		file := func() string {
			return w.Must(t, 201, "POST", base+"/reports", w.CoordA, map[string]any{"indicators": []string{"finance.payment_to_donor"},
				"text": "Synthetic report for the UNODC return test."}).Str("reference")
		}
		move := func(ref, status string) {
			w.Must(t, 200, "POST", base+"/reports/"+ref+"/status", w.Assessor, map[string]any{"status": status})
		}
		cases := generatedCases()

		// Refusals.
		received := file()
		assessed := file()
		move(assessed, transplant.TraffickingUnderAssessment)
		size := len(leavesFrom(t, w.World, 0))
		for _, c := range []struct {
			name, token, ref string
			edit             func(map[string]any)
			status           int
			rule, field      string
		}{
			{"a conclusion not in the list", w.Assessor, assessed, func(b map[string]any) { b["conclusion"] = "likely" }, 422, "enum", "conclusion"},
			{"an organ not in the list", w.Assessor, assessed, func(b map[string]any) { b["organ"] = "cornea" }, 422, "enum", "organ"},
			{"a nationality that is not a code", w.Assessor, assessed, func(b map[string]any) { b["donor"].(map[string]any)["nationality"] = "France" }, 422, "iso3166", "donor.nationality"},
			{"a nationality ZZ, not unknown", w.Assessor, assessed, func(b map[string]any) { b["recipient"].(map[string]any)["nationality"] = " zz" }, 422, "known_state", "recipient.nationality"},
			{"a sex not in the list", w.Assessor, assessed, func(b map[string]any) { b["recipient"].(map[string]any)["sex"] = "f" }, 422, "enum", "recipient.sex"},
			{"an age, not a band", w.Assessor, assessed, func(b map[string]any) { b["donor"].(map[string]any)["age_band"] = "31" }, 422, "enum", "donor.age_band"},
			{"a year before 1990", w.Assessor, assessed, func(b map[string]any) { b["year"] = 1989 }, 422, "range", "year"},
			{"a year to come", w.Assessor, assessed, func(b map[string]any) { b["year"] = 2999 }, 422, "range", "year"},
			{"a report not under assessment", w.Assessor, received, nil, 409, "assessment_status", "status"},
			{"an unknown report", w.Assessor, "TR-NOSUCH", nil, 404, "reference", "id"},
			{"a coordinator", w.CoordA, assessed, nil, 403, "role", ""},
			{"the regulator", w.Regulator, assessed, nil, 403, "role", ""},
		} {
			b := cases[0].body(transplant.AssessmentConfirmed)
			if c.edit != nil {
				c.edit(b)
			}
			r := w.Do(t, "POST", base+"/assessments/"+c.ref, c.token, b)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: got %d %s/%s, want %d %s/%s", c.name, r.Status, r.Str("error.rule"), r.Str("error.field"), c.status, c.rule, c.field)
			}
		}
		if got := len(leavesFrom(t, w.World, 0)); got != size {
			t.Fatalf("the refusals wrote %d leaves", got-size)
		}

		// A confirmed case is not closed as unfounded; assessed again as not
		// confirmed, it may be, and is not counted.
		w.Must(t, 200, "POST", base+"/assessments/"+assessed, w.Assessor, cases[0].body(transplant.AssessmentConfirmed))
		r := w.Do(t, "POST", base+"/reports/"+assessed+"/status", w.Assessor, map[string]any{"status": transplant.TraffickingUnfounded})
		if r.Status != 409 || r.Str("error.rule") != "assessment_confirmed" || r.Str("error.field") != "status" {
			t.Fatalf("closing a confirmed case as unfounded: %d %s", r.Status, r.Raw)
		}
		got := w.Must(t, 200, "POST", base+"/assessments/"+assessed, w.Assessor, cases[0].body(transplant.AssessmentNotConfirmed))
		if got.Str("conclusion") != transplant.AssessmentNotConfirmed || got.Str("assessed_at") == "" {
			t.Fatalf("the assessment recorded again reads %s", got.Raw)
		}
		move(assessed, transplant.TraffickingUnfounded)
		// Cases that are not confirmed are not counted either.
		for _, conclusion := range []string{transplant.AssessmentNotConfirmed, transplant.AssessmentInconclusive} {
			ref := file()
			move(ref, transplant.TraffickingUnderAssessment)
			w.Must(t, 200, "POST", base+"/assessments/"+ref, w.Assessor, cases[1].body(conclusion))
		}
		for i, c := range cases {
			ref := file()
			move(ref, transplant.TraffickingUnderAssessment)
			if i%2 == 0 {
				move(ref, transplant.TraffickingReferred)
			}
			w.Must(t, 200, "POST", base+"/assessments/"+ref, w.Assessor, c.body(transplant.AssessmentConfirmed))
		}
		a := w.Must(t, 200, "GET", base+"/assessments/"+assessed, w.Assessor, nil)
		if a.Str("conclusion") != transplant.AssessmentNotConfirmed {
			t.Errorf("GET assessment: %s", a.Raw)
		}

		// Who may export, and how.
		for _, c := range []struct {
			name, token, query string
			status             int
			rule, field        string
		}{
			{"a coordinator", w.CoordA, "?format=csv", 403, "role", ""},
			{"an auditor", w.Auditor, "?format=csv", 403, "role", ""},
			{"no format", w.Regulator, "", 422, "format", "format"},
			{"a filter", w.Regulator, "?format=csv&year=2024", 422, "query", "year"},
		} {
			r := w.Do(t, "GET", base+"/unodc"+c.query, c.token, nil)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("export by %s: got %d %s/%s, want %d %s/%s", c.name, r.Status, r.Str("error.rule"), r.Str("error.field"), c.status, c.rule, c.field)
			}
		}

		// The expected counts, by breakdown, year and category ("total" for
		// the totals).
		want := map[string]map[string]map[string]int{}
		cats := map[string][]string{}
		years := []string{"2023", "2024", "2025"}
		for _, b := range transplant.UNODCBreakdowns {
			want[b] = map[string]map[string]int{"total": {}}
			for _, y := range years {
				want[b][y] = map[string]int{}
			}
			for _, c := range cases {
				for _, y := range []string{c["year"], "total"} {
					want[b][y][c[b]]++
					want[b][y]["total"]++
				}
			}
		}
		cats["organ"] = transplant.CaseOrgans
		for _, b := range []string{"donor_sex", "recipient_sex"} {
			cats[b] = transplant.Sexes
		}
		for _, b := range []string{"donor_age_band", "recipient_age_band"} {
			cats[b] = transplant.AgeBands
		}
		cats["donor_nationality"] = []string{"XB", "XC", "XD", transplant.Unknown}
		cats["recipient_nationality"] = []string{"XA", "XE", transplant.Unknown}

		for _, format := range []string{"csv", "xlsx"} {
			status, _, raw := download(t, w.Env, w.Regulator, base+"/unodc?format="+format)
			if status != 200 {
				t.Fatalf("the %s return: %d %s", format, status, raw)
			}
			var e exported
			if format == "csv" {
				e = readCSV(t, raw)
			} else {
				e = readXLSX(t, raw, transplant.ListUNODC)
			}
			if !slices.Equal(e.columns, transplant.UNODCColumns) {
				t.Fatalf("the %s return's columns are %v", format, e.columns)
			}
			// Every line, in order: each year's categories and total, then
			// the categories' totals and the table's.
			var lines []string
			for _, b := range transplant.UNODCBreakdowns {
				for _, y := range append(slices.Clone(years), "total") {
					for _, c := range append(slices.Clone(cats[b]), "total") {
						lines = append(lines, b+"|"+y+"|"+c)
					}
				}
			}
			if len(e.rows) != len(lines) {
				t.Fatalf("the %s return has %d lines, want %d", format, len(e.rows), len(lines))
			}
			suppressed := map[string]int{} // by breakdown|year and breakdown|category: suppressed cells of the line
			x := 0
			for i, row := range e.rows {
				if key := row[0] + "|" + row[1] + "|" + row[2]; key != lines[i] {
					t.Fatalf("%s line %d is %s, want %s", format, i, key, lines[i])
				}
				v := want[row[0]][row[1]][row[2]]
				if row[3] == "x" {
					x++
					suppressed[row[0]+"|y"+row[1]]++
					suppressed[row[0]+"|c"+row[2]]++
					continue
				}
				if row[3] != strconv.Itoa(v) {
					t.Errorf("%s %v: published %s, the dataset counts %d", format, row, row[3], v)
				}
				if v > 0 && v < 5 {
					t.Errorf("%s %v: a count of %d is published, under the threshold 5", format, row, v)
				}
			}
			for k, n := range suppressed {
				if n == 1 {
					t.Errorf("%s: %s has one suppressed cell only: it is the difference of the others", format, k)
				}
			}
			if x == 0 {
				t.Errorf("the %s return suppresses nothing", format)
			}
			for _, b := range transplant.UNODCBreakdowns {
				if want[b]["2023"]["total"] != 4 {
					t.Fatalf("the dataset has %d cases in 2023, want 4", want[b]["2023"]["total"])
				}
			}
			for i, row := range e.rows {
				if row[1] == "2023" && row[2] == "total" && row[3] != "x" {
					t.Errorf("%s line %d: 2023's total of 4 cases is published as %s", format, i, row[3])
				}
			}
			if format == "csv" && e.header["list"] != transplant.ListUNODC {
				t.Errorf("the CSV's header names list %q", e.header["list"])
			}
		}
	})
}
