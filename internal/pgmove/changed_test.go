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
// and leaves out the tables a replay rebuilds, which log verify checks; on
// both engines, the sources of Move and Back.
func TestChangedOutsideLog(t *testing.T) {
	storetest.Each(t, testChangedOutsideLog)
}

func testChangedOutsideLog(t *testing.T, dsn string) {
	ctx := context.Background()
	e := apptest.Start(t, dsn)
	db := e.App.DB
	var tables []pgTable
	for _, name := range []string{"alert_repeats", "alerts", "web_sessions", "log_leaves"} {
		rows, err := db.Read().Query(ctx, "SELECT * FROM "+name+" LIMIT 0")
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		rows.Close()
		if err != nil {
			t.Fatal(err)
		}
		tables = append(tables, pgTable{name: name, cols: cols})
	}
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
