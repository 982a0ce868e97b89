package assets_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBODSNameLabels: a person's name that is not shown reads the same in
// the ownership page's table, its heading and its drawing, translated, as
// the command line writes it (NameLabel): "(name sealed)" for a name the
// reader may not open (the regulator), "(erased)" for an erased person;
// never a blank nor "Unspecified" (a party no statement names); the API
// lists the first in sealed, the second in erased.
func TestBODSNameLabels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		regulator := w.regulator(t)
		b := &bods.Builder{Prefix: "label-1", Date: "2026-05-01", Publisher: "Demoland companies register"}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=one.jsonl", w.Officer,
			lines(b.Entity("E", "Open Company Ltd", "DL", ""), b.Person("P", "Secretia Namesake", ""), b.Person("Q", "Keptia Other", ""),
				b.Relationship("r", "E", "P", []float64{60}, ""), b.Relationship("s", "E", "Q", []float64{40}, "")))

		erased := false
		// page returns the ownership page's row of P, its heading and its
		// drawing, in language lang.
		page := func(token, question, record, lang string) (row, heading, drawing string) {
			t.Helper()
			browser := (&world{Env: w.Env}).signin(t, token)
			req, _ := http.NewRequest("GET", w.URL+"/assets/ownership?record="+record+"&question="+question, nil)
			req.Header.Set("Accept-Language", lang)
			resp, err := browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			if resp.StatusCode != 200 || (token == regulator || erased) && strings.Contains(body, "Secretia") {
				t.Fatalf("the ownership page of %s for %s: %d (or it shows the name)\n%s", record, lang, resp.StatusCode, body)
			}
			if i := strings.Index(body, `record=P&amp;`); i > 0 && strings.LastIndex(body[:i], "<tr>") >= 0 {
				row = body[strings.LastIndex(body[:i], "<tr>"):i]
			}
			_, heading, _ = strings.Cut(body, `<section id="ownership-answer">`)
			heading, _, _ = strings.Cut(heading, "</h2>")
			_, drawing, _ = strings.Cut(body, `<figure class="ownership-graph"`)
			drawing, _, _ = strings.Cut(drawing, "</figure>")
			return row, heading, drawing
		}
		// P's box in the drawing: the text just before its record id.
		box := func(drawing string) string {
			i := strings.Index(drawing, `font-family="monospace">P</text>`)
			if i < 0 {
				return ""
			}
			texts := strings.Split(drawing[:i], "<text")
			return texts[len(texts)-2]
		}
		answer := func(token, question, record string) assets.OwnershipAnswer {
			t.Helper()
			var a assets.OwnershipAnswer
			if err := json.Unmarshal(w.Must(t, 200, "GET", "/api/v1/assets/bods/"+question+"/"+record, token, nil).Raw, &a); err != nil {
				t.Fatal(err)
			}
			return a
		}

		// The regulator may not open a person's name: sealed, and said so.
		if a := answer(regulator, "owners", "E"); !slices.Equal(a.Sealed, []string{"P", "Q"}) || len(a.Erased) != 0 {
			t.Errorf("the regulator's answer names sealed %v and erased %v, want [P Q] and none", a.Sealed, a.Erased)
		}
		if a := answer(w.Officer, "owners", "E"); len(a.Sealed) != 0 {
			t.Errorf("the officer, who opens names, is told %v are sealed", a.Sealed)
		}
		for _, c := range []struct{ lang, want string }{{"en", "(name sealed)"}, {"fr", "(nom scellé)"}} {
			row, _, drawing := page(regulator, "owners", "E", c.lang)
			if !strings.Contains(row, c.want) || strings.Contains(row, "Unspecified") || strings.Contains(row, "Non précisé") {
				t.Errorf("the regulator's row of P (%s), want %q:\n%s", c.lang, c.want, row)
			}
			if got := box(drawing); !strings.Contains(got, ">"+c.want+"<") {
				t.Errorf("the regulator's drawing labels P (%s) %q, want %q", c.lang, got, c.want)
			}
			if _, heading, _ := page(regulator, "controls", "P", c.lang); !strings.Contains(heading, c.want) {
				t.Errorf("the regulator's heading of P (%s), want %q:\n%s", c.lang, c.want, heading)
			}
		}
		if _, _, drawing := page(w.Officer, "owners", "E", "en"); !strings.Contains(drawing, "Keptia Other") {
			t.Errorf("the officer's drawing does not name Q:\n%s", drawing)
		}

		// Erased: the same word for every reader, everywhere.
		w.Must(t, 201, "POST", "/api/v1/assets/bods/persons/P/erasure", regulator, map[string]any{"ground": "unlawfully_processed", "reference": "DPO decision 2026/15"})
		erased = true
		if a := answer(regulator, "owners", "E"); !slices.Equal(a.Sealed, []string{"Q"}) || !slices.Equal(a.Erased, []string{"P"}) {
			t.Errorf("after the erasure the regulator is told sealed %v, erased %v; want [Q] and [P]", a.Sealed, a.Erased)
		}
		for _, token := range []string{w.Officer, regulator} {
			for _, c := range []struct{ lang, want string }{{"en", "(erased)"}, {"fr", "(effacé)"}} {
				row, _, drawing := page(token, "owners", "E", c.lang)
				if !strings.Contains(row, c.want) || strings.Contains(row, "(name sealed)") {
					t.Errorf("the row of the erased P (%s), want %q:\n%s", c.lang, c.want, row)
				}
				if got := box(drawing); !strings.Contains(got, ">"+c.want+"<") {
					t.Errorf("the drawing labels the erased P (%s) %q, want %q", c.lang, got, c.want)
				}
				if _, heading, _ := page(token, "controls", "P", c.lang); !strings.Contains(heading, c.want) {
					t.Errorf("the heading of the erased P (%s), want %q:\n%s", c.lang, c.want, heading)
				}
			}
		}
	})
}

// TestBODSUnnamedLabel: a party no statement names (the unspecified party
// of a relationship, a record no statement declares) reads "Unspecified",
// translated, in the ownership page's table and in its drawing alike,
// never "?" nor an empty box; NameLabel gives the same to the command
// line.
func TestBODSUnnamedLabel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		b := &bods.Builder{Prefix: "unnamed-1", Date: "2026-05-01", Publisher: "Demoland companies register"}
		rel := b.Relationship("r-unknown", "E", "x", []float64{30}, "")
		var m map[string]any
		if err := json.Unmarshal(rel, &m); err != nil {
			t.Fatal(err)
		}
		m["recordDetails"].(map[string]any)["interestedParty"] = map[string]any{"reason": "informationUnknownToPublisher"}
		rel, _ = json.Marshal(m)
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=unnamed.jsonl", w.Officer,
			lines(b.Entity("E", "Open Company Ltd", "DL", ""), rel, b.Relationship("r-ghost", "E", "GHOST", []float64{20}, "")))

		browser := (&world{Env: w.Env}).signin(t, w.Officer)
		for _, c := range []struct{ lang, want string }{{"en", "Unspecified"}, {"fr", "Non précisé"}} {
			req, _ := http.NewRequest("GET", w.URL+"/assets/ownership?record=E&question=owners", nil)
			req.Header.Set("Accept-Language", c.lang)
			resp, err := browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page := string(body)
			_, table, _ := strings.Cut(page, `<table class="list" id="ownership-holdings">`)
			table, _, _ = strings.Cut(table, "</table>")
			_, drawing, _ := strings.Cut(page, `<figure class="ownership-graph"`)
			drawing, _, _ = strings.Cut(drawing, "</figure>")
			if resp.StatusCode != 200 || strings.Count(table, ">"+c.want+"<") != 2 {
				t.Errorf("the table (%s) does not label both unnamed parties %q: %d\n%s", c.lang, c.want, resp.StatusCode, table)
			}
			if strings.Count(drawing, ">"+c.want+"<") != 2 || strings.Contains(drawing, ">?<") {
				t.Errorf("the drawing (%s) does not label both unnamed parties %q:\n%s", c.lang, c.want, drawing)
			}
		}

		ctx := context.Background()
		p, err := auth.Authenticate(ctx, w.App.DB.Read(), w.Officer)
		if err != nil {
			t.Fatal(err)
		}
		a, err := w.S.Ownership(ctx, p, assets.QuestionOwners, "E", "cli")
		if err != nil {
			t.Fatal(err)
		}
		var labels []string
		for _, h := range a.Holdings {
			l, placeholder := a.NameLabel(h.Node)
			if !placeholder {
				t.Errorf("the label of %+v is not a placeholder", h.Node)
			}
			labels = append(labels, l)
		}
		if !slices.Equal(labels, []string{"Unspecified", "Unspecified"}) {
			t.Errorf("NameLabel gives the unnamed parties %q, want Unspecified twice", labels)
		}
	})
}
