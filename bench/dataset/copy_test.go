package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/transplant"
)

// TestCopyToPostgres generates one small registry on SQLite and copies it
// into PostgreSQL, generates the same registry (same seed) on PostgreSQL
// through the writer, and checks that the two PostgreSQL registries hold
// the same rows in the reports' tables and their base tables, the same
// number of rows in every table, and give the same GODT report for every
// year and the same equity report: a copy is what generating on PostgreSQL
// writes.
func TestCopyToPostgres(t *testing.T) {
	pgURL := os.Getenv("CUSTOS_TEST_POSTGRES")
	if pgURL == "" {
		t.Skip("CUSTOS_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	opt := Options{Organs: 2500, Clients: 256}
	dir := t.TempDir()
	lite := filepath.Join(dir, "registry.db")
	if _, err := Generate(ctx, server.Config{DSN: lite}, opt); err != nil {
		t.Fatal(err)
	}
	copied, copiedKey, cleanup, err := PostgresSchema(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if err := CopyToPostgres(ctx, lite, lite+".key", copied, copiedKey, func(m string) { t.Log(m) }); err != nil {
		t.Fatal(err)
	}
	generated, generatedKey, cleanup2, err := PostgresSchema(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup2()
	if _, err := Generate(ctx, server.Config{DSN: generated, KeyFile: generatedKey}, opt); err != nil {
		t.Fatal(err)
	}

	a := openApp(t, server.Config{DSN: copied, KeyFile: copiedKey})
	b := openApp(t, server.Config{DSN: generated, KeyFile: generatedKey})
	for _, q := range []string{
		"SELECT id, donor_id, donor_kind, procured_at, year, utilized FROM godt_donations ORDER BY id",
		"SELECT id, performed_at, year, organ, donor_kind, procedure_kind FROM godt_transplants ORDER BY id",
		"SELECT recipient_id, listed_on, organ, sex, age_band, region, residence, status, abroad, first_at, wait_months FROM equity_registrations ORDER BY recipient_id",
		"SELECT id, organ_id, recipient_id, centre_id, performed_at FROM transplants ORDER BY id",
		"SELECT id, sex, date_of_birth, region, residence, organ_needed, listed_on FROM recipients ORDER BY id",
		"SELECT id, donor_id, procurement_id, organ FROM organs ORDER BY id",
		"SELECT id, kind, centre_id FROM donors ORDER BY id",
	} {
		ra, rb := dump(t, a, q), dump(t, b, q)
		if len(ra) < 100 {
			t.Fatalf("%s: %d rows, a registry of %d organs has more", q, len(ra), opt.Organs)
		}
		if !slices.Equal(ra, rb) {
			t.Errorf("%s: the copy has %d rows, generating on PostgreSQL %d; first difference %s", q, len(ra), len(rb), firstDiff(ra, rb))
		}
	}
	// Every table holds as many rows (the log's ids and times differ: they
	// are drawn as the writer commits).
	tables := dump(t, a, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)
	for _, name := range tables {
		q := "SELECT COUNT(*) FROM " + name
		if ca, cb := dump(t, a, q), dump(t, b, q); !slices.Equal(ca, cb) {
			t.Errorf("%s: %v rows in the copy, %v generating on PostgreSQL", name, ca, cb)
		}
	}
	// The copy is a whole registry: its log verifies, and every projected
	// table replays from it.
	rep, err := ledger.Verify(ctx, a.DB, a.Projections, ledger.VerifyOptions{VerifierKey: a.Keys.LogKey})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Tables == 0 {
		t.Errorf("log verify of the copy: %d tables compared, problems %v", rep.Tables, rep.Problems)
	}
	auditor := &auth.Principal{ID: "PR-BENCHAUDITOR", Role: auth.Auditor}
	for year := 2020; year <= 2025; year++ {
		q := transplant.GODTQuery{Country: Jurisdiction, Year: year, Population: 5_000_000}
		ga, err := a.Transplant.GODT(ctx, auditor, q)
		if err != nil {
			t.Fatal(err)
		}
		gb, err := b.Transplant.GODT(ctx, auditor, q)
		if err != nil {
			t.Fatal(err)
		}
		if ga.Value("total_kidney_tx") == 0 {
			t.Errorf("%d: no kidney transplant counted", year)
		}
		if ja, jb := jsonOf(t, ga), jsonOf(t, gb); ja != jb {
			t.Errorf("GODT %d: copy %s\ngenerated %s", year, ja, jb)
		}
	}
	reader := &auth.Principal{ID: "PR-BENCHREADER", Role: auth.Regulator, Jurisdiction: Jurisdiction}
	f := transplant.EquityFilter{From: "1900-01-01", End: "2999-01-01"}
	ea, err := a.Transplant.EquityReport(ctx, reader, f)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := b.Transplant.EquityReport(ctx, reader, f)
	if err != nil {
		t.Fatal(err)
	}
	if ea.Tables[0].Counts.Total.Value != opt.Organs {
		t.Errorf("the equity report counts %d registrations, want %d", ea.Tables[0].Counts.Total.Value, opt.Organs)
	}
	if ja, jb := jsonOf(t, ea), jsonOf(t, eb); ja != jb {
		t.Errorf("equity report: copy %s\ngenerated %s", ja, jb)
	}
}

func openApp(t *testing.T, cfg server.Config) *server.App {
	t.Helper()
	app, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

// dump reads every row of q as a line of text.
func dump(t *testing.T, app *server.App, q string) []string {
	t.Helper()
	rows, err := app.DB.Read().Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("row %d: %q against %q", i, a[i], b[i])
		}
	}
	return "one is longer"
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
