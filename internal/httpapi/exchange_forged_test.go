package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestForgedEnvelopesTakeNoTurn posts, without credentials, envelopes that
// name a registered peer's public key fingerprint with random signatures,
// envelopes of a key no peer holds, and bodies that are no envelope. Each
// is refused with its rule and no receipt signed with the exchange key
// (which would sign a digest of bytes the caller chose). A bad signature
// raises one alert while it is open, and the others add nothing to the log
// and count no repeat: nothing of them reached the writer. Once the alert
// is closed, the next bad signature raises a new one; the log verifies.
func TestForgedEnvelopesTakeNoTurn(t *testing.T) {
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
		refused := func(body any, status int, rule string) {
			t.Helper()
			r := w.Do(t, "POST", exchange.InboxPath, "", body)
			if r.Status != status || r.Str("error.rule") != rule {
				t.Fatalf("%v: %d %s, want %d %s", body, r.Status, r.Raw, status, rule)
			}
			for _, k := range []string{"receipt", "key", "signature"} {
				if r.Str(k) != "" {
					t.Fatalf("the refusal %s carries a %s: only a registered peer's signed message gets a signed receipt", r.Raw, k)
				}
			}
		}
		forge := func(n int) {
			t.Helper()
			for range n {
				sig := make([]byte, ed25519.SignatureSize)
				rand.Read(sig)
				refused(exchange.Envelope{Message: `{"v":1}`, Key: exchange.Fingerprint(pub), Signature: base64.StdEncoding.EncodeToString(sig)},
					401, "bad_signature")
			}
		}
		alerts := func() []map[string]any {
			t.Helper()
			var open []map[string]any
			for _, a := range alertList(t, w, "?rule=bad_signature") {
				if a["state"] != "closed" {
					open = append(open, a)
				}
			}
			return open
		}

		const n = 50
		size := logSize(t, w)
		forge(n)
		as := alerts()
		if got := logSize(t, w); got != size+1 || len(as) != 1 || as[0]["repeats"] != 0.0 {
			t.Fatalf("%d forged envelopes: the log grew by %d leaves and the open alerts are %v; want 1 leaf, one alert with no repeat counted",
				n, got-size, as)
		}
		// A period later, still nothing for the writer.
		clk.Add(time.Minute)
		size = logSize(t, w)
		forge(n)
		if got := logSize(t, w); got != size {
			t.Fatalf("%d forged envelopes with the alert open grew the log by %d leaves, want none", n, got-size)
		}

		// A key no peer holds, and what is no envelope: refused, unsigned,
		// and not in the log.
		_, stranger, _ := ed25519.GenerateKey(rand.Reader)
		sealed, err := exchange.Seal(&exchange.Message{V: exchange.Version, ID: "XC-1", From: "XC", To: "XA"}, stranger)
		if err != nil {
			t.Fatal(err)
		}
		refused(sealed, 401, "unknown_sender")
		refused(`{"message": "sign this", "key": "k"}`, 400, "malformed")
		if got := logSize(t, w); got != size {
			t.Fatalf("refusals of strangers grew the log by %d leaves, want none", got-size)
		}

		// Closed, the alert is raised again by the next bad signature.
		w.Must(t, 200, "POST", "/api/v1/alerts/"+as[0]["id"].(string)+"/close", w.Regulator, map[string]any{"outcome": "no_action", "note": "forged traffic"})
		forge(3)
		if as := alerts(); len(as) != 1 || as[0]["repeats"] != 0.0 {
			t.Fatalf("after closing: open alerts %v, want a new one", as)
		}
		verifyOK(t, w.Env)
	})
}
