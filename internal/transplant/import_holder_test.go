package transplant_test

import (
	"context"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestMigration22ResolvesHolders has a registry receive organs from abroad
// (sent to centre A by its identifier, by its name, and to no centre), then
// a second centre named as centre A, and another organ sent to that name;
// empties the columns migration 22 adds and runs its statements that fill
// them, and checks on SQLite and PostgreSQL that they fill them as the
// projector did, the centre registered after the organs received left out,
// and that log verify's replay agrees.
func TestMigration22ResolvesHolders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		twin := w.Must(t, 201, "POST", "/api/v1/transplant/centres", w.Admin, map[string]any{"name": "Centre A", "city": "Elsewhere"}).Str("id")
		later := im.Send(t, w, "Centre A", "kidney")[0]
		named := im.Send(t, w, twin, "kidney")[0]
		db := w.App.DB.Read()
		read := func() map[string][2]string {
			t.Helper()
			rows, err := db.Query(ctx, "SELECT organ_id, COALESCE(destination_centre_id, ''), COALESCE(received_at, '') FROM organ_imports")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][2]string{}
			if _, err := store.Rows(rows, func(r store.Scanner, _ *struct{}) error {
				var id string
				var x [2]string
				err := r.Scan(&id, &x[0], &x[1])
				got[id] = x
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return got
		}
		projected := read()
		for organ, want := range map[string]string{im.Held: w.CentreA, im.Named: w.CentreA, im.Unnamed: "", later: "", named: twin} {
			if x := projected[organ]; x[0] != want || x[1] == "" {
				t.Errorf("organ %s projected with %q, want destination_centre_id %q and a received_at", organ, x, want)
			}
		}

		if _, err := db.Exec(ctx, "UPDATE organ_imports SET destination_centre_id = NULL, received_at = NULL"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile("schema/022_import_holder.sql")
		if err != nil {
			t.Fatal(err)
		}
		var code []string
		for l := range strings.Lines(string(b)) {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				code = append(code, l)
			}
		}
		n := 0
		for _, stmt := range strings.Split(strings.Join(code, ""), ";") {
			if stmt = strings.TrimSpace(stmt); strings.HasPrefix(stmt, "UPDATE") {
				if _, err := db.Exec(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
				n++
			}
		}
		if n != 2 {
			t.Fatalf("ran %d statements of migration 22, want its 2 UPDATEs", n)
		}
		if got := read(); !maps.Equal(got, projected) {
			t.Errorf("migration 22 filled %v, want what the projector wrote, %v", got, projected)
		}
		if rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey}); err != nil || !rep.OK() {
			t.Errorf("log verify after migration 22's statements: %+v, %v", rep, err)
		}
	})
}
