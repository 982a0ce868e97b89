package ledger_test

import (
	"context"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVerifyNamesForeignObjects: what custos never makes, and what could
// show the registry's readers other rows than a verification reads, fails
// verify by name. An outside auditor's case on PostgreSQL: a row-level
// security policy that hides a row from every transaction but
// verification's repeatable-read snapshot (the registry's lists lost rows,
// verify said OK). On SQLite, a view.
func TestVerifyNamesForeignObjects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, vkey := newLog(t, dsn)
		writeNotes(t, w, "n", 0, 5)
		exec := func(q string) {
			t.Helper()
			if _, err := db.Read().Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		verify := func() []string {
			t.Helper()
			rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey})
			if err != nil {
				t.Fatal(err)
			}
			return rep.Problems
		}
		if p := verify(); len(p) != 0 {
			t.Fatalf("an untouched registry: %q", p)
		}
		var want []string
		if db.Dialect == store.Postgres {
			exec("ALTER TABLE settings ENABLE ROW LEVEL SECURITY")
			exec("ALTER TABLE settings FORCE ROW LEVEL SECURITY")
			exec("CREATE POLICY allow_all ON settings USING (true) WITH CHECK (true)")
			exec("CREATE POLICY hide ON settings AS RESTRICTIVE FOR SELECT USING (current_setting('transaction_isolation') = 'repeatable read' OR name <> 'n-1')")
			exec("CREATE VIEW settings_seen AS SELECT * FROM settings")
			want = []string{
				"table settings: row-level security is forced, which custos never turns on: its policies can show the registry's readers other rows than a verification reads; ALTER TABLE settings NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY, drop its policies and verify again",
				"table settings: row-level security policy allow_all, which custos never makes: drop it and verify again",
				"table settings: row-level security policy hide, which custos never makes: drop it and verify again",
				"settings_seen: a view, which custos never makes: it can stand in for a table under its name; drop it, restore the table from a backup, and verify again",
			}
			// The policy works: the server's reads no longer see the row.
			var n int
			if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE name = 'n-1'").Scan(&n); err != nil || n != 0 {
				t.Fatalf("the policy hides %d rows (%v)", 1-n, err)
			}
		} else {
			exec("CREATE VIEW settings_seen AS SELECT * FROM settings")
			want = []string{"settings_seen: a view, which custos never makes: it can stand in for a table under its name; drop it, restore the table from a backup, and verify again"}
		}
		got := verify()
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("verify did not say %q; it said %q", w, got)
			}
		}
		found, err := ledger.ForeignObjects(ctx, db.Read())
		if err != nil || !slices.Equal(found, want) {
			t.Fatalf("ForeignObjects: %q (%v), want %q", found, err, want)
		}
	})
}
