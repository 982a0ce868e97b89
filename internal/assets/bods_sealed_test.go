package assets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBODSPersonsSealed: a person statement's personal data (name, birth
// date, address, nationality) is stored nowhere in clear, neither in the
// statements table nor in the log; what the graph needs is. Whoever may
// open personal data (a central authority officer) sees the person's name
// in an answer and the statement as given in an export, and the lookup's
// entry says personal; the regulator, who may look up but not open
// personal data, gets neither, and a valid BODS export without them. The
// log verifies, and a stored person statement changed behind custos's
// back fails log verify.
func TestBODSPersonsSealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		regulator := w.regulator(t)
		b := &bods.Builder{Prefix: "sealed", Date: "2026-05-01", Publisher: "Demoland companies register"}
		var person map[string]any
		if err := json.Unmarshal(b.Person("P", "Secretia Namesake", ""), &person); err != nil {
			t.Fatal(err)
		}
		d := person["recordDetails"].(map[string]any)
		d["birthDate"] = "1971-02-03"
		d["nationalities"] = []any{map[string]any{"name": "Freedonia", "code": "FD"}}
		d["addresses"] = []any{map[string]any{"type": "residence", "address": "12 Hiddenway Lane", "country": map[string]any{"name": "Freedonia", "code": "FD"}}}
		raw, _ := json.Marshal(person)
		file := lines(b.Entity("E", "Open Company Ltd", "DL", ""), raw, b.Relationship("r", "E", "P", []float64{75}, ""))
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=persons.jsonl", w.Officer, file)

		secrets := []string{"Secretia", "1971-02-03", "Hiddenway", "Freedonia"}
		dump := func(q string) string { return w.dump(t, q) }
		stored := dump("SELECT record_id || name || kind || body FROM assets_bods_statements")
		logged := dump("SELECT CAST(data AS TEXT) FROM log_leaves")
		for _, s := range secrets {
			if strings.Contains(stored, s) || strings.Contains(logged, s) {
				t.Fatalf("%q is stored in clear (statements: %v, log: %v)", s, strings.Contains(stored, s), strings.Contains(logged, s))
			}
		}
		if !strings.Contains(stored, "Open Company Ltd") || !strings.Contains(stored, "knownPerson") {
			t.Fatalf("what the graph needs is not in clear: %s", stored)
		}

		owners := func(token string) (assets.OwnershipAnswer, string) {
			r := w.Must(t, 200, "GET", "/api/v1/assets/bods/owners/E", token, nil)
			var a assets.OwnershipAnswer
			if err := json.Unmarshal(r.Raw, &a); err != nil {
				t.Fatal(err)
			}
			if len(a.Holdings) != 1 || a.Holdings[0].Node.ID != "P" || a.Holdings[0].Lo != 75 {
				t.Fatalf("owners of E: %s", r.Raw)
			}
			return a, a.Holdings[0].Node.Name
		}
		if _, name := owners(w.Officer); name != "Secretia Namesake" {
			t.Fatalf("the officer sees the owner's name as %q", name)
		}
		if _, name := owners(regulator); name != "" {
			t.Fatalf("the regulator sees the owner's name %q", name)
		}
		exp := w.Do(t, "GET", "/api/v1/assets/bods/export", w.Officer, nil)
		if exp.Status != 200 || !bytes.Contains(exp.Raw, []byte("Hiddenway")) || !bytes.Contains(exp.Raw, []byte("1971-02-03")) {
			t.Fatalf("the officer's export lacks the person as given: %d %s", exp.Status, exp.Raw)
		}
		if cc := exp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("the export, with names in clear, is sent with Cache-Control %q, want no-store", cc)
		}
		pub := w.Do(t, "GET", "/api/v1/assets/bods/export", regulator, nil)
		all, err := bods.ReadAll(bytes.NewReader(pub.Raw))
		if pub.Status != 200 || err != nil || len(all) != 3 {
			t.Fatalf("the regulator's export: %d, %d statements, %v", pub.Status, len(all), err)
		}
		for _, s := range secrets {
			if bytes.Contains(pub.Raw, []byte(s)) {
				t.Fatalf("the regulator's export holds %q", s)
			}
		}
		var personal []string
		rows, err := w.App.DB.Read().Query(ctx, "SELECT question, personal FROM assets_bods_lookups ORDER BY log_index")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var q string
			var p int
			if err := rows.Scan(&q, &p); err != nil {
				t.Fatal(err)
			}
			personal = append(personal, q+map[int]string{0: "", 1: "+personal"}[p])
		}
		rows.Close()
		if got := strings.Join(personal, " "); got != "owners+personal owners" {
			t.Fatalf("lookups logged: %s", got)
		}

		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %+v", rep)
		}
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "UPDATE assets_bods_statements SET sealed = wrapped_key WHERE record_id = 'P'"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if rep := w.Verify(t); rep.OK() {
			t.Fatal("log verify passed with a sealed person statement changed")
		}
	})
}

// regulator returns the token of a new regulator.
func (w *bodsWorld) regulator(t *testing.T) string {
	t.Helper()
	me := w.Must(t, 200, "GET", "/api/v1/me", w.Admin, nil)
	return w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Regulator", "role": "regulator", "authority_id": me.Str("authority_id")}).Str("token")
}

// dump returns the rows of a one-column query, joined.
func (w *bodsWorld) dump(t *testing.T, q string) string {
	t.Helper()
	rows, err := w.App.DB.Read().Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all strings.Builder
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		all.WriteString(s)
	}
	return all.String()
}

// TestBODSSealedBeforeSealing: the person statements of an import made
// before persons were sealed (assets migration 4) are stored as given,
// their names in clear, since their chunk digests were made over them;
// they are read as sealed ones are: the regulator and the auditor see them
// listed in sealed, "(name sealed)" on the page, and the export gives them
// without personal data; the officer sees their names, the lookup marked
// personal. The log still verifies.
func TestBODSSealedBeforeSealing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		officer, err := auth.Authenticate(ctx, w.App.DB.Read(), w.Officer)
		if err != nil {
			t.Fatal(err)
		}
		b := &bods.Builder{Prefix: "before-sealing", Date: "2020-05-01", Publisher: "Demoland companies register"}
		if _, err := w.S.ImportBODSAsBefore(ctx, officer, bytes.NewReader(lines(b.Entity("E", "Old Company Ltd", "DL", ""),
			b.Person("P", "Olda Forename", ""), b.Relationship("r", "E", "P", []float64{60}, "")))); err != nil {
			t.Fatal(err)
		}
		if clear := w.dump(t, "SELECT name FROM assets_bods_statements WHERE record_id = 'P' AND sealed IS NULL"); clear != "Olda Forename" {
			t.Fatalf("the import as before sealing did not store P's name in clear: %q", clear)
		}
		b2 := &bods.Builder{Prefix: "after-sealing", Date: "2026-05-01", Publisher: "Demoland companies register"}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=new.jsonl", w.Officer,
			lines(b2.Person("Q", "Newa Forename", ""), b2.Relationship("s", "E", "Q", []float64{40}, "")))

		regulator := w.regulator(t)
		me := w.Must(t, 200, "GET", "/api/v1/me", w.Admin, nil)
		auditor := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Auditor", "role": "auditor", "authority_id": me.Str("authority_id")}).Str("token")
		for _, who := range []struct{ name, token string }{{"regulator", regulator}, {"auditor", auditor}} {
			r := w.Must(t, 200, "GET", "/api/v1/assets/bods/owners/E", who.token, nil)
			var a assets.OwnershipAnswer
			if err := json.Unmarshal(r.Raw, &a); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Sealed, []string{"P", "Q"}) || strings.Contains(string(r.Raw), "Olda") || strings.Contains(string(r.Raw), "Newa") {
				t.Errorf("the %s's answer lists sealed %v, want [P Q] and no name:\n%s", who.name, a.Sealed, r.Raw)
			}
			resp, err := (&world{Env: w.Env}).signin(t, who.token).Get(w.URL + "/assets/ownership?record=E&question=owners")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page := string(body)
			if strings.Contains(page, "Olda") || strings.Count(page, "(name sealed)") < 4 { // two rows, two boxes
				t.Errorf("the %s's ownership page shows P's name, or not (name sealed) for P and Q:\n%s", who.name, page)
			}
			export := w.Do(t, "GET", "/api/v1/assets/bods/export", who.token, nil)
			if all, err := bods.ReadAll(bytes.NewReader(export.Raw)); export.Status != 200 || err != nil || len(all) != 5 || bytes.Contains(export.Raw, []byte("Olda")) {
				t.Errorf("the %s's export: %d, %d statements, %v, or P's name in it:\n%s", who.name, export.Status, len(all), err, export.Raw)
			}
		}

		r := w.Must(t, 200, "GET", "/api/v1/assets/bods/owners/E", w.Officer, nil)
		var a assets.OwnershipAnswer
		if err := json.Unmarshal(r.Raw, &a); err != nil {
			t.Fatal(err)
		}
		if len(a.Sealed) != 0 || !strings.Contains(string(r.Raw), "Olda Forename") || !strings.Contains(string(r.Raw), "Newa Forename") {
			t.Errorf("the officer, who opens names, is not given both:\n%s", r.Raw)
		}
		if personal := w.dump(t, "SELECT CAST(personal AS TEXT) FROM assets_bods_lookups WHERE log_index = "+strconv.FormatInt(a.LogIndex, 10)); personal != "1" {
			t.Errorf("the officer's lookup is logged personal=%q, want 1", personal)
		}
		if export := string(w.Must(t, 200, "GET", "/api/v1/assets/bods/export", w.Officer, nil).Raw); !strings.Contains(export, "Olda Forename") {
			t.Errorf("the officer's export lacks P's name:\n%s", export)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify with an import made before sealing: %v", rep)
		}
	})
}

// TestBODSErasureBeforeSealing: a person with a statement imported before
// persons were sealed holds their data in clear, in rows the log's digests
// cover: there is no key to shred. Their erasure is refused (409, rule
// imported_before_sealing, field record_id), naming how many statements,
// and changes nothing: no entry, no erasure recorded (a second try is
// refused alike, not as subject_erased), the sealed statement of a later
// import keeps its key, and the officer still reads the name, so that no
// answer calls erased what is still readable. A person imported after
// sealing alone is erased as before; log verify passes.
func TestBODSErasureBeforeSealing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		officer, err := auth.Authenticate(ctx, w.App.DB.Read(), w.Officer)
		if err != nil {
			t.Fatal(err)
		}
		b := &bods.Builder{Prefix: "before-sealing", Date: "2020-05-01", Publisher: "Demoland companies register"}
		if _, err := w.S.ImportBODSAsBefore(ctx, officer, bytes.NewReader(lines(b.Entity("E", "Old Company Ltd", "DL", ""),
			b.Person("P", "Olda Forename", ""), b.Relationship("r", "E", "P", []float64{60}, "")))); err != nil {
			t.Fatal(err)
		}
		b2 := &bods.Builder{Prefix: "after-sealing", Date: "2026-05-01", Publisher: "Demoland companies register"}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=new.jsonl", w.Officer,
			lines(b2.Person("P", "Olda Forename-Renamed", "updated"), b2.Person("Q", "Newa Forename", ""), b2.Relationship("s", "E", "Q", []float64{40}, "")))
		regulator := w.regulator(t)
		body := map[string]any{"ground": "unlawfully_processed", "reference": "DPO decision 2026/15"}

		leaves, erasures := w.count(t, "log_leaves"), w.count(t, "erasures")
		for try := range 2 {
			r := w.Do(t, "POST", "/api/v1/assets/bods/persons/P/erasure", regulator, body)
			if r.Status != 409 || r.Str("error.rule") != "imported_before_sealing" || r.Str("error.field") != "record_id" ||
				!strings.Contains(r.Str("error.message"), "P has 1 statements imported before persons were sealed") || !strings.Contains(r.Str("error.message"), "nothing was erased") {
				t.Errorf("erasure %d of a person imported before sealing: %d %s, want 409 imported_before_sealing at record_id", try+1, r.Status, r.Raw)
			}
		}
		if got := []int{w.count(t, "log_leaves"), w.count(t, "erasures")}; !slices.Equal(got, []int{leaves, erasures}) {
			t.Errorf("after the refusals: leaves, erasures %v, want %v", got, []int{leaves, erasures})
		}
		if kept := w.dump(t, "SELECT COUNT(*) FROM assets_bods_statements WHERE record_id = 'P' AND sealed IS NOT NULL AND erased_commitment = ''"); kept != "1" {
			t.Errorf("P's sealed statement of the later import: %s left sealed, want 1 (nothing shredded)", kept)
		}
		r := w.Must(t, 200, "GET", "/api/v1/assets/bods/owners/E", w.Officer, nil)
		var a assets.OwnershipAnswer
		if err := json.Unmarshal(r.Raw, &a); err != nil {
			t.Fatal(err)
		}
		if len(a.Erased) != 0 || !strings.Contains(string(r.Raw), "Olda Forename") {
			t.Errorf("after the refusal the officer's answer lists erased %v or lacks P's name:\n%s", a.Erased, r.Raw)
		}

		// Q, imported after sealing only, is erased as before.
		w.Must(t, 201, "POST", "/api/v1/assets/bods/persons/Q/erasure", regulator, body)
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep)
		}
	})
}
