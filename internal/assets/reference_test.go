package assets_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/storetest"
)

// TestCaseReferenceLookAlikes: through the API, a national case number is
// one case in its state however it is written: in other letters' case, with
// other punctuation, a Unicode hyphen, full-width letters or Cyrillic and
// Greek letters that look like its Latin ones, a second case
// under it is refused (case_reference, 409) naming the case that has it,
// with no leaf and no row; another number, or the same in another state,
// opens a case.
func TestCaseReferenceLookAlikes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		open := func(token, ref string) (int, string, string) {
			t.Helper()
			r := w.Do(t, "POST", "/api/v1/assets/cases", token, map[string]any{"reference": ref, "title": "Harbour contracts", "kind": "domestic",
				"offences": []string{"0703"}, "opened_on": "2026-01-05"})
			return r.Status, r.Str("error.rule"), r.Str("error.message")
		}
		if status, _, msg := open(w.ProsecToken, "ARO-2026-7"); status != 201 {
			t.Fatalf("the first case: %d %s", status, msg)
		}
		size := w.LogSize(t)
		for _, ref := range []string{"ARO-2026-7", "aro-2026-7", "ARO\u20102026\u20107", "ARO/2026/7", "ARO 2026 7", "\uff21\uff32\uff2f-2026-7", " Aro-2026-7 ",
			"\u0410R\u041e-2026-7", "\u0430r\u043e-2026-7", "\u0391R\u039f-2026-7"} {
			status, rule, msg := open(w.ProsecToken, ref)
			if status != 409 || rule != "case_reference" || !strings.Contains(msg, "ARO-2026-7") {
				t.Errorf("a second case %q: %d %s %s, want 409 case_reference naming ARO-2026-7", ref, status, rule, msg)
			}
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("the refusals wrote %d leaves", got-size)
		}
		var n int
		if err := w.App.DB.Read().QueryRow(t.Context(), "SELECT COUNT(*) FROM assets_cases").Scan(&n); err != nil || n != 1 {
			t.Errorf("%d cases after the refusals (%v), want 1", n, err)
		}
		for _, ref := range []string{"ARO-2026-70", "ARO-20267", "ARO-2026-7-A"} {
			if status, _, msg := open(w.ProsecToken, ref); status != 201 {
				t.Errorf("another number %q: %d %s", ref, status, msg)
			}
		}
		cab := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "B2", "role": "central_authority_officer", "authority_id": w.CAB.AuthorityID}).Str("token")
		if status, _, msg := open(cab, "aro-2026-7"); status != 201 {
			t.Errorf("the number in another state: %d %s", status, msg)
		}
		w.Verify(t)
	})
}

// TestReferenceKeyScripts: each Cyrillic and Greek letter that looks like a
// Latin one (Unicode's confusables, UTS #39), capital or small, gives the
// Latin letter's key; letters that look like no Latin one, and references
// wholly in another script that differ, keep apart.
func TestReferenceKeyScripts(t *testing.T) {
	for _, pair := range [][2]string{
		{"\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0423", "ABEKMHOPCTXY"},
		{"\u0430\u0432\u0435\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0445\u0443", "abekmhopctxy"},
		{"\u0406\u0408\u0405\u0456\u0458\u0455", "IJSijs"},
		{"\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7", "ABEZHIKMNOPTYX"},
		{"\u03b1\u03b2\u03b5\u03b6\u03b7\u03b9\u03ba\u03bc\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7", "abezhikmnoptyx"},
		{"\u00b5-1", "M-1"}, // the micro sign is Greek μ in compatibility form
	} {
		latin := []rune(pair[1])
		for i, r := range []rune(pair[0]) {
			if got, want := assets.ReferenceKey("X"+string(r)+"7"), assets.ReferenceKey("X"+string(latin[i])+"7"); got != want {
				t.Errorf("%q (U+%04X) has the key %q, want %q", r, r, got, want)
			}
		}
		if got, want := assets.ReferenceKey(pair[0]), assets.ReferenceKey(pair[1]); got != want {
			t.Errorf("%q has the key %q, want %q (that of %q)", pair[0], got, want, pair[1])
		}
	}
	for _, pair := range [][2]string{
		{"\u0414-1", "D-1"},                    // Cyrillic Д looks like no Latin letter
		{"\u0423\u0414-12", "\u0423\u041b-12"}, // УД and УЛ: two Cyrillic references
		{"\u03a0-1", "P-1"},                    // Greek Π is not P (Ρ is)
		{"\u0397-1", "N-1"},                    // Greek Η is H, not N
	} {
		if assets.ReferenceKey(pair[0]) == assets.ReferenceKey(pair[1]) {
			t.Errorf("%q and %q have one key %q", pair[0], pair[1], assets.ReferenceKey(pair[0]))
		}
	}
}

// TestCaseReferenceKeyMigration: a registry from before assets migration 10
// whose cases hold two references that now fold to one key (written in
// look-alike letters of two scripts, which that release kept apart) is
// migrated: both cases keep their rows and get the key, log verify replays
// the same rows, and a third case under the number is refused naming the
// reference written the same first, else one of the two.
func TestCaseReferenceKeyMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		open := func(ref string) *apptest.Response {
			t.Helper()
			return w.Do(t, "POST", "/api/v1/assets/cases", w.ProsecToken, map[string]any{"reference": ref, "title": "Harbour contracts", "kind": "domestic",
				"offences": []string{"0703"}, "opened_on": "2026-01-05"})
		}
		if r := open("ARO-2026-7"); r.Status != 201 {
			t.Fatalf("the first case: %d %s", r.Status, r.Raw)
		}
		// Cyrillic А and О: a case the release before migration 10 let open.
		if _, err := w.S.OpenCaseAsBefore(ctx, w.Prosecutor, "\u0410R\u041e-2026-7"); err != nil {
			t.Fatal(err)
		}
		if r := open("HX-2026-8"); r.Status != 201 {
			t.Fatalf("another case: %d %s", r.Status, r.Raw)
		}
		// The registry as that release left it: no key, no index, version 9.
		db := w.App.DB
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"DROP INDEX assets_cases_reference_key", "ALTER TABLE assets_cases DROP COLUMN reference_key",
			"DELETE FROM schema_versions WHERE module = 'assets' AND version = 10"} {
			if _, err := tx.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		applied, err := db.Migrate(ctx, w.App.Projections.Schemas())
		if err != nil {
			t.Fatalf("migration 10 on cases whose references share a key: %v", err)
		}
		if len(applied) != 1 || applied[0].Module != "assets" || applied[0].Version != 10 {
			t.Fatalf("applied %v, want assets 10 only", applied)
		}
		rows, err := db.Read().Query(ctx, "SELECT reference, reference_key FROM assets_cases ORDER BY reference")
		if err != nil {
			t.Fatal(err)
		}
		keys := map[string]string{}
		for rows.Next() {
			var ref, key string
			if err := rows.Scan(&ref, &key); err != nil {
				t.Fatal(err)
			}
			keys[ref] = key
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"ARO-2026-7": "aro-2026-7", "\u0410R\u041e-2026-7": "aro-2026-7", "HX-2026-8": "hx-2026-8"}
		if !maps.Equal(keys, want) {
			t.Errorf("the keys after migration 10: %q, want %q", keys, want)
		}
		w.Verify(t)
		if r := open("ARO-2026-7"); r.Status != 409 || r.Str("error.rule") != "case_reference" || r.Str("error.message") != "your state already has a case ARO-2026-7" {
			t.Errorf("the number written the same: %d %s", r.Status, r.Raw)
		}
		if r := open("aro 2026 7"); r.Status != 409 || r.Str("error.rule") != "case_reference" ||
			!strings.Contains(r.Str("error.message"), "ARO-2026-7") && !strings.Contains(r.Str("error.message"), "\u0410R\u041e-2026-7") {
			t.Errorf("the number written otherwise: %d %s", r.Status, r.Raw)
		}
		if r := open("hx-2026-8"); r.Status != 409 || !strings.Contains(r.Str("error.message"), "HX-2026-8") {
			t.Errorf("a case filled in by the migration: %d %s", r.Status, r.Raw)
		}
		if r := open("HX-2026-9"); r.Status != 201 {
			t.Errorf("a new number after the migration: %d %s", r.Status, r.Raw)
		}
		w.Verify(t)
	})
}
