package transplant_test

import (
	"context"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
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
		if _, problems, err := svc.CheckPersonNames(ctx); err != nil || len(problems) != 1 ||
			!strings.HasPrefix(problems[0], a+" (subject ") || !strings.HasSuffix(problems[0], "the name index row is not the one its sealed name and date of birth make") {
			t.Errorf("a row changed to another person's: %q, %v", problems, err)
		}
		exec("DELETE FROM person_names WHERE record_id = ?", a)
		if _, problems, err := svc.CheckPersonNames(ctx); err != nil || len(problems) != 1 || !strings.Contains(problems[0], a+" (subject ") ||
			!strings.Contains(problems[0], "the name index row is missing") {
			t.Errorf("a row deleted: %q, %v", problems, err)
		}
	})
}
