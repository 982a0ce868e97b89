package ledger_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

type noteData struct {
	ID string `json:"id"`
	N  int    `json:"n"`
}

// newLog opens a migrated database with a log whose only projector records
// notes in the settings table, so the test needs no registry module.
func newLog(t *testing.T, dsn string) (*store.DB, *ledger.Projections, *ledger.Writer, note.Signer, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos/XA")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	db, reg, w := newLogWith(t, dsn, signer, vkey)
	return db, reg, w, signer, vkey
}

// newLogWith is newLog with a given key: two logs signed by one key are one
// registry's log and a rewrite of it.
func newLogWith(t *testing.T, dsn string, signer note.Signer, vkey string) (*store.DB, *ledger.Projections, *ledger.Writer) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dsn)
	reg := ledger.NewProjections()
	reg.Schema(store.CoreSchema())
	reg.Register("test.note", func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry) error {
		var d noteData
		if err := e.Decode(&d); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "INSERT INTO settings (name, value) VALUES (?, ?)", d.ID, fmt.Sprint(d.N))
		return err
	})
	if err := ledger.Init(ctx, db, reg, signer, vkey, signer.Name(), "XA", time.Now()); err != nil {
		t.Fatal(err)
	}
	w := ledger.NewWriter(db, reg, ledger.WriterConfig{Signer: signer, Origin: signer.Name()})
	t.Cleanup(w.Close)
	return db, reg, w
}

// TestWriterGroupsAndProves submits commands from many goroutines at once,
// some refused with and without an alert, and checks that the log is one
// gapless sequence whose every leaf proves its inclusion in the signed tree,
// that refusals changed nothing but their alert (one leaf, its repeats
// counted outside the log), and that the tables
// verify against the log.
func TestWriterGroupsAndProves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, vkey := newLog(t, dsn)
		const n = 120
		type outcome struct {
			idx int64
			err error
		}
		out := make([]outcome, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				res, err := w.Submit(ctx, ledger.Actor{Principal: "PR-T", Authority: "AU-T"}, "note", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
					switch i % 10 {
					case 3:
						return nil, errs.Invalidf("odd_rule", "n", "refused without alert")
					case 7:
						return nil, errs.Alertf(errs.Forbidden, "watched_rule", "n", "refused with alert")
					}
					return ledger.NewEntry("test.note", noteData{ID: fmt.Sprintf("note-%03d", i), N: i})
				})
				out[i] = outcome{res.Index, err}
			}(i)
		}
		wg.Wait()
		seen := map[int64]bool{}
		accepted, alerts := 0, 0
		for i, o := range out {
			switch i % 10 {
			case 3, 7:
				e, ok := errs.As(o.err)
				if !ok || (i%10 == 7) != e.Alert {
					t.Fatalf("command %d: %v", i, o.err)
				}
				if e.Alert {
					alerts++
				}
			default:
				if o.err != nil {
					t.Fatalf("command %d: %v", i, o.err)
				}
				if seen[o.idx] {
					t.Fatalf("leaf %d given twice", o.idx)
				}
				seen[o.idx] = true
				accepted++
			}
		}
		head, cp, err := ledger.ReadHead(ctx, db.Read())
		if err != nil {
			t.Fatal(err)
		}
		// Leaf 0 is registry.initialized; then every accepted command and
		// one alert: the refusals that repeat it within the writer's
		// RepeatPeriod are counted on it outside the log.
		if want := uint64(1 + accepted + 1); head.Size != want {
			t.Fatalf("log size %d, want %d (1 + %d accepted + 1 alert repeated %d times)", head.Size, want, accepted, alerts-1)
		}
		if as, err := w.Alerts(ctx, db.Read(), ledger.AlertFilter{Rule: "watched_rule"}); err != nil || len(as.Items) != 1 || as.Items[0].Repeats != int64(alerts-1) {
			t.Fatalf("alerts %+v (%v), want one repeated %d times", as.Items, err, alerts-1)
		}
		c, err := ledger.OpenCheckpoint(cp, vkey, "custos/XA")
		if err != nil {
			t.Fatal(err)
		}
		for i := uint64(0); i < head.Size; i++ {
			var data string
			if err := db.Read().QueryRow(ctx, "SELECT data FROM log_leaves WHERE idx = ?", int64(i)).Scan(&data); err != nil {
				t.Fatalf("leaf %d: %v", i, err)
			}
			p, err := ledger.InclusionProof(ctx, db.Read(), i, head.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := ledger.VerifyInclusion(i, c.Size, ledger.LeafHash([]byte(data)), p, c.Root); err != nil {
				t.Fatalf("leaf %d: %v", i, err)
			}
		}
		for _, size := range []uint64{1, 2, 7, head.Size / 2} {
			p, err := ledger.ConsistencyProof(ctx, db.Read(), size, head.Size)
			if err != nil {
				t.Fatal(err)
			}
			// The root of the smaller tree, recomputed from its leaves.
			old := subRoot(t, db, size)
			if err := ledger.VerifyConsistency(size, head.Size, p, old, c.Root); err != nil {
				t.Errorf("consistency %d -> %d: %v", size, head.Size, err)
			}
		}
		var notes int
		if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE name LIKE 'note-%'").Scan(&notes); err != nil {
			t.Fatal(err)
		}
		if notes != accepted {
			t.Errorf("%d notes in the table, %d accepted", notes, accepted)
		}
		rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey})
		if err != nil || !rep.OK() {
			t.Fatalf("verify: %v %v", err, rep)
		}
		if _, err := db.Read().Exec(ctx, "UPDATE settings SET value = 'x' WHERE name = 'note-000'"); err != nil {
			t.Fatal(err)
		}
		rep, err = ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey})
		if err != nil || rep.OK() {
			t.Fatalf("verify missed a changed row: %v %v", err, rep)
		}
	})
}

// TestCheckpointOfAnotherLog refuses checkpoints that are not this log's: one
// signed with the log's own key over another origin line, and ones signed
// with another key, whether that key names another log or this one.
func TestCheckpointOfAnotherLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, _, signer, vkey := newLog(t, dsn)
		head, cp, err := ledger.ReadHead(ctx, db.Read())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.OpenCheckpoint(cp, vkey, "custos/XA"); err != nil {
			t.Fatalf("the log's own checkpoint: %v", err)
		}
		otherKey := func(name string) note.Signer {
			skey, _, err := note.GenerateKey(rand.Reader, name)
			if err != nil {
				t.Fatal(err)
			}
			s, err := note.NewSigner(skey)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		for _, c := range []struct {
			name   string
			signer note.Signer
			origin string
			want   string
		}{
			{"the log's key, another origin", signer, "custos/XB",
				`checkpoint of another log: its origin is "custos/XB", this registry's is "custos/XA"`},
			{"another log's key", otherKey("custos/XB"), "custos/XB", "it carries signatures by custos/XB (key hash"},
			{"another key of the same name", otherKey("custos/XA"), "custos/XA", "the checkpoint is not signed by the key custos/XA+"},
		} {
			forged, err := ledger.SignCheckpoint(c.signer, c.origin, head)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ledger.OpenCheckpoint(forged, vkey, "custos/XA"); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: OpenCheckpoint gave %v, want an error containing %q", c.name, err, c.want)
			}
			// log verify finds it in place of the stored checkpoint.
			if _, err := db.Read().Exec(ctx, "UPDATE log_state SET checkpoint = ? WHERE id = 1", forged); err != nil {
				t.Fatal(err)
			}
			rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "the stored checkpoint does not verify: ") ||
				!strings.Contains(rep.Problems[0], c.want) {
				t.Errorf("%s: verify reported %q", c.name, rep.Problems)
			}
		}
		// A checkpoint altered after signing, and a signature line altered,
		// each say what they are, not that the note is malformed.
		text, sig, _ := strings.Cut(cp, "\n\n")
		b64 := sig[strings.LastIndex(sig, " ")+1 : len(sig)-1]
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)-1] ^= 1
		for _, c := range []struct{ name, forged, want string }{
			{"another root", strings.Replace(text, "\n", "\n9", 1) + "\n\n" + sig, "signature by custos/XA does not verify: its text or its signature was altered after it was signed"},
			{"a flipped signature bit", text + "\n\n" + strings.Replace(sig, b64, base64.StdEncoding.EncodeToString(raw), 1), "does not verify: its text or its signature was altered"},
			{"a cut signature", text + "\n\n" + strings.Replace(sig, b64, b64[:4], 1), "is not a signature (a signed-note signature is \u2014 name base64): the signature was altered"},
		} {
			_, err := ledger.OpenCheckpoint(c.forged, vkey, "custos/XA")
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "malformed") {
				t.Errorf("%s: OpenCheckpoint gave %v, want an error containing %q", c.name, err, c.want)
			}
		}
		if _, err := db.Read().Exec(ctx, "UPDATE log_state SET checkpoint = ? WHERE id = 1", cp); err != nil {
			t.Fatal(err)
		}
		if rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey}); err != nil || !rep.OK() {
			t.Fatalf("verify with the log's own checkpoint back: %v %v", err, rep)
		}
	})
}

func subRoot(t *testing.T, db *store.DB, size uint64) []byte {
	t.Helper()
	var hashes [][]byte
	rows, err := db.Read().Query(context.Background(), "SELECT data FROM log_leaves WHERE idx < ? ORDER BY idx", int64(size))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, ledger.LeafHash([]byte(d)))
	}
	return merkleRoot(hashes)
}

// TestSubmitAs checks that a command's entry comes back decoded as the
// caller's type, that a refusal comes back as it was, and that an entry the
// type does not describe is an error, not a half-filled value.
func TestSubmitAs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		_, _, w, _, _ := newLog(t, dsn)
		actor := ledger.Actor{Principal: "PR-T", Authority: "AU-T"}
		note := func(n int) ledger.Decide {
			return func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
				return ledger.NewEntry("test.note", noteData{ID: fmt.Sprintf("as-%d", n), N: n})
			}
		}
		got, err := ledger.SubmitAs[noteData](ctx, w, actor, "note", note(1))
		if err != nil || got == nil || *got != (noteData{ID: "as-1", N: 1}) {
			t.Fatalf("SubmitAs = %+v, %v; want {as-1 1}", got, err)
		}
		got, err = ledger.SubmitAs[noteData](ctx, w, actor, "note", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
			return nil, errs.Invalidf("odd_rule", "n", "refused")
		})
		if e, ok := errs.As(err); !ok || e.Rule != "odd_rule" || got != nil {
			t.Fatalf("refused: SubmitAs = %+v, %v; want nil and the refusal", got, err)
		}
		other, err := ledger.SubmitAs[struct {
			ID string `json:"id"`
		}](ctx, w, actor, "note", note(2))
		if err == nil || other != nil {
			t.Fatalf("decoded a note into a type without its field n: %+v, %v", other, err)
		}
	})
}

// TestOnCommitCountsRuleRefusals: OnCommit's refused counts the commands
// a rule refused, not a Stale refusal (its caller runs it again) nor a
// fault; each still comes back to its caller as it was (errs.As finds a
// Stale's refusal), and a fault as an internal error.
func TestOnCommitCountsRuleRefusals(t *testing.T) {
	ctx := context.Background()
	_, _, w, _, _ := newLog(t, storetest.SQLite(t))
	var mu sync.Mutex
	var accepted, refused int
	w.OnCommit = func(a, r int, _ time.Duration) {
		mu.Lock()
		accepted, refused = accepted+a, refused+r
		mu.Unlock()
	}
	actor := ledger.Actor{Principal: "PR-T", Authority: "AU-T"}
	refuse := func(err error) ledger.Decide {
		return func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) { return nil, err }
	}
	if _, err := w.Submit(ctx, actor, "note", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry("test.note", noteData{ID: "counted", N: 1})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Submit(ctx, actor, "note", refuse(errs.Invalidf("odd_rule", "n", "refused"))); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("rule refusal: %v", err)
	}
	_, err := w.Submit(ctx, actor, "note", refuse(ledger.Stale{Refusal: errs.New(errs.Conflict, "stale_rule", "n", "read again")}))
	if e, ok := errs.As(err); !ok || e.Rule != "stale_rule" || !errors.As(err, new(ledger.Stale)) {
		t.Fatalf("stale refusal came back as %v; want the Stale with its rule", err)
	}
	if _, err := w.Submit(ctx, actor, "note", refuse(io.ErrUnexpectedEOF)); errs.CodeOf(err) != errs.Internal {
		t.Fatalf("fault came back as %v; want an internal error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if accepted != 1 || refused != 1 {
		t.Errorf("OnCommit counted %d accepted, %d refused; want 1 and 1 (the rule's refusal only)", accepted, refused)
	}
}

// TestWriterPhases: the writer counts the batches it committed, one for
// each OnCommit, and where their time went: every phase took some time, and
// together no more than the commands took from the first submission to the
// last answer; the reads answered ahead are waited for inside the commands'
// phase, and only on PostgreSQL.
func TestWriterPhases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, _, w, _, _ := newLog(t, dsn)
		var commits atomic.Int64
		w.OnCommit = func(int, int, time.Duration) { commits.Add(1) }
		before := w.Counts()
		start := time.Now()
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := w.Submit(ctx, ledger.Actor{Principal: "PR-T"}, "note", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
					return ledger.NewEntry("test.note", noteData{ID: fmt.Sprintf("phase-%d", i), N: i})
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		took := time.Since(start)
		c := w.Counts()
		if n := c.Batches - before.Batches; n != commits.Load() || n == 0 {
			t.Errorf("%d batches counted, OnCommit called %d times", n, commits.Load())
		}
		p, b := c.Phases, before.Phases
		phases := map[string]time.Duration{"begin": p.Begin - b.Begin, "commands": p.Commands - b.Commands,
			"append": p.Append - b.Append, "commit": p.Commit - b.Commit}
		var sum time.Duration
		for name, d := range phases {
			if d <= 0 {
				t.Errorf("phase %s took %v", name, d)
			}
			sum += d
		}
		if sum > took {
			t.Errorf("the phases add up to %v, longer than the %v the commands took", sum, took)
		}
		wait := p.ReadAheadWait - b.ReadAheadWait
		if wait > phases["commands"] || (db.Dialect == store.SQLite && wait != 0) {
			t.Errorf("waited %v for reads ahead in %v of commands on %s", wait, phases["commands"], db.Dialect)
		}
	})
}

// TestPseudonymousActor: a command submitted by a pseudonymous actor is a
// leaf by the pseudonym with no authority, and so is the alert of its
// refusal; a principal's command keeps naming the principal and authority.
func TestPseudonymousActor(t *testing.T) {
	db, _, w, _, _ := newLog(t, storetest.SQLite(t))
	ctx := context.Background()
	note := func(id string) ledger.Decide {
		return func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
			return ledger.NewEntry("test.note", noteData{ID: id, N: 1})
		}
	}
	if _, err := w.Submit(ctx, ledger.Pseudonymous("PS-ABC"), "note", note("p")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Submit(ctx, ledger.Actor{Principal: "PR-1", Authority: "TC-1"}, "note", note("q")); err != nil {
		t.Fatal(err)
	}
	_, err := w.Submit(ctx, ledger.Pseudonymous("PS-ABC"), "note", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
		return nil, errs.Alertf(errs.Invalid, "rule", "field", "refused")
	})
	if errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("refusal: %v", err)
	}
	rows, err := db.Read().Query(ctx, "SELECT data FROM log_leaves WHERE idx > 0 ORDER BY idx")
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := store.Rows(rows, func(r store.Scanner, s *string) error { return r.Scan(s) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`"by":"PS-ABC","data"`, `"by":"PR-1","authority":"TC-1"`, `"type":"alert.raised","at":`}
	if len(leaves) != 3 {
		t.Fatalf("%d leaves: %v", len(leaves), leaves)
	}
	for i, l := range leaves {
		if !strings.Contains(l, want[i]) || i != 1 && (strings.Contains(l, `"authority"`) || !strings.Contains(l, `"by":"PS-ABC"`)) {
			t.Errorf("leaf %d: %s, want %s", i+1, l, want[i])
		}
	}
}

// TestWriterRerunsFailingWrite submits commands from many goroutines, some of
// which make a write that fails (a second note under a name already taken,
// which the command's rules do not check). On PostgreSQL a command's writes
// are sent with the next command's read, after it was counted a success; the
// writer must notice, run the batch again, and refuse exactly the commands
// whose writes fail, with every other command's record and leaf intact.
func TestWriterRerunsFailingWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, _, signer, vkey := newLog(t, dsn)
		var logged apptest.LogBuffer
		w := ledger.NewWriter(db, reg, ledger.WriterConfig{Signer: signer, Origin: signer.Name(),
			Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		t.Cleanup(w.Close)
		const n = 96
		errsOf := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				// Every fourth command takes the name of the one before it.
				id := i
				if i%4 == 3 {
					id = i - 1
				}
				// The commands that share a name declare their read (its
				// value unused), so that on PostgreSQL the writes before
				// one are sent while it is decided (store.Tx.Send) and the
				// failures come back from such a send.
				const count = "SELECT COUNT(*) FROM settings WHERE name LIKE 'note-%'"
				var ahead *ledger.Ahead
				if i%4 >= 2 {
					ahead = &ledger.Ahead{Keys: []string{fmt.Sprint(i)}, Read: store.Ahead{SQL: count}}
				}
				_, errsOf[i] = w.SubmitAhead(ctx, ledger.Actor{Principal: "PR-T", Authority: "AU-T"}, "note", ahead, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
					if ahead != nil {
						// Long enough for the writes sent before to be
						// done, so that each such command sends some.
						time.Sleep(2 * time.Millisecond)
					}
					var k int
					if err := tx.QueryRow(ctx, count).Scan(&k); err != nil {
						return nil, err
					}
					return ledger.NewEntry("test.note", noteData{ID: fmt.Sprintf("note-%03d", id), N: i})
				})
			}(i)
		}
		wg.Wait()
		accepted := 0
		for i := 0; i < n; i += 4 {
			for j := i; j < i+4; j++ {
				if j%4 != 2 && j%4 != 3 && errsOf[j] != nil {
					t.Fatalf("command %d: %v", j, errsOf[j])
				}
			}
			// Of commands i+2 and i+3 (one name), exactly one is recorded.
			a, b := errsOf[i+2], errsOf[i+3]
			if (a == nil) == (b == nil) {
				t.Fatalf("commands %d and %d share a name: %v, %v; want exactly one refused", i+2, i+3, a, b)
			}
			refused := a
			if refused == nil {
				refused = b
			}
			if e, ok := errs.As(refused); !ok || e.Code != errs.Internal {
				t.Fatalf("the failed write's command: %v; want an internal error", refused)
			}
			accepted += 3
		}
		var notes int
		if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE name LIKE 'note-%'").Scan(&notes); err != nil {
			t.Fatal(err)
		}
		head, _, err := ledger.ReadHead(ctx, db.Read())
		if err != nil {
			t.Fatal(err)
		}
		if notes != accepted || head.Size != uint64(1+accepted) {
			t.Fatalf("%d notes and %d leaves after %d accepted commands (want %d leaves)", notes, head.Size, accepted, 1+accepted)
		}
		rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey})
		if err != nil || !rep.OK() {
			t.Fatalf("verify: %v %v", err, rep)
		}
		// SQLite runs each write at once; PostgreSQL must have rerun.
		if reran := strings.Contains(logged.String(), "the batch runs again"); reran != (db.Dialect == store.Postgres) {
			t.Errorf("batch rerun %v on %s; log:\n%s", reran, db.Dialect, logged.String())
		}
	})
}
