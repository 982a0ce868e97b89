package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestForgedEnvelopesBoundLeaves posts, without credentials, envelopes that
// name a peer's public key fingerprint with random signatures: each is
// refused bad_signature and counted on one open alert, but the log grows by
// at most one leaf a RepeatPeriod (the alert, then an alert.repeated that
// counts the repeats since), not one a request. The alert shows every
// repeat all along; the registry logs those counted outside the log once
// they are a period old, closing logs those not logged yet, and the log
// verifies.
func TestForgedEnvelopesBoundLeaves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		clk := &testClock{t: time.Now().UTC()}
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) { c.Now = clk.Now })
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, map[string]any{"name": "Registry B", "jurisdiction": "XB",
			"url": "https://peer.invalid", "public_key": exchange.EncodeKey(pub), "send_purposes": []string{"vigilance"},
			"receive_purposes": []string{"vigilance"}})
		forge := func(n int) {
			t.Helper()
			for range n {
				sig := make([]byte, ed25519.SignatureSize)
				rand.Read(sig)
				r := w.Do(t, "POST", exchange.InboxPath, "", exchange.Envelope{Message: `{"v":1}`, Key: exchange.Fingerprint(pub),
					Signature: base64.StdEncoding.EncodeToString(sig)})
				if r.Status != 401 || r.Str("error.rule") != "bad_signature" {
					t.Fatalf("forged envelope: %d %s, want 401 bad_signature", r.Status, r.Raw)
				}
			}
		}
		alert := func(wantRepeats, wantUnlogged float64) string {
			t.Helper()
			as := alertList(t, w, "?rule=bad_signature")
			if len(as) != 1 {
				t.Fatalf("bad_signature alerts: %v, want one", as)
			}
			unlogged, _ := as[0]["repeats_unlogged"].(float64)
			if as[0]["repeats"] != wantRepeats || unlogged != wantUnlogged {
				t.Fatalf("the alert %v: repeats %v (%v not logged), want %v (%v)", as[0]["id"], as[0]["repeats"], unlogged, wantRepeats, wantUnlogged)
			}
			return as[0]["id"].(string)
		}
		const n = 200
		size := logSize(t, w)
		forge(n)
		if got := logSize(t, w); got > size+1 {
			t.Fatalf("%d forged envelopes grew the log by %d leaves, want at most 1 (the alert)", n, got-size)
		}
		alert(n-1, n-1)

		// A period later the next repeat is logged with those counted
		// before it: one leaf.
		clk.Add(time.Minute)
		size = logSize(t, w)
		forge(n)
		if got := logSize(t, w); got > size+1 {
			t.Fatalf("%d forged envelopes a period later grew the log by %d leaves, want at most 1", n, got-size)
		}
		id := alert(2*n-1, n-1)

		// A period after the alert's last leaf the registry logs the
		// repeats counted since on its own, as custos serve does every
		// period (the core's background work): one leaf by no principal
		// that counts them and says when the last came.
		lastForged := ledger.FormatTime(clk.Now())
		clk.Add(time.Minute)
		size = logSize(t, w)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.App.Opened[module.Core.Name].Run(ctx) }()
		for deadline := time.Now().Add(10 * time.Second); logSize(t, w) == size && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		}
		stop()
		<-done
		if got := logSize(t, w); got != size+1 {
			t.Fatalf("the core's background work grew the log by %d leaves, want 1", got-size)
		}
		alert(2*n-1, 0)
		e := w.Must(t, 200, "GET", "/api/v1/log/entries/"+itoa(uint64(size)), w.Auditor, nil)
		var leaf struct {
			Type string               `json:"type"`
			By   string               `json:"by"`
			Data ledger.AlertRepeated `json:"data"`
		}
		if err := json.Unmarshal([]byte(e.Str("data")), &leaf); err != nil {
			t.Fatal(err)
		}
		if leaf.Type != ledger.TypeAlertRepeated || leaf.By != "" || leaf.Data.AlertID != id || leaf.Data.Count != n-1 || leaf.Data.LastRepeatedAt != lastForged {
			t.Fatalf("the leaf that logs the counted repeats: %s, want alert.repeated by no one of %s counting %d, the last at %s", e.Str("data"), id, n-1, lastForged)
		}
		if k, err := w.App.Writer.LogRepeats(context.Background()); k != 0 || err != nil {
			t.Fatalf("logging repeats again logged %d alerts (%v), want none", k, err)
		}
		forge(n)
		id = alert(3*n-1, n)

		// A count written behind custos's back (without the key file) is
		// not signed into the log: the closing below logs none of it.
		tx, err := w.App.DB.BeginWrite(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(context.Background(), "UPDATE alert_repeats SET count = 100000 WHERE alert_id = ?", id); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}

		// Closing logs the repeats counted outside the log that carry the
		// registry's MAC (not the tampered count): the closed alert's count
		// is the log's, and a replay rebuilds it.
		w.Must(t, 200, "POST", "/api/v1/alerts/"+id+"/close", w.Regulator, map[string]any{"outcome": "no_action", "note": "forged traffic"})
		alert(2*n-1, 0)
		verifyOK(t, w.Env)
	})
}
