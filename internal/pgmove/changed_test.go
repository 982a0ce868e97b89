package pgmove

import (
	"context"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestChangedOutsideLog finds a table outside the log that a server
// changed after the copy's snapshot (a repeat counted on an open alert),
// and leaves out the tables a replay rebuilds, which log verify checks.
func TestChangedOutsideLog(t *testing.T) {
	ctx := context.Background()
	e := apptest.Start(t, storetest.SQLite(t))
	db := e.App.DB
	tables := []pgTable{{name: "alert_repeats"}, {name: "alerts"}, {name: "web_sessions"}, {name: "log_leaves"}}
	snap, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Rollback()
	if changed, err := changedOutsideLog(ctx, snap, db.Read(), tables); err != nil || len(changed) != 0 {
		t.Fatalf("nothing written: changed %v (%v)", changed, err)
	}
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"INSERT INTO alert_repeats (alert_id, count, last_at) VALUES ('AL-X', 3, '2026-12-05T10:00:00Z')",
		// A projection: log verify checks it against the log.
		"INSERT INTO alerts (id, raised_at, rule, field, message, command, authority_id, principal_id, log_index) VALUES ('AL-Y', '', 'r', 'f', 'm', 'c', '', '', 0)",
	} {
		if _, err := tx.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	changed, err := changedOutsideLog(ctx, snap, db.Read(), tables)
	if err != nil || !slices.Equal(changed, []string{"alert_repeats"}) {
		t.Fatalf("after a repeat counted: changed %v (%v), want [alert_repeats]", changed, err)
	}
}
