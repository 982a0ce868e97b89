package ledger_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

func writeNotes(t *testing.T, w *ledger.Writer, prefix string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := w.Submit(context.Background(), ledger.Actor{}, "note", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			return ledger.NewEntry("test.note", noteData{ID: fmt.Sprintf("%s-%d", prefix, i), N: i})
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVerifyFromState checks incremental verification: a verify saves its
// state; the next one, from that state, replays only the leaves after its
// checkpoint and passes on an untouched log; it fails when a row whose last
// change is older than the checkpoint was changed since, when the history
// before the checkpoint was rewritten (a log re-made and re-signed with the
// same key), and a state file or replay file that was changed is refused,
// as is a keyed state without its key.
func TestVerifyFromState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, signer, vkey := newLog(t, dsn)
		dir := t.TempDir()
		state := filepath.Join(dir, "audit.json")
		key, created, err := ledger.LoadStateKey(filepath.Join(dir, "audit.key"), true)
		if err != nil || !created {
			t.Fatalf("the state key: created %v, %v", created, err)
		}
		writeNotes(t, w, "old", 0, 6)
		verify := func(opt ledger.VerifyOptions) *ledger.Report {
			t.Helper()
			opt.VerifierKey, opt.StateKey = vkey, key
			rep, err := ledger.Verify(ctx, db, reg, opt)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		load := func() *ledger.AuditState {
			t.Helper()
			st, err := ledger.LoadAuditState(state, key)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		full := verify(ledger.VerifyOptions{SaveState: state})
		if !full.OK() || full.SavedState != state || full.From != 0 || full.Replayed != full.Size {
			t.Fatalf("full verify saving its state: %+v", full)
		}
		st := load()
		if st.Size != full.Size || st.LogKey != vkey || st.Origin != signer.Name() {
			t.Errorf("state: size %d key %s origin %s", st.Size, st.LogKey, st.Origin)
		}
		first := st.Replay
		// The state is read as custos writes it: a key in another case, or
		// given twice, kept its seal under encoding/json (which read it as
		// the field, or kept the last, and the seal is over what it read
		// written back) and is refused now, naming the rule and the field.
		written, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		for changed, want := range map[string]string{
			strings.Replace(string(written), `"size"`, `"SIZE"`, 1):            `unknown_field: the field "SIZE" is not part of this document: names are written as documented, here "size" (field SIZE)`,
			strings.Replace(string(written), `"size"`, `"size": 0, "size"`, 1): `duplicate_key: the key "size" is given twice in one object (field size)`,
		} {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := ledger.LoadAuditState(path, key); err == nil || !strings.Contains(err.Error(), "is not valid: "+want) {
				t.Errorf("a state changed to %s: %v, want %q", changed, err, want)
			}
		}
		// The replay built its secondary indexes at the end: the kept
		// file has the schema's every index, as a later replay needs.
		if got, want := indexNames(t, filepath.Join(dir, first)), indexNames(t, ""); len(want) < 10 || !slices.Equal(got, want) {
			t.Errorf("the kept replay's indexes:\n%q\nthe schema's:\n%q", got, want)
		}

		writeNotes(t, w, "new", 0, 4)
		rep := verify(ledger.VerifyOptions{From: st, SaveState: state})
		if !rep.OK() || rep.From != full.Size || rep.Replayed != 4 || rep.Size != full.Size+4 || rep.Rows != full.Rows+4 {
			t.Fatalf("from the state: %+v", rep)
		}
		if _, err := os.Stat(filepath.Join(dir, first)); !os.IsNotExist(err) {
			t.Errorf("the replay file the state named before is still there (%v)", err)
		}
		rep = verify(ledger.VerifyOptions{From: load()})
		if !rep.OK() || rep.Replayed != 0 {
			t.Errorf("from the state, nothing new: %+v", rep)
		}

		// A row whose last change is older than the checkpoint, changed
		// since: the replay never touches it again, the comparison finds it.
		writeNotes(t, w, "later", 0, 2)
		if _, err := db.Read().Exec(ctx, "UPDATE settings SET value = '99' WHERE name = 'old-2'"); err != nil {
			t.Fatal(err)
		}
		rep = verify(ledger.VerifyOptions{From: load()})
		if rep.Replayed != 2 || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], `table settings: row name="old-2": column value is "99" in the database but "2" in the log`) {
			t.Errorf("an old row changed after the checkpoint: %q", rep.Problems)
		}
		if _, err := db.Read().Exec(ctx, "UPDATE settings SET value = '2' WHERE name = 'old-2'"); err != nil {
			t.Fatal(err)
		}

		// The history rewritten: the same key signs a log whose leaves
		// before the checkpoint differ.
		fresh := storetest.SQLite
		if strings.HasPrefix(dsn, "postgres") {
			fresh = storetest.Postgres
		}
		other, oreg, ow := newLogWith(t, fresh(t), signer, vkey)
		writeNotes(t, ow, "forged", 0, 14)
		rep, err = ledger.Verify(ctx, other, oreg, ledger.VerifyOptions{From: load(), StateKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || !strings.Contains(rep.Problems[0], "the history before that checkpoint was rewritten") || rep.Replayed != 0 {
			t.Errorf("a rewritten history: %q (replayed %d)", rep.Problems, rep.Replayed)
		}
		// Rolled back: fewer leaves than the checkpoint.
		short, sreg, sw := newLogWith(t, fresh(t), signer, vkey)
		writeNotes(t, sw, "short", 0, 2)
		rep, err = ledger.Verify(ctx, short, sreg, ledger.VerifyOptions{From: load(), StateKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || !strings.Contains(rep.Problems[0], "it was rolled back or cut") {
			t.Errorf("a log shorter than the checkpoint: %q", rep.Problems)
		}

		// The state file and its replay file are sealed.
		b, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		tampered := filepath.Join(dir, "tampered.json")
		size := fmt.Sprintf(`"size": %d`, load().Size)
		if err := os.WriteFile(tampered, []byte(strings.Replace(string(b), size, `"size": 3`, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.LoadAuditState(tampered, key); err == nil || !strings.Contains(err.Error(), "its seal does not match its content") {
			t.Errorf("a state file changed: %v", err)
		}
		if _, err := ledger.LoadAuditState(state, nil); err == nil || !strings.Contains(err.Error(), "sealed with a state key: give it") {
			t.Errorf("a keyed state without its key: %v", err)
		}
		if _, err := ledger.LoadAuditState(state, []byte(strings.Repeat("k", 32))); err == nil || !strings.Contains(err.Error(), "its seal does not match") {
			t.Errorf("a keyed state with another key: %v", err)
		}
		replay := filepath.Join(dir, load().Replay)
		rb, err := os.ReadFile(replay)
		if err != nil {
			t.Fatal(err)
		}
		rb[len(rb)/2] ^= 1
		if err := os.WriteFile(replay, rb, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{From: load(), StateKey: key}); err == nil || !strings.Contains(err.Error(), "it was changed") {
			t.Errorf("a replay file changed: %v", err)
		}
		// Another registry's key: refused.
		if _, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{From: load(), VerifierKey: "custos/XB+00000000+AXqc9keKtc3NXjsprIiws5mc4ud9hTBQgV8lQlH5C89Z"}); err == nil || !strings.Contains(err.Error(), "not the one given: refused") {
			t.Errorf("a state of another key: %v", err)
		}
	})
}

// FuzzLoadAuditState feeds LoadAuditState what could stand in a state file:
// it never panics, and what it accepts carries a seal that matches, a
// valid key and a compact range that makes its root.
func FuzzLoadAuditState(f *testing.F) {
	f.Add([]byte(`{"format":"custos-verify-state/1","origin":"custos/XA","log_key":"custos/XA+3f7432ef+AXqc9keKtc3NXjsprIiws5mc4ud9hTBQgV8lQlH5C89Z","size":0,"range":[],"replay":"a.db","mac":"sha256:00"}`))
	f.Add([]byte(`{"format":"custos-verify-state/1","size":3,"root":"AAAA","range":["AAAA"],"mac":"hmac-sha256:00"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`not json`))
	f.Add([]byte(`{"format":"custos-verify-state/1","FORMAT":"x","size":0,"size":1,"mac":"sha256:00"}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "state.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := ledger.LoadAuditState(path, nil)
		if err != nil {
			return
		}
		if !jsontext.Value(b).IsValid() {
			t.Errorf("accepted a state with a key twice or bytes that are not UTF-8: %q", b)
		}
		if st.Format != ledger.AuditStateFormat || !strings.HasPrefix(st.MAC, "sha256:") {
			t.Errorf("accepted a state of format %q sealed %q", st.Format, st.MAC)
		}
	})
}

// indexNames lists the indexes made by CREATE INDEX in a SQLite file, or
// with path "" in a new one migrated to the core's schema.
func indexNames(t *testing.T, path string) []string {
	t.Helper()
	ctx := context.Background()
	if path == "" {
		path = filepath.Join(t.TempDir(), "schema.db")
		db, err := store.OpenScratch(ctx, path, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Migrate(ctx, []store.Schema{store.CoreSchema()}); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.OpenScratch(ctx, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return ledger.IndexNames(t, db)
}

// TestVerifyFromOldLeaves checks that a verification from a kept state reads
// the leaves before its checkpoint as a full one does: an old leaf deleted,
// two swapped, one rewritten with its hash, one altered in its text alone,
// and a stored subtree hash of the old tree changed or deleted are each
// found, though the frontier of the old tree and the consistency proof from
// the stored nodes still hold.
func TestVerifyFromOldLeaves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, vkey := newLog(t, dsn)
		dir := t.TempDir()
		state := filepath.Join(dir, "audit.json")
		writeNotes(t, w, "old", 0, 40)
		verify := func(opt ledger.VerifyOptions) *ledger.Report {
			t.Helper()
			opt.VerifierKey = vkey
			rep, err := ledger.Verify(ctx, db, reg, opt)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		if rep := verify(ledger.VerifyOptions{SaveState: state}); !rep.OK() {
			t.Fatalf("full verify: %q", rep.Problems)
		}
		st, err := ledger.LoadAuditState(state, nil)
		if err != nil {
			t.Fatal(err)
		}
		writeNotes(t, w, "new", 0, 5)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Read().Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		leaf := func(idx int64) (hash, data []byte) {
			t.Helper()
			if err := db.Read().QueryRow(ctx, "SELECT hash, data FROM log_leaves WHERE idx = ?", idx).Scan(&hash, &data); err != nil {
				t.Fatal(err)
			}
			return hash, data
		}
		setLeaf := func(idx int64, hash, data []byte) {
			t.Helper()
			exec("UPDATE log_leaves SET hash = ?, data = ? WHERE idx = ?", hash, data, idx)
		}
		node := func(level int, idx int64) []byte {
			t.Helper()
			var h []byte
			if err := db.Read().QueryRow(ctx, "SELECT hash FROM log_nodes WHERE level = ? AND idx = ?", level, idx).Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		h3, d3 := leaf(3)
		h7, d7 := leaf(7)
		h10, d10 := leaf(10)
		n21 := node(2, 1)
		n12 := node(1, 2)
		rewritten := []byte(strings.Replace(string(d7), `"id":"old-6"`, `"id":"old-66"`, 1))
		if string(rewritten) == string(d7) {
			t.Fatalf("leaf 7 is not note old-6: %s", d7)
		}
		for _, c := range []struct {
			name         string
			tamper, undo func()
			want         []string
		}{
			{"an old leaf deleted",
				func() { exec("DELETE FROM log_leaves WHERE idx = 10") },
				func() { exec("INSERT INTO log_leaves (idx, hash, data) VALUES (?, ?, ?)", int64(10), h10, d10) },
				[]string{"log_leaves: leaf 10 is missing (next stored leaf is 11)"}},
			{"two old leaves swapped",
				func() { setLeaf(3, h7, d7); setLeaf(7, h3, d3) },
				func() { setLeaf(3, h3, d3); setLeaf(7, h7, d7) },
				[]string{fmt.Sprintf("log_leaves: the %d leaves verified on %s now make a tree of root", st.Size, st.VerifiedAt),
					// The stored subtree hashes say where, as in a full verify.
					"log_nodes: level 1 node 1 does not match the leaves 2–3 (proofs would fail; the node or those leaves were changed)"}},
			{"an old leaf rewritten with its hash",
				func() { setLeaf(7, ledger.LeafHash(rewritten), rewritten) },
				func() { setLeaf(7, h7, d7) },
				[]string{"the history before that checkpoint was rewritten",
					"log_nodes: level 1 node 3 does not match the leaves 6–7 (proofs would fail; the node or those leaves were changed)"}},
			{"an old leaf's text altered",
				func() { setLeaf(7, h7, rewritten) },
				func() { setLeaf(7, h7, d7) },
				[]string{"log_leaves: leaf 7: stored hash does not match its data (the leaf was altered)"}},
			{"an old subtree hash changed",
				func() { exec("UPDATE log_nodes SET hash = ? WHERE level = 2 AND idx = 1", make([]byte, 32)) },
				func() { exec("UPDATE log_nodes SET hash = ? WHERE level = 2 AND idx = 1", n21) },
				[]string{"log_nodes: level 2 node 1 does not match the leaves 4–7 (proofs would fail; the node or those leaves were changed)"}},
			{"an old subtree hash deleted",
				func() { exec("DELETE FROM log_nodes WHERE level = 1 AND idx = 2") },
				func() { exec("INSERT INTO log_nodes (level, idx, hash) VALUES (1, 2, ?)", n12) },
				[]string{"log_nodes: level 1 node 2 is missing (proofs would fail)"}},
		} {
			c.tamper()
			rep := verify(ledger.VerifyOptions{From: st})
			for _, want := range c.want {
				if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), want) {
					t.Errorf("%s: %q, want %q", c.name, rep.Problems, want)
				}
			}
			c.undo()
			if rep := verify(ledger.VerifyOptions{From: st}); !rep.OK() || rep.Replayed != 5 {
				t.Fatalf("%s undone: %q (replayed %d)", c.name, rep.Problems, rep.Replayed)
			}
		}
	})
}

// TestRollbackNeedsAWitness: the newest leaves deleted and the older
// checkpoint put back make a log that is whole and signed, so a pinned full
// verify passes, and so does --from a state saved at that size; only what
// someone kept of the newer checkpoint (a witness's state) finds it, as
// docs/operations.md tells the auditor.
func TestRollbackNeedsAWitness(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, vkey := newLog(t, dsn)
		state := filepath.Join(t.TempDir(), "audit.json")
		writeNotes(t, w, "old", 0, 3)
		verify := func(opt ledger.VerifyOptions) *ledger.Report {
			t.Helper()
			opt.VerifierKey = vkey
			rep, err := ledger.Verify(ctx, db, reg, opt)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		if rep := verify(ledger.VerifyOptions{SaveState: state}); !rep.OK() {
			t.Fatalf("full verify saving its state: %q", rep.Problems)
		}
		var size int64
		var root []byte
		var signed string
		if err := db.Read().QueryRow(ctx, "SELECT size, root, checkpoint FROM log_state WHERE id = 1").Scan(&size, &root, &signed); err != nil {
			t.Fatal(err)
		}
		writeNotes(t, w, "new", 0, 3)
		var seen ledger.Head
		if err := db.Read().QueryRow(ctx, "SELECT size, root FROM log_state WHERE id = 1").Scan(&seen.Size, &seen.Root); err != nil {
			t.Fatal(err)
		}
		// The rollback: the newest leaves, their nodes and rows gone, the
		// older head and checkpoint back.
		for _, q := range []string{"DELETE FROM log_leaves WHERE idx >= ?", "DELETE FROM settings WHERE name LIKE 'new-%' AND ? > 0"} {
			if _, err := db.Read().Exec(ctx, q, size); err != nil {
				t.Fatal(err)
			}
		}
		for level := 0; level < 8; level++ {
			if _, err := db.Read().Exec(ctx, "DELETE FROM log_nodes WHERE level = ? AND idx >= ?", level, size>>level); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Read().Exec(ctx, "UPDATE log_state SET size = ?, root = ?, checkpoint = ? WHERE id = 1", size, root, signed); err != nil {
			t.Fatal(err)
		}
		if rep := verify(ledger.VerifyOptions{}); !rep.OK() || rep.Size != uint64(size) {
			t.Errorf("a pinned full verify of the rolled-back log: %q, size %d", rep.Problems, rep.Size)
		}
		st, err := ledger.LoadAuditState(state, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep := verify(ledger.VerifyOptions{From: st}); !rep.OK() {
			t.Errorf("--from a state saved at the rolled-back size: %q", rep.Problems)
		}
		want := fmt.Sprintf("log_leaves: the log has %d leaves, but a witness saw it with %d: it was rolled back or cut", size, seen.Size)
		for _, opt := range []ledger.VerifyOptions{{Witnessed: &seen}, {From: st, Witnessed: &seen}} {
			if rep := verify(opt); rep.OK() || !slices.Contains(rep.Problems, want) {
				t.Errorf("with the witness's state (from %v): %q, want %q", opt.From != nil, rep.Problems, want)
			}
		}
	})
}
