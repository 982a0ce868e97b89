package assets_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBODSColumnsCheckedAgainstBody: the columns the ownership graph reads
// beside a statement's body (its share, its status, its parties, its
// name...) changed behind custos's back fail log verify, which names the
// row and the column, though the body and so the chunk digest are
// unchanged; set back, the log verifies again.
func TestBODSColumnsCheckedAgainstBody(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		b := &bods.Builder{Prefix: "columns", Date: "2026-05-01", Publisher: "Demoland companies register"}
		file := lines(b.Entity("E", "Open Company Ltd", "DL", ""), b.Entity("F", "Front Company Ltd", "DL", ""),
			b.Person("P", "Pat Example", ""), b.Relationship("r", "E", "P", []float64{60}, ""))
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=columns.jsonl", w.Officer, file)
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
		for _, c := range []struct{ record, column, value string }{
			{"r", "interests", `[{"type":"shareholding","direct":"direct","bo":true,"share":{"exact":90}}]`},
			{"r", "record_status", "closed"},
			{"r", "party", "F"},
			{"r", "subject", "F"},
			{"r", "record_id", "r-other"},
			{"E", "name", "Renamed Company Ltd"},
			{"E", "kind", "trust"},
			{"E", "record_type", "person"},
			{"P", "name", "Someone Else"},
			{"P", "statement_date", "2020-01-01"},
			{"E", "statement_id", "forged-statement"},
		} {
			var key, old string
			if err := w.App.DB.Read().QueryRow(ctx, "SELECT id, "+c.column+" FROM assets_bods_statements WHERE record_id = ?", c.record).Scan(&key, &old); err != nil {
				t.Fatal(err)
			}
			w.Tamper(t, "UPDATE assets_bods_statements SET "+c.column+" = ? WHERE id = ?", c.value, key)
			rep := w.Verify(t)
			want := `row id="` + key + `": column ` + c.column + ` differs from its statement's body`
			if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), want) {
				t.Fatalf("%s of %s changed: log verify says %v, want %q", c.column, c.record, rep.Problems, want)
			}
			w.Tamper(t, "UPDATE assets_bods_statements SET "+c.column+" = ? WHERE id = ?", old, key)
			if rep := w.Verify(t); !rep.OK() {
				t.Fatalf("%s of %s set back: log verify: %v", c.column, c.record, rep.Problems)
			}
		}
	})
}

// TestBODSVerifyNamesTheFirstInOrder: log verify's check of the statements
// runs on several workers (chunks of 4 statements here, batches of 2, four
// workers), and what it reports is what a reading in order finds: two rows
// whose columns differ are named in their order, the earlier alone when one
// problem is all it may report; of two chunks that do not match their
// digests (a statement's body changed in each, or two statements swapped
// between them) the earlier is named; a statement deleted is counted.
func TestBODSVerifyNamesTheFirstInOrder(t *testing.T) {
	assets.SmallBODSChunks(t, 4, 2)
	procs := runtime.GOMAXPROCS(4)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs) })
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		b := &bods.Builder{Prefix: "order", Date: "2026-05-01", Publisher: "Demoland companies register"}
		var stmts [][]byte
		for g := range 10 { // group g is chunk g: positions 4g to 4g+3
			e, p := fmt.Sprintf("E%d", g), fmt.Sprintf("P%d", g)
			stmts = append(stmts, b.Entity(e, "Company "+e+" Ltd", "DL", ""), b.Entity("F"+e, "Front "+e+" Ltd", "DL", ""),
				b.Person(p, "Person "+p, ""), b.Relationship(fmt.Sprintf("r%d", g), e, p, []float64{60}, ""))
		}
		id := w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=order.jsonl", w.Officer, lines(stmts...)).Str("id")
		verify := func(max int) *ledger.Report {
			t.Helper()
			rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey, MaxProblems: max})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		rep := verify(0)
		covered := "assets_bods_statements: 40 beneficial ownership statements in 10 chunks of 1 imports"
		if !rep.OK() || !slices.ContainsFunc(rep.Covered, func(s string) bool { return strings.HasPrefix(s, covered) }) {
			t.Fatalf("log verify: %v, covered %q, want %q", rep.Problems, rep.Covered, covered)
		}
		key := func(record string) string {
			t.Helper()
			var k string
			if err := w.App.DB.Read().QueryRow(ctx, "SELECT id FROM assets_bods_statements WHERE record_id = ?", record).Scan(&k); err != nil {
				t.Fatal(err)
			}
			return k
		}
		e2, e7 := key("E2"), key("E7")
		bad := func(rep *ledger.Report, want ...string) {
			t.Helper()
			var got []string
			for _, p := range rep.Problems {
				if strings.Contains(p, "assets_bods_statements") {
					got = append(got, p)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("log verify says\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}

		// Two rows' columns changed, in chunks 2 and 7 (batches 4 and 14).
		w.Tamper(t, "UPDATE assets_bods_statements SET name = 'Renamed Ltd' WHERE id IN (?, ?)", e7, e2)
		differs := func(k string) string {
			return `table assets_bods_statements: row id="` + k + `": column name differs from its statement's body (changed behind custos's back)`
		}
		for range 2 {
			bad(verify(0), differs(e2), differs(e7))
			bad(verify(1), differs(e2))
		}
		w.Tamper(t, "UPDATE assets_bods_statements SET name = 'Company E2 Ltd' WHERE id = ?", e2)
		w.Tamper(t, "UPDATE assets_bods_statements SET name = 'Company E7 Ltd' WHERE id = ?", e7)
		if rep := verify(0); !rep.OK() {
			t.Fatalf("names set back: log verify: %v", rep.Problems)
		}

		// Two bodies changed where no column shows it: the earlier chunk.
		chunk2 := "assets_bods_statements: chunk 2 of import " + id + " does not match its digest in the log (changed behind custos's back)"
		w.Tamper(t, "UPDATE assets_bods_statements SET body = replace(body, 'Demoland companies', 'Elsewhere companies') WHERE id IN (?, ?)", e7, e2)
		bad(verify(0), chunk2)
		w.Tamper(t, "UPDATE assets_bods_statements SET body = replace(body, 'Elsewhere companies', 'Demoland companies') WHERE id IN (?, ?)", e7, e2)
		if rep := verify(0); !rep.OK() {
			t.Fatalf("bodies set back: log verify: %v", rep.Problems)
		}

		// Two statements swapped between chunks 2 and 7: each row agrees
		// with its body, the chunks do not with their digests.
		swap := func() {
			t.Helper()
			w.Tamper(t, "UPDATE assets_bods_statements SET id = 'swapping', pos = -1 WHERE id = ?", e2)
			w.Tamper(t, "UPDATE assets_bods_statements SET id = ?, pos = 8 WHERE id = ?", e2, e7)
			w.Tamper(t, "UPDATE assets_bods_statements SET id = ?, pos = 28 WHERE id = 'swapping'", e7)
		}
		swap()
		bad(verify(0), chunk2)
		swap()
		if rep := verify(0); !rep.OK() {
			t.Fatalf("swapped back: log verify: %v", rep.Problems)
		}

		// A statement deleted.
		w.Tamper(t, "DELETE FROM assets_bods_statements WHERE record_id = 'r5'")
		bad(verify(0), "assets_bods_statements: import "+id+" holds 39 statements, its entry says 40")
	})
}
