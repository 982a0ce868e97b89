package transplant_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestCheckPersonNames checks the name index against the sealed data on
// both engines: it matches as registered, and a row deleted, or changed to
// another person's, behind custos's back is named by its record.
func TestCheckPersonNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		a := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "liver"))
		svc := w.App.Transplant
		n, problems, err := svc.CheckPersonNames(ctx)
		if err != nil || len(problems) != 0 || n < 2 {
			t.Fatalf("as registered: %d checked, %q, %v", n, problems, err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := w.App.DB.Read().Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		var other string
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT name_dob FROM person_names WHERE record_id <> ? LIMIT 1", a).Scan(&other); err != nil {
			t.Fatal(err)
		}
		exec("UPDATE person_names SET name_dob = ? WHERE record_id = ?", other, a)
		if _, problems, err := svc.CheckPersonNames(ctx); err != nil || len(problems) != 1 || problems[0].Record != a || problems[0].Kind != transplant.IndexDiffers ||
			!strings.HasSuffix(problems[0].String(), "the name index row is not the one its sealed name and date of birth make") {
			t.Errorf("a row changed to another person's: %q, %v", problems, err)
		}
		exec("DELETE FROM person_names WHERE record_id = ?", a)
		if _, problems, err := svc.CheckPersonNames(ctx); err != nil || len(problems) != 1 || problems[0].Record != a || problems[0].Kind != transplant.IndexMissing ||
			!strings.Contains(problems[0].String(), "the name index row is missing") {
			t.Errorf("a row deleted: %q, %v", problems, err)
		}
	})
}

// TestRepairPersonNames repairs the name index from the sealed data on both
// engines: a row deleted, one changed and one of no subject are set right
// in one log entry naming the subjects; Find a person finds the person
// again; an administrator's only; a second repair finds nothing to do.
func TestRepairPersonNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		in := apptest.Recipient(w.CentreA, "kidney")
		a := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, in).Str("id")
		b := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "liver")).Str("id")
		svc := w.App.Transplant
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := w.App.DB.Read().Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		row := func(record string) string {
			var ix string
			if err := w.App.DB.Read().QueryRow(ctx, "SELECT name_dob FROM person_names WHERE record_id = ?", record).Scan(&ix); err != nil {
				return "none: " + err.Error()
			}
			return ix
		}
		wantA, wantB := row(a), row(b)
		found := func() int {
			r := w.Must(t, 200, "POST", "/api/v1/transplant/persons/search", w.CoordA,
				map[string]any{"name": in["name"], "date_of_birth": in["date_of_birth"], "purpose": "test"})
			return len(r.Body["matches"].([]any))
		}
		if n := found(); n != 1 {
			t.Fatalf("Find a person as registered: %d matches", n)
		}
		var ref string // b's subject, which the log entry names
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT subject_ref FROM recipients WHERE id = ?", b).Scan(&ref); err != nil {
			t.Fatal(err)
		}
		exec("DELETE FROM person_names WHERE record_id = ?", a)
		exec("UPDATE person_names SET name_dob = 'x' WHERE record_id = ?", b)
		_, problems, err := svc.CheckPersonNames(ctx)
		if err != nil || len(problems) != 2 {
			t.Fatalf("before the repair: %v %v", problems, err)
		}
		if n := found(); n != 0 {
			t.Fatalf("Find a person with the row deleted: %d matches", n)
		}
		if _, err := svc.RepairPersonNames(ctx, w.Principal(t, w.CoordA), problems); err == nil {
			t.Error("a coordinator repaired the name index")
		}
		size := w.LogSize(t)
		rep, err := svc.RepairPersonNames(ctx, w.Principal(t, w.Admin), problems)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]string{}
		for _, r := range rep.Repaired {
			kinds[r.Record] = r.Kind
		}
		if len(rep.Repaired) != 2 || kinds[a] != transplant.IndexMissing || kinds[b] != transplant.IndexDiffers {
			t.Errorf("repaired: %+v", rep.Repaired)
		}
		if got := w.LogSize(t); got != size+1 {
			t.Errorf("the repair added %d log entries, want 1", got-size)
		}
		data := w.Must(t, 200, "GET", "/api/v1/log/entries/"+strconv.Itoa(size), w.Admin, nil).Str("data")
		if !strings.Contains(data, `"type":"`+transplant.TypeNameIndexRepaired+`"`) || !strings.Contains(data, ref) || strings.Contains(data, "Test Recipient") {
			t.Errorf("the repair's entry: %s", data)
		}
		if row(a) != wantA || row(b) != wantB {
			t.Errorf("rows after the repair: %q %q, want %q %q", row(a), row(b), wantA, wantB)
		}
		if n, problems, err := svc.CheckPersonNames(ctx); err != nil || len(problems) != 0 || n < 2 {
			t.Errorf("after the repair: %v %v", problems, err)
		}
		if n := found(); n != 1 {
			t.Errorf("Find a person after the repair: %d matches", n)
		}
		size = w.LogSize(t)
		if _, err := svc.RepairPersonNames(ctx, w.Principal(t, w.Admin), problems); err == nil || !strings.Contains(err.Error(), "nothing to repair") {
			t.Errorf("a second repair: %v", err)
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("the second repair changed the log: %d entries after, want %d", got, size)
		}
	})
}
