package assets_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/storetest"
)

// TestBODSDatesAhead: a statement dated more than a day after its import
// (statementDate, as a date or a date-time; publicationDetails
// publicationDate; an interest's startDate) refuses the file with rule
// dates_in_order, naming the statement's path and not the date, and
// nothing is stored or logged. Dated the next day (a source's day may
// begin before UTC's) it is imported, and an interest may end years
// ahead (endDate). On SQLite and PostgreSQL.
func TestBODSDatesAhead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, b, _ := newRefusalWorld(t, dsn, "ahead")
		today := time.Now().UTC()
		day := func(days int) string { return today.AddDate(0, 0, days).Format("2006-01-02") }
		edit := func(stmt []byte, f func(s map[string]any)) []byte {
			t.Helper()
			var s map[string]any
			if err := json.Unmarshal(stmt, &s); err != nil {
				t.Fatal(err)
			}
			f(s)
			out, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		interest := func(s map[string]any) map[string]any {
			return s["recordDetails"].(map[string]any)["interests"].([]any)[0].(map[string]any)
		}
		dated := func(date string) func(s map[string]any) { return func(s map[string]any) { s["statementDate"] = date } }
		published := func(date string) func(s map[string]any) {
			return func(s map[string]any) { s["publicationDetails"].(map[string]any)["publicationDate"] = date }
		}
		started := func(date string) func(s map[string]any) {
			return func(s map[string]any) { interest(s)["startDate"] = date }
		}
		ended := func(date string) func(s map[string]any) {
			return func(s map[string]any) { interest(s)["endDate"] = date }
		}
		statements, leaves := w.count(t, "assets_bods_statements"), w.count(t, "log_leaves")
		for _, c := range []struct {
			name, field string
			file        []byte
		}{
			{"a statement dated in two days", "statements[1].statementDate",
				lines(b.Person("P1", "P", ""), edit(b.Entity("E1", "Beta", "", ""), dated(day(2))))},
			{"a statement dated 2062 as a date-time", "statements[1].statementDate",
				lines(b.Person("P1", "P", ""), edit(b.Entity("E1", "Beta", "", ""), dated("2062-03-01T10:00:00Z")))},
			{"a person statement published in two days", "statements[0].publicationDetails.publicationDate",
				lines(edit(b.Person("P1", "P", ""), published(day(2))))},
			{"an interest begun in two days", "statements[1].recordDetails.interests[0].startDate",
				lines(b.Person("P1", "P", ""), edit(b.Relationship("R1", "A", "P1", []float64{30}, ""), started(day(2))))},
		} {
			r := w.Do(t, "POST", "/api/v1/assets/bods/imports", w.Officer, c.file)
			if r.Status != 422 || r.Str("error.rule") != "dates_in_order" || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want 422 dates_in_order on %s", c.name, r.Status, r.Raw, c.field)
			}
		}
		if n := w.count(t, "assets_bods_statements"); n != statements {
			t.Errorf("%d statements stored after the refusals, want %d", n, statements)
		}
		if n := w.count(t, "log_leaves"); n != leaves {
			t.Errorf("%d log entries after the refusals, want %d", n, leaves)
		}
		tomorrow := lines(edit(b.Person("P1", "P", ""), published(day(1))), edit(b.Entity("E1", "Beta", "", ""), dated(day(1))),
			edit(b.Relationship("R1", "A", "P1", []float64{30}, ""), func(s map[string]any) { started(day(1))(s); ended("2040-01-01")(s) }))
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports", w.Officer, tomorrow)
		if n := w.count(t, "assets_bods_statements"); n != statements+3 {
			t.Errorf("%d statements stored after a file dated tomorrow, want %d", n, statements+3)
		}
	})
}
