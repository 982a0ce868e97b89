package transplant_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestImportsCarryAssignmentsEverywhere: on SQLite and PostgreSQL, once a
// regulator moves an organ from abroad, the import read alone, the list of
// imports, the organ's trace and its recipient's trace (of the organ
// transplanted) carry the same assignments, oldest first, starting with
// the centre the origin named; the organ no centre ever held has none
// anywhere; and the JSON of each assignment holds centres, times, a
// principal and a log index, nothing else.
func TestImportsCarryAssignmentsEverywhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.Named+"/reassignment", w.Regulator,
			map[string]any{"centre_id": w.CentreB, "reason": "Synthetic: centre B has the theatre free."})

		assignments := func(raw json.RawMessage) []transplant.ImportAssignment {
			t.Helper()
			var im transplant.Import
			if err := json.Unmarshal(raw, &im); err != nil {
				t.Fatal(err)
			}
			return im.Assignments
		}
		alone := map[string][]transplant.ImportAssignment{}
		for _, organ := range []string{im.Held, im.Named, im.Unnamed} {
			alone[organ] = assignments(w.Must(t, 200, "GET", "/api/v1/transplant/imports/"+organ, w.CoordB, nil).Raw)
		}
		if len(alone[im.Held]) != 1 || !alone[im.Held][0].ByOrigin || len(alone[im.Named]) != 2 || !alone[im.Named][0].ByOrigin ||
			alone[im.Named][1].From != w.CentreA || alone[im.Named][1].CentreID != w.CentreB || alone[im.Unnamed] != nil {
			t.Fatalf("the imports read alone: %+v, want centre A named by the origin for %s and %s, then centre B for %s, none for %s",
				alone, im.Held, im.Named, im.Named, im.Unnamed)
		}

		var list struct{ Imports []json.RawMessage }
		if err := json.Unmarshal(w.Must(t, 200, "GET", "/api/v1/transplant/imports", w.CoordA, nil).Raw, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Imports) != 3 {
			t.Fatalf("the list of imports holds %d, want 3", len(list.Imports))
		}
		for _, raw := range list.Imports {
			var id struct {
				OrganID string `json:"organ_id"`
			}
			if err := json.Unmarshal(raw, &id); err != nil {
				t.Fatal(err)
			}
			if got := assignments(raw); !slices.Equal(got, alone[id.OrganID]) {
				t.Errorf("the list's assignments of %s: %+v, want those of the import read alone, %+v", id.OrganID, got, alone[id.OrganID])
			}
		}

		for what, path := range map[string]string{
			"the organ's trace":        "/api/v1/transplant/trace/organs/" + im.Named,
			"the transplanted organ's": "/api/v1/transplant/trace/organs/" + im.Held,
			"its recipient's trace":    "/api/v1/transplant/trace/recipients/" + im.Recipient,
		} {
			var tr struct{ Imported []json.RawMessage }
			if err := json.Unmarshal(w.Must(t, 200, "GET", path, w.CoordA, nil).Raw, &tr); err != nil {
				t.Fatal(err)
			}
			if len(tr.Imported) != 1 {
				t.Fatalf("%s: %d imported, want 1", what, len(tr.Imported))
			}
			var id struct {
				OrganID string `json:"organ_id"`
			}
			if err := json.Unmarshal(tr.Imported[0], &id); err != nil {
				t.Fatal(err)
			}
			if got := assignments(tr.Imported[0]); len(got) == 0 || !slices.Equal(got, alone[id.OrganID]) {
				t.Errorf("%s: the assignments of %s %+v, want those of the import read alone, %+v", what, id.OrganID, got, alone[id.OrganID])
			}
			// Centres, times, a principal, a reason, a log index: the
			// keys of an assignment, none of a person.
			var raw struct {
				Assignments []map[string]any `json:"assignments"`
			}
			if err := json.Unmarshal(tr.Imported[0], &raw); err != nil {
				t.Fatal(err)
			}
			for _, a := range raw.Assignments {
				for k := range a {
					if !slices.Contains([]string{"centre_id", "from", "reason", "by_origin", "assigned_at", "assigned_by", "log_index"}, k) {
						t.Errorf("%s: an assignment carries %q: %v", what, k, a)
					}
				}
			}
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Errorf("log verify: %+v", rep)
		}
	})
}

// TestAwaitingImportsByBloodGroup: on SQLite and PostgreSQL, organs from
// abroad of donors of groups O, A and AB, held by centre A past the
// disposition deadline, are filtered by their donor's blood group exactly
// (A is not AB, nor a), and a group not in the list is refused naming the
// rule and the field, in the API and the page.
func TestAwaitingImportsByBloodGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		var ahead atomic.Int64
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) {
			c.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
		})
		im := apptest.ImportedOrgans(t, w, dsn) // O, the one held with no outcome: im.Named
		of := func(group string) string {
			d := apptest.DeceasedDonor(im.Origin.CentreA)
			d["blood_group"] = group
			return im.SendOf(t, w, d, w.CentreA, "kidney")[0]
		}
		a, ab := of("A"), of("AB")
		ahead.Store(int64(4 * 24 * time.Hour))

		awaiting := func(group string) []string {
			t.Helper()
			r := w.Must(t, 200, "GET", "/api/v1/transplant/organs/awaiting-disposition?blood_group="+group, w.Regulator, nil)
			var ids []string
			for _, x := range r.Body["awaiting-disposition"].([]any) {
				ids = append(ids, x.(map[string]any)["id"].(string))
			}
			slices.Sort(ids)
			return ids
		}
		for group, want := range map[string][]string{"A": {a}, "AB": {ab}, "O": {im.Named}, "B": nil} {
			if got := awaiting(group); !slices.Equal(got, want) {
				t.Errorf("awaiting a disposition, blood group %s: %v, want %v", group, got, want)
			}
		}
		if got, all := awaiting(""), []string{a, ab, im.Named}; len(got) != 3 || !slices.Contains(got, a) || !slices.Contains(got, ab) || !slices.Contains(got, im.Named) {
			t.Errorf("awaiting a disposition, any blood group: %v, want %v", got, all)
		}
		size := w.LogSize(t)
		for _, bad := range []string{"a", "A%25", "AB%2B", "_"} {
			r := w.Do(t, "GET", "/api/v1/transplant/organs/awaiting-disposition?blood_group="+bad, w.Regulator, nil)
			if r.Status != 422 || r.Str("error.field") != "blood_group" || r.Str("error.rule") == "" {
				t.Errorf("blood group %q: %d %s, want 422 naming the rule and the field blood_group", bad, r.Status, r.Raw)
			}
		}
		if w.LogSize(t) != size {
			t.Errorf("the refused filters wrote to the log")
		}
		// The service's filter, as the page and the exports call it.
		ctx := context.Background()
		reg := w.Principal(t, w.Regulator)
		if got, err := w.App.Transplant.OrgansAwaitingDisposition(ctx, reg, transplant.ListFilter{BloodGroup: "A"}); err != nil || len(got.Items) != 1 || got.Items[0].ID != a {
			t.Errorf("the service's organs awaiting a disposition of group A: %+v, %v; want %s", got.Items, err, a)
		}
	})
}

// TestImportFormListsCarryAssignments: on SQLite and PostgreSQL, the
// organs the reassignment form offers (ReassignableImports) carry their
// assignments as the import read alone does: the organ moved from centre
// A to centre B, the centre the origin named then the move; the organs
// the assignment form offers (AssignableImports), which no centre holds,
// carry none.
func TestImportFormListsCarryAssignments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.Named+"/reassignment", w.Regulator,
			map[string]any{"centre_id": w.CentreB, "reason": "Synthetic: centre B has the theatre free."})
		ctx := context.Background()
		reg := w.Principal(t, w.Regulator)
		svc := w.App.Transplant
		alone, err := svc.Import(ctx, reg, im.Named)
		if err != nil {
			t.Fatal(err)
		}
		if len(alone.Assignments) != 2 {
			t.Fatalf("the import read alone: %+v, want the origin's centre then the move", alone.Assignments)
		}
		held, err := svc.ReassignableImports(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		if len(held) != 1 || held[0].OrganID != im.Named || !slices.Equal(held[0].Assignments, alone.Assignments) {
			t.Errorf("the organs the reassignment offers: %+v, want %s alone with the assignments %+v", held, im.Named, alone.Assignments)
		}
		unheld, err := svc.AssignableImports(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		if len(unheld) != 1 || unheld[0].OrganID != im.Unnamed || unheld[0].Assignments != nil {
			t.Errorf("the organs the assignment offers: %+v, want %s alone, with no assignment", unheld, im.Unnamed)
		}
	})
}
