package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
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
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, map[string]any{"name": "Registry B", "jurisdiction": "XB",
			"url": "https://peer.invalid", "public_key": exchange.EncodeKey(pub), "send_purposes": []string{"vigilance"},
			"receive_purposes": []string{"vigilance"}})
		// The peer's own message, refused: a signed refusal, the receipt's
		// fields beside the error.
		sealed := apptest.Sealed(t, priv, exchange.Message{ID: "XB-1", From: "XB", To: "XC", Module: "transplant", Type: "transplant.sae_raised",
			Purpose: "vigilance", LegalBasis: "test", Notice: "test", Readers: []string{"coordinator"}, Payload: json.RawMessage(`{}`)})
		if r := w.Do(t, "POST", exchange.InboxPath, "", sealed); r.Status != 422 || r.Str("error.rule") != "wrong_recipient" ||
			!slices.Equal(slices.Sorted(maps.Keys(r.Body)), []string{"error", "key", "receipt", "signature"}) || r.Str("receipt") == "" {
			t.Fatalf("a peer's message for another registry: %d %s, want 422 wrong_recipient with a signed receipt", r.Status, r.Raw)
		}
		refused := func(body any, status int, rule string) {
			t.Helper()
			r := w.Do(t, "POST", exchange.InboxPath, "", body)
			if r.Status != status || r.Str("error.rule") != rule {
				t.Fatalf("%v: %d %s, want %d %s", body, r.Status, r.Raw, status, rule)
			}
			// A plain refusal: the error alone, no receipt's fields (even
			// empty), so that a peer tells it from a signed refusal.
			if keys := slices.Sorted(maps.Keys(r.Body)); !slices.Equal(keys, []string{"error"}) {
				t.Fatalf("the refusal %s has the keys %v, want the error alone: only a registered peer's signed message gets a signed receipt", r.Raw, keys)
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
		refused(apptest.Sealed(t, stranger, exchange.Message{ID: "XC-1", From: "XC", To: "XA"}), 401, "unknown_sender")
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

// TestConcurrentForgedEnvelopes posts n envelopes forged with a registered
// peer's key at once, over TLS as a peer would: the first alert of the key
// is not yet committed when the others arrive, and still the writer gets
// one command (one refused command, one leaf, one alert); the others are
// counted in the metric of bad signatures.
func TestConcurrentForgedEnvelopes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, map[string]any{"name": "Registry B", "jurisdiction": "XB",
			"url": "https://peer.invalid", "public_key": exchange.EncodeKey(pub), "send_purposes": []string{"vigilance"},
			"receive_purposes": []string{"vigilance"}})
		inbox := httptest.NewTLSServer(w.App.Handler())
		defer inbox.Close()
		metric := func(name string) int {
			t.Helper()
			m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\d+)$`).FindStringSubmatch(string(w.Must(t, 200, "GET", "/metrics", "", nil).Raw))
			if m == nil {
				t.Fatalf("no metric %s", name)
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
		const events, refusedCmds = `custos_exchange_events_total{event="bad_signature"}`, "custos_commands_refused_total"
		size, seen, refused := logSize(t, w), metric(events), metric(refusedCmds)

		const n = 50
		// Every connection made beforehand, so that the envelopes arrive
		// together rather than one TLS handshake apart.
		client := inbox.Client()
		client.Transport.(*http.Transport).MaxIdleConnsPerHost = n
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				res, err := client.Get(inbox.URL + "/healthz")
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			})
		}
		wg.Wait()
		start := make(chan struct{})
		statuses := make(chan int, n)
		for range n {
			sig := make([]byte, ed25519.SignatureSize)
			rand.Read(sig)
			body, _ := json.Marshal(exchange.Envelope{Message: `{"v":1}`, Key: exchange.Fingerprint(pub), Signature: base64.StdEncoding.EncodeToString(sig)})
			wg.Go(func() {
				<-start
				res, err := client.Post(inbox.URL+exchange.InboxPath, "application/json", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				statuses <- res.StatusCode
			})
		}
		// The writer is held busy while they arrive, so that none of their
		// alerts is committed before every envelope has been checked: each
		// would submit its own without the gate.
		held := make(chan struct{})
		var once sync.Once // a Decide may run again
		go func() {
			defer close(held)
			w.App.Writer.Submit(context.Background(), ledger.Actor{}, "hold the writer", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
				once.Do(func() { close(start) })
				time.Sleep(500 * time.Millisecond)
				return nil, errs.New(errs.Conflict, "held", "", "the test held the writer")
			})
		}()
		wg.Wait()
		<-held
		close(statuses)
		for s := range statuses {
			if s != 401 {
				t.Errorf("a forged envelope: %d, want 401", s)
			}
		}
		var open []map[string]any
		for _, a := range alertList(t, w, "?rule=bad_signature") {
			if a["state"] != "closed" {
				open = append(open, a)
			}
		}
		if got := logSize(t, w); got != size+1 || len(open) != 1 {
			t.Errorf("%d forged envelopes at once: the log grew by %d leaves, open alerts %v; want 1 leaf, 1 alert", n, got-size, open)
		}
		if got := metric(refusedCmds) - refused - 1; got != 1 { // less the command that held the writer
			t.Errorf("%d forged envelopes at once made %d writer commands, want 1", n, got)
		}
		if got := metric(events) - seen; got != n {
			t.Errorf("%d forged envelopes at once: %d bad signatures counted, want %d", n, got, n)
		}
	})
}
