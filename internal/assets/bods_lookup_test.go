package assets_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBODSLookupNeverStale: a server keeps its ownership graph in memory
// from its first lookup and reads nothing else before answering; what
// another server on the same database changes afterwards (an import that
// updates a share and adds a company, an erasure, an import that brings
// the erased person back) is in its next answers all the same, each
// lookup logged once, and the log verifies.
func TestBODSLookupNeverStale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		other, err := server.Open(ctx, w.Cfg) // a second server on the same database: a graph of its own
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		there := other.Service("assets").(*assets.Service)
		officer, regulator := w.Principal(t, w.Officer), w.Principal(t, w.regulator(t))
		lookups := 0
		owners := func(id string) *assets.OwnershipAnswer {
			t.Helper()
			a, err := w.S.Ownership(ctx, officer, assets.QuestionOwners, id, "cli")
			if err != nil {
				t.Fatalf("owners of %s: %v", id, err)
			}
			lookups++
			return a
		}
		holding := func(a *assets.OwnershipAnswer, id string) *bods.Holding {
			for i := range a.Holdings {
				if a.Holdings[i].Node.ID == id {
					return &a.Holdings[i]
				}
			}
			t.Fatalf("%s is not among the owners of %s: %+v", id, a.Root.ID, a.Holdings)
			return nil
		}
		importThere := func(name string, stmts ...[]byte) string {
			t.Helper()
			im, err := there.ImportBODS(ctx, officer, name, bytes.NewReader(lines(stmts...)), 0, nil)
			if err != nil {
				t.Fatalf("import %s on the other server: %v", name, err)
			}
			return im.ID
		}

		b := &bods.Builder{Prefix: "stale-1", Date: "2026-07-01", Publisher: "Demoland companies register"}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=one.jsonl", w.Officer,
			lines(b.Entity("A", "Alpha Ltd", "DL", ""), b.Entity("B", "Beta Ltd", "DL", ""), b.Person("P", "Pia Sealed", ""),
				b.Relationship("r1", "A", "B", []float64{60}, ""), b.Relationship("r2", "B", "P", []float64{50}, "")))
		a := owners("A") // loads this server's graph
		if p := holding(a, "P"); p.Node.Name != "Pia Sealed" || p.Lo != 30 || a.Imports != 1 || len(a.Erased) != 0 {
			t.Fatalf("first answer: %+v, imports %d, erased %v", p, a.Imports, a.Erased)
		}

		// The other server imports: r1 now 80%, and a company D that only
		// the new import has, owned by Q.
		b2 := &bods.Builder{Prefix: "stale-2", Date: "2026-08-01", Publisher: "Demoland companies register"}
		second := importThere("two.jsonl", b2.Relationship("r1", "A", "B", []float64{80}, bods.StatusUpdated),
			b2.Entity("D", "Delta SA", "XB", ""), b2.Person("Q", "Quirin Sealed", ""), b2.Relationship("r3", "D", "Q", []float64{100}, ""))
		a = owners("A")
		if p := holding(a, "P"); p.Lo != 40 || a.Imports != 2 || a.Source != second {
			t.Fatalf("after the other server's import: P holds %v-%v of A, imports %d, source %s (want 40, 2, %s)", p.Lo, p.Hi, a.Imports, a.Source, second)
		}
		if q := holding(owners("D"), "Q"); q.Node.Name != "Quirin Sealed" {
			t.Fatalf("the new import's person: %+v", q.Node)
		}

		// The other server erases P: this server's next answer names P as
		// erased, without the name it gave before.
		if _, err := there.EraseBODSPerson(ctx, regulator, "P", assets.Erase{Ground: "unlawfully_processed", Reference: "DPO decision 2026/77"}); err != nil {
			t.Fatal(err)
		}
		a = owners("A")
		if p := holding(a, "P"); p.Node.Name != "" || !slices.Equal(a.Erased, []string{"P"}) {
			t.Fatalf("after the erasure: P is %+v, erased %v", p.Node, a.Erased)
		}
		reg, err := w.S.Ownership(ctx, regulator, assets.QuestionControls, "P", "cli")
		if err != nil || !slices.Equal(reg.Erased, []string{"P"}) || reg.Root.Name != "" {
			t.Fatalf("the regulator's lookup after the erasure: %+v, %v", reg, err)
		}
		lookups++

		// A later import brings P back with a new statement: named again.
		b3 := &bods.Builder{Prefix: "stale-3", Date: "2026-09-01", Publisher: "Demoland companies register"}
		importThere("three.jsonl", b3.Person("P", "Pia Returned", bods.StatusUpdated))
		a = owners("A")
		if p := holding(a, "P"); p.Node.Name != "Pia Returned" || len(a.Erased) != 0 || a.Imports != 3 {
			t.Fatalf("after P's new statement: %+v, erased %v, imports %d", p.Node, a.Erased, a.Imports)
		}

		// A record no import has is refused and not logged.
		if _, err := w.S.Ownership(ctx, officer, assets.QuestionOwners, "NOBODY", "cli"); err == nil {
			t.Fatal("a lookup of a record no statement names was answered")
		}
		if n := w.count(t, "assets_bods_lookups"); n != lookups {
			t.Fatalf("%d lookups logged, want %d: one each, none for an answer made again", n, lookups)
		}
		var personal int
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM assets_bods_lookups WHERE personal = 1").Scan(&personal); err != nil {
			t.Fatal(err)
		}
		if personal != lookups-2 { // all but the officer's after the erasure and the regulator's
			t.Fatalf("%d lookups logged as giving personal data, want %d", personal, lookups-2)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
	})
}
