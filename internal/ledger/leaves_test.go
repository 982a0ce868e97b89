package ledger_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// storedLog reads a log's leaves, exactly as stored, and its signed head.
func storedLog(t *testing.T, db *store.DB) ([][]byte, string) {
	t.Helper()
	ctx := context.Background()
	_, cp, err := ledger.ReadHead(ctx, db.Read())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Read().Query(ctx, "SELECT data FROM log_leaves ORDER BY idx")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var leaves [][]byte
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, []byte(d))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return leaves, cp
}

// TestAppendLeavesRestores copies a log, leaves and checkpoint, into fresh
// databases: in one call, and in two whose first ends at an older checkpoint.
// Each copy has the source's head, projects the same tables and verifies.
// Leaves with a field this binary does not know, a checkpoint of another key,
// of another origin or of another tree, and a log that does not start with registry.initialized
// are refused, and a refusal writes nothing.
func TestAppendLeavesRestores(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		src, reg, w, signer, vkey := newLog(t, dsn)
		submit := func(i int) {
			t.Helper()
			_, err := w.Submit(ctx, ledger.Actor{Principal: "PR-T", Authority: "AU-T"}, "note", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
				if i == 2 {
					return nil, errs.Alertf(errs.Forbidden, "watched_rule", "n", "refused with alert")
				}
				return ledger.NewEntry("test.note", noteData{ID: fmt.Sprintf("note-%03d", i), N: i})
			})
			if err != nil && i != 2 {
				t.Fatal(err)
			}
		}
		for i := range 4 {
			submit(i)
		}
		early, earlyCP := storedLog(t, src)
		for i := 4; i < 9; i++ {
			submit(i)
		}
		leaves, cp := storedLog(t, src)
		srcHead, _, err := ledger.ReadHead(ctx, src.Read())
		if err != nil {
			t.Fatal(err)
		}
		// Copies go to new databases of the source's engine.
		newDSN := storetest.SQLite
		if strings.HasPrefix(dsn, "postgres") {
			newDSN = storetest.Postgres
		}
		fresh := func() *store.DB {
			t.Helper()
			return storetest.Open(t, newDSN(t))
		}
		check := func(db *store.DB) {
			t.Helper()
			head, got, err := ledger.ReadHead(ctx, db.Read())
			if err != nil {
				t.Fatal(err)
			}
			if head.Size != srcHead.Size || !bytes.Equal(head.Root, srcHead.Root) || got != cp {
				t.Fatalf("copy's head is %d %x, the source's %d %x", head.Size, head.Root, srcHead.Size, srcHead.Root)
			}
			rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey})
			if err != nil || !rep.OK() {
				t.Fatalf("the copy does not verify: %v %v", err, rep)
			}
			var notes int
			if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE name LIKE 'note-%'").Scan(&notes); err != nil {
				t.Fatal(err)
			}
			if notes != 8 {
				t.Fatalf("%d notes projected, want 8", notes)
			}
		}

		whole := fresh()
		head, err := ledger.AppendLeaves(ctx, whole, reg, leaves, cp, vkey)
		if err != nil {
			t.Fatal(err)
		}
		if head.Size != srcHead.Size || !bytes.Equal(head.Root, srcHead.Root) {
			t.Fatalf("AppendLeaves answered %d %x, the source is %d %x", head.Size, head.Root, srcHead.Size, srcHead.Root)
		}
		check(whole)

		parts := fresh()
		if _, err := ledger.AppendLeaves(ctx, parts, reg, early, earlyCP, vkey); err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.AppendLeaves(ctx, parts, reg, leaves[len(early):], cp, vkey); err != nil {
			t.Fatal(err)
		}
		check(parts)

		_, otherKey, err := note.GenerateKey(rand.Reader, "custos/XA")
		if err != nil {
			t.Fatal(err)
		}
		otherOrigin, err := ledger.SignCheckpoint(signer, "custos/XB", srcHead)
		if err != nil {
			t.Fatal(err)
		}
		with := func(i int, old, new string) [][]byte {
			out := append([][]byte(nil), leaves...)
			out[i] = []byte(strings.Replace(string(out[i]), old, new, 1))
			if bytes.Equal(out[i], leaves[i]) {
				t.Fatalf("leaf %d has no %s", i, old)
			}
			return out
		}
		refused := fresh() // every refusal below leaves it empty
		for _, c := range []struct {
			name       string
			leaves     [][]byte
			cp, key    string
			wantErrHas string
		}{
			{"unknown data field", with(1, `"n":0`, `"n":0,"renamed":0`), cp, vkey, `leaf 1 (test.note) cannot be replayed: decode test.note entry: unknown_field: the field "renamed" is not part of this document (field renamed)`},
			{"unknown envelope field", with(1, `"v":1,`, `"v":1,"by_whom":"PR-T",`), cp, vkey, `leaf 1 is not a valid entry: unknown_field: the field "by_whom" is not part of this document (field by_whom)`},
			// Leaves are read as custos writes them: names in their exact
			// case, once each (encoding/json took "V" for v, and the last of
			// two).
			{"a data member named twice", with(1, `"n":0`, `"n":0,"n":0`), cp, vkey, `leaf 1 is not a valid entry: duplicate_key: the key "n" is given twice in one object (field data.n)`},
			{"an envelope member in another case", with(1, `"v":1,`, `"V":1,`), cp, vkey, `leaf 1 is not a valid entry: unknown_field: the field "V" is not part of this document: names are written as documented, here "v" (field V)`},
			{"newer encoding", with(1, `"v":1,`, `"v":2,`), cp, vkey, "leaf 1 is not a valid entry: entry encoding version 2; this custos reads versions 1 to 1"},
			{"altered leaf", with(1, `"n":0`, `"n":7`), cp, vkey, "the leaves make a tree of root"},
			{"leaf missing", leaves[:len(leaves)-1], cp, vkey, fmt.Sprintf("the checkpoint signs a tree of %d leaves; the log has 0 and %d were given", len(leaves), len(leaves)-1)},
			{"another key", leaves, cp, otherKey, "checkpoint signature"},
			{"another origin", leaves, otherOrigin, vkey, `checkpoint of another log: its origin is "custos/XB", this registry's is "custos/XA"`},
			{"no first leaf", leaves[1 : len(early)+1], earlyCP, vkey, "leaf 0 is test.note; a log starts with registry.initialized"},
		} {
			_, err := ledger.AppendLeaves(ctx, refused, reg, c.leaves, c.cp, c.key)
			if err == nil || !strings.Contains(err.Error(), c.wantErrHas) {
				t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.wantErrHas)
				continue
			}
			var n int
			if err := refused.Read().QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM log_state) + (SELECT COUNT(*) FROM log_leaves) + (SELECT COUNT(*) FROM settings)").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s: the refused append wrote %d rows", c.name, n)
			}
		}
	})
}
