package assets_test

import (
	"context"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets/bods"
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
