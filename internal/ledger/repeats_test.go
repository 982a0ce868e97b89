package ledger_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestUnsoundRepeatsReportedOnce: a repeat count kept outside the log
// (alert_repeats) that does not carry the registry's MAC for its alert as
// it stands, whether written behind custos's back or a count the log holds
// already put back, is never logged, and is reported once: one line in
// the server's log and one alert for the regulator, the row discarded, not
// a line every period until a repeat or the alert's closing replaces it.
func TestUnsoundRepeatsReportedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		skey, vkey, err := note.GenerateKey(rand.Reader, "custos/XA")
		if err != nil {
			t.Fatal(err)
		}
		signer, err := note.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		db := storetest.Open(t, dsn)
		reg := ledger.NewProjections()
		reg.Schema(store.CoreSchema())
		clock := time.Now().UTC()
		if err := ledger.Init(ctx, db, reg, signer, vkey, signer.Name(), "XA", clock); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		tick := func() { mu.Lock(); defer mu.Unlock(); clock = clock.Add(ledger.DefaultRepeatPeriod) }
		var logs apptest.LogBuffer
		w := ledger.NewWriter(db, reg, ledger.WriterConfig{Signer: signer, Origin: signer.Name(), Now: now,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), RepeatKey: bytes.Repeat([]byte{7}, 32)})
		t.Cleanup(w.Close)

		actor := ledger.Actor{Principal: "PR-T", Authority: "AU-T"}
		refuse := func() {
			t.Helper()
			_, err := w.Submit(ctx, actor, "note", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
				return nil, errs.Alertf(errs.Forbidden, "watched_rule", "n", "refused with alert")
			})
			if e, ok := errs.As(err); !ok || e.Rule != "watched_rule" {
				t.Fatalf("refusal: %v", err)
			}
		}
		size := func() uint64 {
			t.Helper()
			head, _, err := ledger.ReadHead(ctx, db.Read())
			if err != nil {
				t.Fatal(err)
			}
			return head.Size
		}
		alerts := func(rule string) []ledger.RaisedAlert {
			t.Helper()
			as, err := w.Alerts(ctx, db.Read(), ledger.AlertFilter{Rule: rule})
			if err != nil {
				t.Fatal(err)
			}
			return as.Items
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Read().Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		logRepeats := func(want int) {
			t.Helper()
			tick()
			if n, err := w.LogRepeats(ctx); n != want || err != nil {
				t.Fatalf("LogRepeats logged %d alerts (%v), want %d", n, err, want)
			}
		}
		const said = "does not carry this registry's MAC for the alert as it stands"

		// The alert, and a repeat within the period counted outside the log.
		refuse()
		refuse()
		as := alerts("watched_rule")
		if len(as) != 1 || as[0].RepeatsUnlogged != 1 {
			t.Fatalf("alerts %+v, want one with a repeat not yet logged", as)
		}
		id := as[0].ID

		// A count written behind custos's back: discarded at the next
		// period, reported once in the server's log and by one alert, and
		// not again at the periods after.
		exec("UPDATE alert_repeats SET count = 100000 WHERE alert_id = ?", id)
		before := size()
		logRepeats(0)
		if n := strings.Count(logs.String(), said); n != 1 {
			t.Fatalf("the forged count is said %d times in the server's log, want once:\n%s", n, logs.String())
		}
		disc := alerts("repeat_count_discarded")
		if len(disc) != 1 || !strings.Contains(disc[0].Message, "the count of 100000 repeats of alert "+id) || disc[0].PrincipalID != "" {
			t.Fatalf("alerts of the discarded count: %+v, want one naming it", disc)
		}
		if got := size(); got != before+1 {
			t.Fatalf("the log grew by %d leaves, want 1 (the alert)", got-before)
		}
		for range 3 {
			logRepeats(0)
		}
		if n := strings.Count(logs.String(), said); n != 1 || len(alerts("repeat_count_discarded")) != 1 || alerts("repeat_count_discarded")[0].Repeats != 0 || size() != before+1 {
			t.Fatalf("periods later: said %d times, alerts %+v, log of %d leaves: want once, one alert, no leaf", n, alerts("repeat_count_discarded"), size())
		}
		if a := alerts("watched_rule")[0]; a.Repeats != 0 || a.RepeatsUnlogged != 0 {
			t.Fatalf("the alert counts %d repeats (%d unlogged), want none: the forged count discarded", a.Repeats, a.RepeatsUnlogged)
		}

		// A count the log holds already, put back: it carried the MAC once,
		// but the leaf that logged it moved the alert on.
		refuse() // a period after the alert's last leaf: an alert.repeated leaf
		refuse() // counted outside the log
		var count int64
		var last, mac string
		if err := db.Read().QueryRow(ctx, "SELECT count, last_at, mac FROM alert_repeats WHERE alert_id = ?", id).Scan(&count, &last, &mac); err != nil {
			t.Fatal(err)
		}
		logRepeats(1)
		if a := alerts("watched_rule")[0]; a.Repeats != 2 || a.RepeatsUnlogged != 0 {
			t.Fatalf("the alert counts %d repeats (%d unlogged), want 2 logged", a.Repeats, a.RepeatsUnlogged)
		}
		exec("INSERT INTO alert_repeats (alert_id, count, last_at, mac) VALUES (?, ?, ?, ?)", id, count, last, mac)
		before = size()
		logRepeats(0)
		logRepeats(0)
		if a := alerts("watched_rule")[0]; a.Repeats != 2 || a.RepeatsUnlogged != 0 {
			t.Fatalf("the alert counts %d repeats (%d unlogged) after the count was put back, want the 2 logged", a.Repeats, a.RepeatsUnlogged)
		}
		if n := strings.Count(logs.String(), said); n != 2 {
			t.Fatalf("said %d times in the server's log, want twice (each count once)", n)
		}
		// Its alert: the discarded-count alert repeated (one leaf).
		if disc := alerts("repeat_count_discarded"); len(disc) != 1 || disc[0].Repeats != 1 || size() != before+1 {
			t.Fatalf("alerts of the discarded counts: %+v, log grew by %d: want the one alert repeated once, one leaf", disc, size()-before)
		}

		// A repeat that finds a forged count replaces it: said once, and
		// alerted at the next period, once.
		refuse() // a period after the alert's last leaf: an alert.repeated leaf
		refuse() // counted outside the log
		exec("UPDATE alert_repeats SET count = 5 WHERE alert_id = ?", id)
		refuse()
		logRepeats(1)
		logRepeats(0)
		if n := strings.Count(logs.String(), said); n != 3 {
			t.Fatalf("said %d times in the server's log, want 3", n)
		}
		if disc := alerts("repeat_count_discarded"); len(disc) != 1 || disc[0].Repeats+disc[0].RepeatsUnlogged != 2 {
			t.Fatalf("alerts of the discarded counts: %+v, want the one alert repeated twice", disc)
		}

		rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey})
		if err != nil || !rep.OK() {
			t.Fatalf("verify: %v %q", err, rep.Problems)
		}
	})
}
