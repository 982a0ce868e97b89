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
// entry, starting with the centre the origin named (by_origin, at the
// characterization's entry) for the organs sent to one; the organ
// transplanted, never assigned, lists only that one; log verify's replay
// agrees; and migrations 23 and 24's steps, run on the table emptied (and
// the imports' blood groups), write the same rows from the log.
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
		// The organs the origin sent to centre A start their history
		// there, at the entry that recorded their characterization, by
		// the registry itself (no principal).
		characterized := map[string]int64{}
		if err := ledger.EntriesOf(ctx, w.App.DB.Read(), transplant.TypeMessageApplied, func(idx int64, e *ledger.Entry) error {
			var d struct {
				Characterization *transplant.Characterization `json:"characterization"`
			}
			if err := json.Unmarshal(e.Data, &d); err != nil || d.Characterization == nil {
				return err
			}
			characterized[d.Characterization.OrganID] = idx
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		origin := func(organ string) transplant.ImportAssignment {
			if characterized[organ] == 0 {
				t.Fatalf("no characterization of %s in the log", organ)
			}
			return transplant.ImportAssignment{CentreID: w.CentreA, ByOrigin: true, LogIndex: characterized[organ]}
		}
		want := map[string][]transplant.ImportAssignment{
			im.Unnamed: {
				{CentreID: w.CentreA, AssignedBy: reg.ID, LogIndex: idx[0]},
				{CentreID: w.CentreB, From: w.CentreA, Reason: first, AssignedBy: reg.ID, LogIndex: idx[1]},
				{CentreID: w.CentreA, From: w.CentreB, Reason: second, AssignedBy: reg.ID, LogIndex: idx[2]},
			},
			im.Named: {origin(im.Named), {CentreID: w.CentreB, From: w.CentreA, Reason: first, AssignedBy: reg.ID, LogIndex: idx[3]}},
			im.Held:  {origin(im.Held)},
		}
		for organ, h := range want {
			if got := history(organ); !slices.Equal(got, h) {
				t.Errorf("the assignments of %s: %+v, want %+v", organ, got, h)
			}
		}
		// The first holder's time is when the characterization was
		// recorded.
		if named, err := w.App.Transplant.Import(ctx, reg, im.Named); err != nil || named.Assignments[0].AssignedAt != named.CharacterizedAt {
			t.Errorf("the first holder of %s: %+v, %v; want it at the characterization's time", im.Named, named, err)
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
			rows, err := w.App.DB.Read().Query(ctx, `SELECT organ_id, log_index, centre_id, COALESCE(from_centre, '-'), reason, assigned_at, assigned_by, by_origin
				FROM organ_import_assignments ORDER BY organ_id, log_index`)
			if err != nil {
				t.Fatal(err)
			}
			out, err := store.Rows(rows, func(r store.Scanner, s *string) error {
				var x [8]string
				err := r.Scan(&x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &x[6], &x[7])
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
		if len(projected) != 6 {
			t.Fatalf("organ_import_assignments holds %d rows, want 6: %v", len(projected), projected)
		}
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM organ_import_assignments"); err != nil {
			t.Fatal(err)
		}
		// Migration 24's step, run after it as a migration runs them,
		// writes the first holders, and the blood groups, emptied too.
		if _, err := tx.Exec(ctx, "UPDATE organ_imports SET blood_group = NULL"); err != nil {
			t.Fatal(err)
		}
		for _, v := range []int{23, 24} {
			if err := transplant.Module.SchemaSteps[v](ctx, tx); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := dump(); !slices.Equal(got, projected) {
			t.Errorf("migrations 23 and 24's steps wrote %v, want what the projector wrote, %v", got, projected)
		}
		var groups int
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM organ_imports WHERE blood_group = 'O'").Scan(&groups); err != nil || groups != 3 {
			t.Errorf("migration 24's step wrote the blood group of %d imports (%v), want 3", groups, err)
		}
		if rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey}); err != nil || !rep.OK() {
			t.Errorf("log verify after migrations 23 and 24's steps: %+v, %v", rep, err)
		}
	})
}
