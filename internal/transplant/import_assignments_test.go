package transplant_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestImportAssignmentHistory has a registry receive organs from abroad; a
// regulator assigns the one no centre holds to centre A, moves it to centre
// B and back to A, and moves the one the origin sent to centre A to centre
// B; a refused reassignment in between. On SQLite and PostgreSQL: the
// import's JSON, for a coordinator too, lists each assignment, oldest
// first, with the centre before, the reason, when, by whom and its log
// entry; the organ transplanted, never assigned, lists none; log verify's
// replay agrees; and migration 23's step, run on the table emptied, writes
// the same rows from the log.
func TestImportAssignmentHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		reg := w.Principal(t, w.Regulator)
		path := func(organ, what string) string { return "/api/v1/transplant/imports/" + organ + what }
		first, second := "Synthetic: centre B has the theatre free.", "Synthetic: back to centre A, the recipient moved."
		var idx []int64
		step := func(want int, organ, what string, body map[string]any) {
			t.Helper()
			w.Must(t, want, "POST", path(organ, what), w.Regulator, body)
			idx = append(idx, int64(w.LogSize(t)-1))
		}
		step(201, im.Unnamed, "/assignment", map[string]any{"centre_id": w.CentreA})
		step(201, im.Unnamed, "/reassignment", map[string]any{"centre_id": w.CentreB, "reason": first})
		size := w.LogSize(t)
		w.Must(t, 409, "POST", path(im.Unnamed, "/reassignment"), w.Regulator, map[string]any{"centre_id": w.CentreB, "reason": first})
		if w.LogSize(t) != size {
			t.Fatalf("a refused reassignment wrote to the log")
		}
		step(201, im.Unnamed, "/reassignment", map[string]any{"centre_id": w.CentreA, "reason": second})
		step(201, im.Named, "/reassignment", map[string]any{"centre_id": w.CentreB, "reason": first})

		history := func(organ string) []transplant.ImportAssignment {
			t.Helper()
			r := w.Must(t, 200, "GET", path(organ, ""), w.CoordB, nil)
			var got transplant.Import
			if err := json.Unmarshal(r.Raw, &got); err != nil {
				t.Fatal(err)
			}
			for i, a := range got.Assignments {
				if a.AssignedAt == "" {
					t.Errorf("assignment %d of %s has no time: %+v", i, organ, a)
				}
				got.Assignments[i].AssignedAt = ""
			}
			return got.Assignments
		}
		want := map[string][]transplant.ImportAssignment{
			im.Unnamed: {
				{CentreID: w.CentreA, AssignedBy: reg.ID, LogIndex: idx[0]},
				{CentreID: w.CentreB, From: w.CentreA, Reason: first, AssignedBy: reg.ID, LogIndex: idx[1]},
				{CentreID: w.CentreA, From: w.CentreB, Reason: second, AssignedBy: reg.ID, LogIndex: idx[2]},
			},
			im.Named: {{CentreID: w.CentreB, From: w.CentreA, Reason: first, AssignedBy: reg.ID, LogIndex: idx[3]}},
			im.Held:  nil,
		}
		for organ, h := range want {
			if got := history(organ); !slices.Equal(got, h) {
				t.Errorf("the assignments of %s: %+v, want %+v", organ, got, h)
			}
		}
		if tr := w.Must(t, 200, "GET", "/api/v1/transplant/trace/organs/"+im.Unnamed, w.CoordA, nil); !json.Valid(tr.Raw) || len(tr.Body["imported"].([]any)[0].(map[string]any)["assignments"].([]any)) != 3 {
			t.Errorf("the organ's trace lacks its 3 assignments: %s", tr.Raw)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Errorf("log verify after the reassignments: %+v", rep)
		}

		// Migration 23's step writes the same rows from the log.
		dump := func() []string {
			t.Helper()
			rows, err := w.App.DB.Read().Query(ctx, `SELECT organ_id, log_index, centre_id, COALESCE(from_centre, '-'), reason, assigned_at, assigned_by
				FROM organ_import_assignments ORDER BY organ_id, log_index`)
			if err != nil {
				t.Fatal(err)
			}
			out, err := store.Rows(rows, func(r store.Scanner, s *string) error {
				var x [7]string
				err := r.Scan(&x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &x[6])
				b, _ := json.Marshal(x)
				*s = string(b)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		projected := dump()
		if len(projected) != 4 {
			t.Fatalf("organ_import_assignments holds %d rows, want 4: %v", len(projected), projected)
		}
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM organ_import_assignments"); err != nil {
			t.Fatal(err)
		}
		if err := transplant.Module.SchemaSteps[23](ctx, tx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := dump(); !slices.Equal(got, projected) {
			t.Errorf("migration 23's step wrote %v, want what the projector wrote, %v", got, projected)
		}
		if rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey}); err != nil || !rep.OK() {
			t.Errorf("log verify after migration 23's step: %+v, %v", rep, err)
		}
	})
}
