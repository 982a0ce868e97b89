package ledger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVerifySealedTimes checks log verify's reading of the subjects table's
// created_at, in full and from a saved state (--from): a committed row must
// have been written in the second its entry was, and a row no entry commits
// to passes as one from before custos logged commitments only when a leaf
// written before the first commitment, in the second of its created_at,
// names it; a row merely dated before is backdated, and reported.
func TestVerifySealedTimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, vkey := newLog(t, dsn)
		seal := func(ref string, commit bool) {
			t.Helper()
			if _, err := w.Submit(ctx, ledger.Actor{}, "note", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
				wrapped, sealed := []byte("key of "+ref), []byte("sealed "+ref)
				if _, err := tx.Exec(ctx, "INSERT INTO subjects (ref, wrapped_key, sealed, created_at) VALUES (?, ?, ?, ?)",
					ref, wrapped, sealed, now.UTC().Format(time.RFC3339)); err != nil {
					return nil, err
				}
				e, err := ledger.NewEntry("test.note", noteData{ID: ref, N: 1})
				if commit {
					e.Sealed = []ledger.Sealed{{Ref: ref, Commitment: ledger.SealCommitment(wrapped, sealed)}}
				}
				return e, err
			}); err != nil {
				t.Fatal(err)
			}
		}
		// A row written by a leaf of a release before commitments, which
		// names it; then rows committed to.
		seal("SU-OLD", false)
		seal("SU-ONE", true)
		seal("SU-TWO", true)
		state := filepath.Join(t.TempDir(), "state.json")
		verify := func(opt ledger.VerifyOptions) *ledger.Report {
			t.Helper()
			opt.VerifierKey = vkey
			rep, err := ledger.Verify(ctx, db, reg, opt)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		if rep := verify(ledger.VerifyOptions{SaveState: state}); !rep.OK() || rep.SealedRows != 3 || rep.Uncommitted != 1 {
			t.Fatalf("untouched: %+v", rep)
		}
		seal("SU-THREE", true)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Read().Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		want := func(what, text string) {
			t.Helper()
			st, err := ledger.LoadAuditState(state, nil)
			if err != nil {
				t.Fatal(err)
			}
			for way, rep := range map[string]*ledger.Report{"full": verify(ledger.VerifyOptions{}), "--from": verify(ledger.VerifyOptions{From: st})} {
				if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], text) {
					t.Errorf("%s (%s): %q, want one problem with %q", what, way, rep.Problems, text)
				}
			}
		}
		var at string
		if err := db.Read().QueryRow(ctx, "SELECT created_at FROM subjects WHERE ref = 'SU-OLD'").Scan(&at); err != nil {
			t.Fatal(err)
		}

		// Dated in the second of the legacy leaf, but no leaf names it.
		exec("INSERT INTO subjects (ref, wrapped_key, sealed, created_at) VALUES ('SU-BACK', ?, ?, ?)", []byte{1}, []byte{2}, at)
		want("a row backdated", fmt.Sprintf("subjects: row ref=SU-BACK is in the database but no entry commits to it, and no leaf written before the log's first commitment at its created_at %s names it (inserted behind custos's back, backdated)", at))
		exec("DELETE FROM subjects WHERE ref = 'SU-BACK'")

		// A committed row's time moved, before and after the state.
		for _, ref := range []string{"SU-ONE", "SU-THREE"} {
			var was string
			if err := db.Read().QueryRow(ctx, "SELECT created_at FROM subjects WHERE ref = ?", ref).Scan(&was); err != nil {
				t.Fatal(err)
			}
			exec("UPDATE subjects SET created_at = '2001-01-01T00:00:00Z' WHERE ref = ?", ref)
			want("a committed row's time moved", fmt.Sprintf("subjects: row ref=%s was written at 2001-01-01T00:00:00Z, not at %s", ref, was[:19]))
			exec("UPDATE subjects SET created_at = ? WHERE ref = ?", was, ref)
		}
		if rep := verify(ledger.VerifyOptions{}); !rep.OK() {
			t.Fatalf("restored: %q", rep.Problems)
		}
	})
}
