package web_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/storetest"
)

// TestOwnershipPage draws the ownership graph of an entity and of a person
// on the page, and refuses an unknown record on the form.
func TestOwnershipPage(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	ca := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Demoland Central Authority", "kind": "central_authority"}).Str("id")
	token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Officer", "role": "central_authority_officer", "authority_id": ca}).Str("token")
	b := &bods.Builder{Prefix: "web", Date: "2026-05-01", Publisher: "Demoland companies register"}
	file := bytes.Join([][]byte{b.Entity("A", "Alpha <Holdings>", "DL", ""), b.Entity("B", "Beta Ltd", "DL", ""), b.Person("P", "Pat Example", ""),
		b.Relationship("r1", "A", "B", []float64{80}, ""), b.Relationship("r2", "B", "P", []float64{25, 50}, ""), b.Relationship("r3", "B", "A", []float64{5}, "")}, []byte("\n"))
	e.Must(t, 201, "POST", "/api/v1/assets/bods/imports", token, file)
	br := newBrowser(t, e.URL)
	br.signIn(token)
	p := br.get("/assets/ownership?record=A&question=owners")
	if p.Status != 200 {
		t.Fatalf("status %d: %s", p.Status, p.Body)
	}
	// B (80% of A) and A (5% of B) are a circle: B is a holder in it, not
	// an ultimate owner, with its direct share.
	for _, want := range []string{"<svg", "Alpha &lt;Holdings&gt;", "Pat Example", ">80%<", ">25–50%<", "20–40%", "loop",
		`id="ownership-holders"`, "A circle of holdings:", `<span dir="ltr" class="code">B</span>`, "in a circle", "Direct share"} {
		if !strings.Contains(p.Body, want) {
			t.Fatalf("the page lacks %q", want)
		}
	}
	if c := br.get("/assets/ownership?record=P&question=controls"); !strings.Contains(c.Body, "Beta Ltd") || !strings.Contains(c.Body, "<svg") {
		t.Fatalf("P's page: %d", c.Status)
	}
	if u := br.get("/assets/ownership?record=nobody"); u.Status != 404 && !strings.Contains(u.Body, "no person or entity") {
		t.Fatalf("an unknown record: %d", u.Status)
	}
	if !strings.Contains(br.get("/").Body, `href="/assets/ownership"`) {
		t.Fatal("the navigation has no link to the ownership page")
	}
}
