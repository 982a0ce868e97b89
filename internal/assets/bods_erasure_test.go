package assets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBODSPersonErasure: the regulator erases a person of the BODS
// statements (two statements of the person, in two imports) as the core
// erases other personal data: the sealed rows lose their keys, the erasure
// is a privacy.subject_erased entry with its ground and reference, lookups
// name the person as erased and give no name even to a central authority
// officer, exports leave the data out, the chains still answer, and log
// verify passes; an officer may not erase, a second erasure and an entity
// are refused and change nothing; restoring the sealed data behind
// custos's back fails log verify, as does a person marked erased without an
// erasure in the log.
func TestBODSPersonErasure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		regulator := w.regulator(t)
		b := &bods.Builder{Prefix: "erase-1", Date: "2026-05-01", Publisher: "Demoland companies register"}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=one.jsonl", w.Officer,
			lines(b.Entity("E", "Open Company Ltd", "DL", ""), b.Person("P", "Secretia Namesake", ""), b.Person("Q", "Keptia Other", ""),
				b.Relationship("r", "E", "P", []float64{60}, ""), b.Relationship("s", "E", "Q", []float64{40}, "")))
		b2 := &bods.Builder{Prefix: "erase-2", Date: "2026-06-01", Publisher: "Demoland companies register"}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=two.jsonl", w.Officer, lines(b2.Person("P", "Secretia Namesake-Renamed", "updated")))

		url := "/api/v1/assets/bods/persons/P/erasure"
		body := map[string]any{"ground": "unlawfully_processed", "reference": "DPO decision 2026/14"}
		leaves := w.count(t, "log_leaves")
		for _, c := range []struct {
			token, path string
			body        map[string]any
			status      int
			rule        string
		}{
			{w.Officer, url, body, 403, ""},
			{regulator, url, map[string]any{"ground": "because", "reference": "x"}, 422, "enum"},
			{regulator, url, map[string]any{"ground": "objection", "reference": ""}, 422, "required"},
			{regulator, "/api/v1/assets/bods/persons/E/erasure", body, 422, "not_a_person"},
			{regulator, "/api/v1/assets/bods/persons/NOBODY/erasure", body, 404, "reference"},
		} {
			r := w.Do(t, "POST", c.path, c.token, c.body)
			if r.Status != c.status || c.rule != "" && !strings.Contains(string(r.Raw), `"rule": "`+c.rule+`"`) {
				t.Errorf("%s %v: %d %s, want %d %s", c.path, c.body, r.Status, r.Raw, c.status, c.rule)
			}
		}
		if n := w.count(t, "log_leaves"); n != leaves {
			t.Fatalf("refused erasures wrote %d leaves", n-leaves)
		}

		r := w.Must(t, 201, "POST", url, regulator, body)
		if r.Str("subject_id") != "bods:P" || r.Str("ground") != "unlawfully_processed" || r.Str("reference") != "DPO decision 2026/14" {
			t.Fatalf("erasure: %s", r.Raw)
		}
		var left, erased int
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM assets_bods_statements WHERE record_id = 'P' AND (wrapped_key IS NOT NULL OR sealed IS NOT NULL)").Scan(&left); err != nil {
			t.Fatal(err)
		}
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM assets_bods_statements WHERE record_id = 'P' AND erased_commitment <> ''").Scan(&erased); err != nil {
			t.Fatal(err)
		}
		if left != 0 || erased != 2 {
			t.Fatalf("after the erasure %d sealed statements of P are left, %d erased; want 0 and 2", left, erased)
		}
		if again := w.Do(t, "POST", url, regulator, body); again.Status != 404 || !strings.Contains(string(again.Raw), "subject_erased") {
			t.Errorf("a second erasure: %d %s", again.Status, again.Raw)
		}

		// Lookups: the chains answer; P is erased and nameless, Q still named.
		got := w.Must(t, 200, "GET", "/api/v1/assets/bods/owners/E", w.Officer, nil)
		var a assets.OwnershipAnswer
		if err := json.Unmarshal(got.Raw, &a); err != nil {
			t.Fatal(err)
		}
		names := map[string]string{}
		for _, h := range a.Holdings {
			names[h.Node.ID] = h.Node.Name
		}
		if len(a.Holdings) != 2 || names["P"] != "" || names["Q"] != "Keptia Other" || !slices.Equal(a.Erased, []string{"P"}) {
			t.Fatalf("owners of E after the erasure: %s", got.Raw)
		}
		var ra assets.OwnershipAnswer
		if reg := w.Must(t, 200, "GET", "/api/v1/assets/bods/controls/P", regulator, nil); json.Unmarshal(reg.Raw, &ra) != nil || !slices.Equal(ra.Erased, []string{"P"}) {
			t.Errorf("the regulator's lookup of P does not say it was erased: %s", reg.Raw)
		}
		// The page says "(erased)" where the name was, as the command line
		// does, not a blank nor "Unspecified" (a party no statement names).
		browser := (&world{Env: w.Env}).signin(t, w.Officer)
		resp, err := browser.Get(w.URL + "/assets/ownership?record=E&question=owners")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		row := string(page)
		if i := strings.Index(row, `record=P&amp;`); i > 0 {
			row = row[strings.LastIndex(row[:i], "<tr>"):i]
		}
		if resp.StatusCode != 200 || !strings.Contains(row, "(erased)") || strings.Contains(row, "Unspecified") || strings.Contains(string(page), "Secretia") {
			t.Errorf("the ownership page's row of the erased P: %d\n%s", resp.StatusCode, row)
		}
		// Exports: the officer's holds Q as given and P without its data.
		exp := w.Do(t, "GET", "/api/v1/assets/bods/export", w.Officer, nil)
		if exp.Status != 200 || bytes.Contains(exp.Raw, []byte("Secretia")) || !bytes.Contains(exp.Raw, []byte("Keptia Other")) {
			t.Fatalf("the officer's export after the erasure: %d %s", exp.Status, exp.Raw)
		}
		if all, err := bods.ReadAll(bytes.NewReader(exp.Raw)); err != nil || len(all) != 6 {
			t.Fatalf("the export is not 6 valid statements: %d %v", len(all), err)
		}
		logged := w.dump(t, "SELECT CAST(data AS TEXT) FROM log_leaves")
		if !strings.Contains(logged, "privacy.subject_erased") || !strings.Contains(logged, "bods:P") || strings.Contains(logged, "Secretia") {
			t.Fatalf("the log does not hold the erasure, or holds the name")
		}

		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify after the erasure: %+v", rep)
		}
		// Sealed data put back behind custos's back (a copy of Q's row) fails log verify.
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE assets_bods_statements SET wrapped_key = (SELECT wrapped_key FROM assets_bods_statements WHERE record_id = 'Q'),
			sealed = (SELECT sealed FROM assets_bods_statements WHERE record_id = 'Q'), erased_commitment = '' WHERE record_id = 'P'`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if rep := w.Verify(t); !slices.ContainsFunc(rep.Problems, func(p string) bool {
			return strings.Contains(p, "the person P holds sealed data though entry") && strings.HasSuffix(p, "erased it (restored behind custos's back)")
		}) {
			t.Fatalf("log verify with an erased person's statements restored: %q", rep.Problems)
		}
		// A person marked erased behind custos's back fails it too.
		if _, err := w.App.DB.Read().Exec(ctx, `UPDATE assets_bods_statements SET erased_commitment = 'x' WHERE record_id = 'Q'`); err != nil {
			t.Fatal(err)
		}
		if rep := w.Verify(t); !slices.Contains(rep.Problems, "assets_bods_statements: the person Q is erased but no entry of the log erased it (erased behind custos's back)") {
			t.Fatalf("log verify with a person erased behind custos's back: %q", rep.Problems)
		}
	})
}
