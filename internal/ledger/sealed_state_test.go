package ledger

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestSealedStateWithoutTimes: a verify state saved before the commitments
// kept their entries' times (custos_verify_sealed without at) still loads;
// the times are read from the leaves for the rows compared, and the state
// saved next keeps them.
func TestSealedStateWithoutTimes(t *testing.T) {
	ctx := context.Background()
	mem, err := store.OpenScratch(ctx, filepath.Join(t.TempDir(), "replay.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	tx, err := mem.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE " + sealedTable + " (ref TEXT PRIMARY KEY, commitment TEXT, idx BIGINT, erased BIGINT)",
		"CREATE TABLE " + sealedTable + "_first (at TEXT)",
		"INSERT INTO " + sealedTable + "_first (at) VALUES ('2025-01-01T10:00:00.000000Z')",
		"INSERT INTO " + sealedTable + " (ref, commitment, idx, erased) VALUES ('SU-A', 'sha256:aa', 1, NULL)",
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	s, err := loadSealedLog(ctx, mem.Read())
	if err != nil {
		t.Fatal(err)
	}
	if c := s.committed["SU-A"]; c.commitment != "sha256:aa" || c.index != 1 || c.at != "" {
		t.Fatalf("loaded %+v, want SU-A's commitment of leaf 1, its time unknown", c)
	}

	live := storetest.Open(t, storetest.SQLite(t), store.CoreSchema())
	if _, err := live.Read().Exec(ctx, "INSERT INTO log_leaves (idx, hash, data) VALUES (1, ?, ?)", []byte{1},
		`{"v":1,"type":"test.note","at":"2025-01-01T10:00:00.000000Z","data":{},"sealed":[{"ref":"SU-A","commitment":"sha256:aa"}]}`); err != nil {
		t.Fatal(err)
	}
	if err := s.leafTimes(ctx, live.Read(), []sealedRow{{ref: "SU-A"}}); err != nil {
		t.Fatal(err)
	}
	if c := s.committed["SU-A"]; c.at != "2025-01-01T10:00:00.000000Z" {
		t.Fatalf("after reading the leaves: %+v, want the leaf's time", c)
	}
	if err := s.save(ctx, mem); err != nil {
		t.Fatal(err)
	}
	s, err = loadSealedLog(ctx, mem.Read())
	if err != nil {
		t.Fatal(err)
	}
	if c := s.committed["SU-A"]; c.at != "2025-01-01T10:00:00.000000Z" {
		t.Fatalf("saved and loaded again: %+v, want the leaf's time kept", c)
	}
}
