package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestIdempotencyKeyInCommandTransaction: a command submitted with a claim
// stores its key in its own transaction, and only when it commits; a second
// command with the key, from another writer on the same database (another
// server), is refused before its Decide runs and records nothing; a
// refused command or one whose projection fails leaves no key; a key past
// its window is taken again.
func TestIdempotencyKeyInCommandTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, signer, _ := newLog(t, dsn)
		other := ledger.NewWriter(db, reg, ledger.WriterConfig{Signer: signer, Origin: signer.Name()})
		t.Cleanup(other.Close)
		note := func(id string, n int) ledger.Decide {
			return func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
				if n < 0 {
					return nil, errs.Invalidf("n", "n", "refused")
				}
				return ledger.NewEntry("test.note", noteData{ID: id, N: n})
			}
		}
		size := func() int64 {
			t.Helper()
			h, _, err := ledger.ReadHead(ctx, db.Read())
			if err != nil {
				t.Fatal(err)
			}
			return int64(h.Size)
		}
		lookup := func(key string) *ledger.KeyRecord {
			t.Helper()
			k, err := ledger.LookupKey(ctx, db.Read(), "PR-1", key, time.Now(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}

		// A refused command stores no key.
		c := &ledger.Claim{Principal: "PR-1", Key: "k1", Digest: "d1", Window: time.Hour}
		if _, err := w.Submit(ledger.WithClaim(ctx, c), ledger.Actor{}, "note", note("refused", -1)); err == nil {
			t.Fatal("the refused command was accepted")
		}
		if _, ok := c.Committed(); ok || lookup("k1") != nil {
			t.Fatal("a refused command stored its key")
		}

		// The first command that commits stores it, with its leaf.
		res, err := w.Submit(ledger.WithClaim(ctx, c), ledger.Actor{}, "note", note("first", 1))
		if err != nil {
			t.Fatal(err)
		}
		if idx, ok := c.Committed(); !ok || idx != res.Index {
			t.Fatalf("claim committed %v at %d, want at %d", ok, idx, res.Index)
		}
		if k := lookup("k1"); k == nil || k.Digest != "d1" || k.LogIndex != res.Index || k.Status != 0 {
			t.Fatalf("key kept as %+v, want digest d1 at index %d without an answer yet", k, res.Index)
		}
		// A later command of the same request does not store it again.
		if _, err := w.Submit(ledger.WithClaim(ctx, c), ledger.Actor{}, "note", note("second", 2)); err != nil {
			t.Fatalf("the request's second command: %v", err)
		}

		// The same key from another server: refused, nothing recorded.
		before := size()
		again := &ledger.Claim{Principal: "PR-1", Key: "k1", Digest: "d1", Window: time.Hour}
		_, err = other.Submit(ledger.WithClaim(ctx, again), ledger.Actor{}, "note", note("again", 3))
		if e, ok := errs.As(err); !ok || e.Rule != ledger.KeyTakenRule || e.Field != "Idempotency-Key" {
			t.Fatalf("the key sent again: %v, want rule %s", err, ledger.KeyTakenRule)
		}
		if !again.Taken() || size() != before {
			t.Fatalf("taken %v, log %d → %d: the retry recorded something", again.Taken(), before, size())
		}
		var n int
		if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE name = 'again'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("the retry's projection ran: %d rows (%v)", n, err)
		}
		// Another principal's same key is another key.
		if _, err := other.Submit(ledger.WithClaim(ctx, &ledger.Claim{Principal: "PR-2", Key: "k1", Digest: "d9", Window: time.Hour}), ledger.Actor{}, "note", note("theirs", 4)); err != nil {
			t.Fatalf("another principal's key: %v", err)
		}

		// Waiting for the answer ends at the deadline without it, with
		// the record as it was read last.
		answered := func(k *ledger.KeyRecord) bool { return k != nil && k.Status != 0 }
		start := time.Now()
		if k, err := ledger.AwaitKey(ctx, db.Read(), "PR-1", "k1", time.Now, time.Hour, 150*time.Millisecond, answered); err != nil || k == nil || k.Status != 0 || time.Since(start) < 150*time.Millisecond {
			t.Fatalf("waited %v for an answer never kept: %+v, %v; want the record without an answer after the wait", time.Since(start), k, err)
		}
		// The answer is kept apart, once written, and a request waiting
		// for it (another server's) reads it then.
		kept := make(chan error, 1)
		go func() {
			time.Sleep(200 * time.Millisecond)
			kept <- ledger.KeepAnswer(ctx, db, "PR-1", "k1", 201, `{"id":"first"}`)
		}()
		k, err := ledger.AwaitKey(ctx, db.Read(), "PR-1", "k1", time.Now, time.Hour, time.Minute, answered)
		if err := <-kept; err != nil {
			t.Fatal(err)
		}
		if err != nil || k == nil || k.Status != 201 || k.Answer != `{"id":"first"}` {
			t.Fatalf("answer waited for: %+v, %v", k, err)
		}
		// A context ended stops the wait.
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := ledger.AwaitKey(cancelled, db.Read(), "PR-1", "none", time.Now, time.Hour, time.Minute, answered); err == nil {
			t.Fatal("a wait with its context ended went on")
		}

		// A key past its window is taken again, and pruned with the others.
		time.Sleep(5 * time.Millisecond)
		late := &ledger.Claim{Principal: "PR-1", Key: "k1", Digest: "d2", Window: time.Millisecond}
		if _, err := other.Submit(ledger.WithClaim(ctx, late), ledger.Actor{}, "note", note("late", 5)); err != nil {
			t.Fatalf("a key past its window: %v", err)
		}
		if k := lookup("k1"); k == nil || k.Digest != "d2" || k.Status != 0 {
			t.Fatalf("the key past its window kept as %+v, want the new request's", k)
		}
		// A KeyPruner prunes at most once a minute.
		var pruner ledger.KeyPruner
		t0 := time.Now()
		if err := pruner.Prune(ctx, db, t0, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM idempotency_keys").Scan(&n); err != nil || n == 0 {
			t.Fatalf("%d keys left after pruning those older than an hour (%v), want them kept", n, err)
		}
		time.Sleep(5 * time.Millisecond)
		if err := pruner.Prune(ctx, db, t0.Add(30*time.Second), time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM idempotency_keys").Scan(&n); err != nil || n == 0 {
			t.Fatalf("%d keys left after a second pruning within the minute (%v), want it skipped", n, err)
		}
		if err := pruner.Prune(ctx, db, t0.Add(61*time.Second), time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM idempotency_keys").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d keys left after pruning (%v)", n, err)
		}
	})
}

// TestRunningHoldsOneAtATime: of the requests of one process holding a key,
// one runs at a time, the others waiting for it to end; another key does not
// wait, and a request whose context ends while it waits holds nothing.
func TestRunningHoldsOneAtATime(t *testing.T) {
	var k ledger.Running
	ctx := context.Background()
	release, err := k.Hold(ctx, "p\x00a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key: held at once.
	other, err := k.Hold(ctx, "p\x00b")
	if err != nil {
		t.Fatal(err)
	}
	other()
	// The same key: waits until the first is released.
	got := make(chan func(), 1)
	go func() {
		r, err := k.Hold(ctx, "p\x00a")
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("a second holder of the key did not wait for the first")
	case <-time.After(50 * time.Millisecond):
	}
	// A waiter whose context ends: its error, holding nothing.
	gone, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if r, err := k.Hold(gone, "p\x00a"); err == nil || r != nil {
		t.Fatalf("a waiter whose context ended: %v, want its context's error", err)
	}
	release()
	select {
	case r := <-got:
		r()
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter was not let through once the first released the key")
	}
	// Released by all: held again at once.
	r, err := k.Hold(ctx, "p\x00a")
	if err != nil {
		t.Fatal(err)
	}
	r()
}
