package transplant_test

import (
	"context"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestCharacterizationMovesHolderInHistory: on SQLite and PostgreSQL, the
// registry of origin sends the characterization of an organ centre A holds
// by its word again, naming centre B: centre B holds it, and its history
// of holders says so, a row of that characterization (by the origin, from
// centre A, at its time and log entry), after the first; the same
// characterization sent again, naming centre B again, adds none; nor does
// one naming centre A for an organ a regulator assigned to centre A, whose
// holder the origin no longer decides. log verify's replay writes the same
// rows.
func TestCharacterizationMovesHolderInHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		origin := im.Origin
		sendAgain := func(organ, destination string) {
			t.Helper()
			if err := origin.App.Transplant.SendCharacterizationAgain(ctx, origin.Principal(t, origin.CoordA), organ, im.ToW, destination); err != nil {
				t.Fatal(err)
			}
			w.ReceiveOutbox(t, origin.Env)
		}
		reg := w.Principal(t, w.Regulator)
		history := func(organ string) *transplant.Import {
			t.Helper()
			got, err := w.App.Transplant.Import(ctx, reg, organ)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}

		sendAgain(im.Named, w.CentreB)
		got := history(im.Named)
		if got.DestinationCentreID != w.CentreB {
			t.Fatalf("after a characterization naming centre B, %s is at %q, want %s", im.Named, got.DestinationCentreID, w.CentreB)
		}
		as := got.Assignments
		if len(as) != 2 || !as[0].ByOrigin || as[0].CentreID != w.CentreA {
			t.Fatalf("the history of %s: %+v, want centre A named by the origin, then the move to centre B", im.Named, as)
		}
		if m := as[1]; !m.ByOrigin || m.From != w.CentreA || m.CentreID != w.CentreB || m.AssignedBy != "" || m.Reason != "" ||
			m.LogIndex <= as[0].LogIndex || m.AssignedAt < as[0].AssignedAt {
			t.Errorf("the move by the origin: %+v, want from centre A to centre B, by the origin (no principal, no reason), after %+v", m, as[0])
		}
		// Centre B's coordinators hold it now, centre A's do not.
		r := w.Do(t, "POST", "/api/v1/transplant/imports/"+im.Named+"/outcome", w.CoordA, map[string]any{"outcome": "discarded", "on": time.Now().UTC().Format("2006-01-02"), "reason": "Synthetic: damaged."})
		if r.Status != 403 || r.Str("error.rule") != "organ_holder" {
			t.Errorf("centre A's outcome of the organ moved to centre B: %d %s, want 403 organ_holder", r.Status, r.Raw)
		}

		sendAgain(im.Named, w.CentreB)
		if again := history(im.Named).Assignments; len(again) != 2 {
			t.Errorf("the same centre named again: history %+v, want the 2 rows before", again)
		}

		w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.Unnamed+"/assignment", w.Regulator, map[string]any{"centre_id": w.CentreA})
		sendAgain(im.Unnamed, w.CentreB)
		if u := history(im.Unnamed); len(u.Assignments) != 1 || u.Assignments[0].ByOrigin || u.Assignments[0].CentreID != w.CentreA {
			t.Errorf("an organ a regulator assigned, then named elsewhere by the origin: history %+v, want the regulator's assignment alone", u.Assignments)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Errorf("log verify: %+v", rep)
		}
	})
}
