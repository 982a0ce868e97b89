package assets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBODSRegisterIsTheStates: a beneficial ownership register is a
// state's. Otherland's central authority officer, prosecutor and regulator,
// on the same deployment, find none of Demoland's records (404, as a case
// of another state), export none of its statements, list none of its
// imports, and cannot change Demoland's answers: an import of theirs that
// closes Demoland's relationship changes only their own register, and
// their erasure of Demoland's person finds no person, before and after
// Demoland's regulator erased it. Demoland's answers
// stay as they were, each lookup's entry names the state whose register it
// read, and the log verifies.
func TestBODSRegisterIsTheStates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		b := &bods.Builder{Prefix: "demoland", Date: "2026-05-01", Publisher: "Demoland companies register"}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=demoland.jsonl", w.Officer,
			lines(b.Entity("E", "Open Company Ltd", "XA", ""), b.Person("P", "Secretia Namesake", ""), b.Relationship("r", "E", "P", []float64{60}, "")))

		xb := func(name, kind, role string) string {
			a := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Otherland " + name, "kind": kind, "jurisdiction": "XB"}).Str("id")
			return w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Otherland " + name, "role": role, "authority_id": a}).Str("token")
		}
		officerB := xb("Central Authority", assets.KindCentralAuthority, string(assets.RoleCentralAuthority))
		prosB := xb("Prosecution", assets.KindProsecution, string(assets.RoleProsecutor))
		regB := xb("Regulator", "regulator", "regulator")

		owners := func(token string) assets.OwnershipAnswer {
			t.Helper()
			r := w.Must(t, 200, "GET", "/api/v1/assets/bods/owners/E", token, nil)
			var a assets.OwnershipAnswer
			if err := json.Unmarshal(r.Raw, &a); err != nil {
				t.Fatal(err)
			}
			return a
		}
		demoland := func() {
			t.Helper()
			a := owners(w.Prosecutor)
			if len(a.Holdings) != 1 || a.Holdings[0].Node.ID != "P" || a.Holdings[0].Lo != 60 || a.Holdings[0].Node.Name != "Secretia Namesake" {
				t.Fatalf("Demoland's owners of E: %+v", a.Holdings)
			}
		}
		demoland()

		// Otherland reads nothing of Demoland's register.
		for _, tok := range []string{officerB, prosB, regB} {
			for _, path := range []string{"/api/v1/assets/bods/owners/E", "/api/v1/assets/bods/controls/P"} {
				if r := w.Do(t, "GET", path, tok, nil); r.Status != 404 || bytes.Contains(r.Raw, []byte("Secretia")) {
					t.Fatalf("Otherland's %s: %d %s, want 404", path, r.Status, r.Raw)
				}
			}
			exp := w.Do(t, "GET", "/api/v1/assets/bods/export", tok, nil)
			all, err := bods.ReadAll(bytes.NewReader(exp.Raw))
			if exp.Status != 200 || len(all) != 0 || bytes.Contains(exp.Raw, []byte("Secretia")) || bytes.Contains(exp.Raw, []byte("Open Company")) {
				t.Fatalf("Otherland's export: %d, %d statements, %v: %s", exp.Status, len(all), err, exp.Raw)
			}
			if _, made := madeOf(t, w, exp); made.Filter != "jurisdiction=XB" {
				t.Errorf("Otherland's export is logged as of %q, want jurisdiction=XB", made.Filter)
			}
			if r := w.Must(t, 200, "GET", "/api/v1/assets/bods/imports", tok, nil); strings.Contains(string(r.Raw), "BO-") {
				t.Fatalf("Otherland lists Demoland's imports: %s", r.Raw)
			}
		}

		// Otherland's import closing Demoland's relationship and giving E
		// another owner is Otherland's register only.
		o := &bods.Builder{Prefix: "otherland", Date: "2026-06-01", Publisher: "Otherland"}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=otherland.jsonl", officerB,
			lines(o.Entity("E", "Open Company Ltd", "XA", ""), o.Entity("X", "Usurper Ltd", "XB", ""),
				o.Relationship("r", "E", "P", []float64{60}, bods.StatusClosed), o.Relationship("r2", "E", "X", []float64{100}, "")))
		demoland()
		if a := owners(prosB); len(a.Holdings) != 1 || a.Holdings[0].Node.ID != "X" {
			t.Fatalf("Otherland's owners of E: %+v", a.Holdings)
		}
		var states string
		rows, err := w.App.DB.Read().Query(ctx, "SELECT jurisdiction FROM assets_bods_imports ORDER BY log_index")
		if err != nil {
			t.Fatal(err)
		}
		list, err := store.Rows(rows, func(r store.Scanner, s *string) error { return r.Scan(s) })
		if err != nil {
			t.Fatal(err)
		}
		if states = strings.Join(list, " "); states != "XA XB" {
			t.Fatalf("the imports' states: %q", states)
		}
		exp := w.Do(t, "GET", "/api/v1/assets/bods/export", w.Prosecutor, nil)
		if all, err := bods.ReadAll(bytes.NewReader(exp.Raw)); err != nil || len(all) != 3 || bytes.Contains(exp.Raw, []byte("Usurper")) {
			t.Fatalf("Demoland's export: %d statements, %v", len(all), err)
		}

		// Otherland's regulator cannot erase Demoland's person, nor learn
		// that Demoland's erased it: the person is not found, as before.
		erase := map[string]any{"ground": "unlawfully_processed", "reference": "DPO 1"}
		if r := w.Do(t, "POST", "/api/v1/assets/bods/persons/P/erasure", regB, erase); r.Status != 404 || r.Str("error.rule") != "reference" {
			t.Fatalf("Otherland erases Demoland's person: %d %s", r.Status, r.Raw)
		}
		demoland()
		w.Must(t, 201, "POST", "/api/v1/assets/bods/persons/P/erasure", w.regulator(t), erase)
		if r := w.Do(t, "POST", "/api/v1/assets/bods/persons/P/erasure", regB, erase); r.Status != 404 || r.Str("error.rule") != "reference" || r.Str("error.field") != "record_id" ||
			bytes.Contains(r.Raw, []byte("erased")) {
			t.Fatalf("Otherland erases Demoland's erased person: %d %s, want 404 reference on record_id", r.Status, r.Raw)
		}

		if got := w.dump(t, "SELECT jurisdiction || ':' || question || ' ' FROM assets_bods_lookups ORDER BY log_index"); !strings.HasPrefix(got, "XA:owners ") || !strings.Contains(got, "XB:owners ") {
			t.Fatalf("the lookups' states: %q", got)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
	})
}

// TestBODSEntryWithoutState: an import's entry logged before registers
// were a state's names no jurisdiction; it is the registry's own, in the
// table and in the replay alike.
func TestBODSEntryWithoutState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		p := w.Principal(t, w.Officer)
		if _, err := w.S.W.Submit(ctx, p.Actor(), "an old import", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
			return ledger.NewEntry(assets.TypeBODSImported, map[string]any{"id": "BO-OLD", "source": "old.jsonl", "file_sha256": "00", "chunks": []string{}})
		}); err != nil {
			t.Fatal(err)
		}
		if got := w.dump(t, "SELECT jurisdiction FROM assets_bods_imports WHERE id = 'BO-OLD'"); got != "XA" {
			t.Fatalf("the old import's state: %q, want the registry's XA", got)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
	})
}

// TestBODSDuplicateOfAnotherState: a statementId is unique in the whole
// deployment, so Otherland's import of a statement Demoland imported is
// refused (duplicate_statement), but the refusal names neither Demoland's
// import nor its state: Otherland may not read Demoland's register. A
// statement of Otherland's own register is refused naming Otherland's
// import, which Otherland lists.
func TestBODSDuplicateOfAnotherState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		b := &bods.Builder{Prefix: "demoland", Date: "2026-05-01", Publisher: "Demoland companies register"}
		held := b.Entity("E", "Open Company Ltd", "XA", "")
		demoland := w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=demoland.jsonl", w.Officer, lines(held)).Str("id")

		a := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Otherland Central Authority", "kind": assets.KindCentralAuthority, "jurisdiction": "XB"}).Str("id")
		officerB := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Otherland officer", "role": string(assets.RoleCentralAuthority), "authority_id": a}).Str("token")
		o := &bods.Builder{Prefix: "otherland", Date: "2026-06-01", Publisher: "Otherland"}
		mine := o.Entity("X", "Other Company Ltd", "XB", "")
		otherland := w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=otherland.jsonl", officerB, lines(mine)).Str("id")

		r := w.Do(t, "POST", "/api/v1/assets/bods/imports?source=again.jsonl", officerB, lines(o.Entity("Y", "Third Ltd", "XB", ""), held))
		if r.Status != 409 || r.Str("error.rule") != "duplicate_statement" || r.Str("error.field") != "statements[1].statementId" {
			t.Fatalf("Otherland imports Demoland's statement: %d %s", r.Status, r.Raw)
		}
		if msg := r.Str("error.message"); strings.Contains(string(r.Raw), demoland) || strings.Contains(msg, "BO-") || strings.Contains(msg, "XA") ||
			!strings.Contains(msg, "unique in the whole registry") {
			t.Fatalf("the refusal tells of Demoland's import: %s", r.Raw)
		}
		r = w.Do(t, "POST", "/api/v1/assets/bods/imports?source=again.jsonl", officerB, lines(mine))
		if r.Status != 409 || r.Str("error.rule") != "duplicate_statement" || !strings.Contains(r.Str("error.message"), "(import "+otherland+")") {
			t.Fatalf("Otherland imports its own statement again: %d %s, want its import %s named", r.Status, r.Raw, otherland)
		}
		if n := w.count(t, "assets_bods_imports"); n != 2 {
			t.Fatalf("%d imports logged, want 2", n)
		}
	})
}
