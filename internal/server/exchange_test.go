package server_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestExchangeModuleType exchanges the example module's message type between
// two registries that run the module, in process: a payload that does not
// meet the type's schema is refused before it is sent, naming the field; a
// valid one is signed, received, and its receipt recorded; a message signed
// by the sender with a payload the schema refuses is refused by the
// receiver with a signed refusal naming the field; a type the receiver does
// not know is refused as unknown_type. (internal/e2e drives the same over
// HTTPS between two custos serve processes.)
func TestExchangeModuleType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		second := storetest.Second(t, dsn)
		mods := append(server.DefaultModules(), exampleRegistry)
		a, b := apptest.StartModules(t, dsn, mods), apptest.StartModules(t, second, mods)
		ctx := context.Background()
		idA := identity(t, a)
		idB := identity(t, b)
		peer := func(e *apptest.Env, id *exchange.Identity) string {
			return e.Must(t, 201, "POST", "/api/v1/exchange/peers", e.Admin, map[string]any{"name": "The other registry", "jurisdiction": id.Jurisdiction,
				"url": "https://peer.invalid", "public_key": id.PublicKey, "send_purposes": []string{"coordination"}, "receive_purposes": []string{"coordination"}}).Str("id")
		}
		peerB := peer(a, idB)
		peer(b, idA)
		out := func(payload string) map[string]any {
			return map[string]any{"peer_id": peerB, "type": noticeShared.Name, "purpose": "coordination", "legal_basis": "Example agreement, art. 1",
				"notice": "Synthetic.", "readers": []string{"admin"}, "payload": json.RawMessage(payload)}
		}

		r := a.Must(t, 422, "POST", "/api/v1/exchange/outbox", a.Admin, out(`{"urgency":"whenever","body":"x"}`))
		if r.Str("error.rule") != "schema" || r.Str("error.field") != "payload.urgency" {
			t.Fatalf("a payload outside the schema: %s", r.Raw)
		}
		sent := a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, out(`{"urgency":"urgent","body":"The office moves on Monday."}`))
		env, err := json.Marshal(exchange.Envelope{Message: sent.Str("message"), Key: sent.Str("key"), Signature: sent.Str("signature")})
		if err != nil {
			t.Fatal(err)
		}
		status, ans := b.App.Exchange.Receive(ctx, env)
		if status != 200 || ans.Error != nil {
			t.Fatalf("receive: %d %+v", status, ans.Error)
		}
		if err := a.App.Exchange.RecordReceipt(ctx, sent.Str("id"), &ans.SignedReceipt); err != nil {
			t.Fatal(err)
		}
		box := a.Must(t, 200, "GET", "/api/v1/exchange/outbox?module=example&state=acknowledged", a.Admin, nil)
		if n := len(box.Body["messages"].([]any)); n != 1 {
			t.Fatalf("acknowledged messages of the example module: %d, want 1", n)
		}
		if n := len(b.Must(t, 200, "GET", "/api/v1/exchange/inbox?module=example", b.Admin, nil).Body["messages"].([]any)); n != 1 {
			t.Fatalf("XB's inbox of the example module: %d, want 1", n)
		}

		// Signed by the sender, refused by the receiver's schema.
		key, err := exchange.DeriveKey(a.App.Keys.Master, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range []struct{ typ, payload, rule, field string }{
			{noticeShared.Name, `{"urgency":"urgent"}`, "schema", "payload.body"},
			{noticeShared.Name, `{"urgency":"urgent","body":"x","colour":"red"}`, "schema", "payload.colour"},
			{"example.unknown", `{"body":"x"}`, "unknown_type", "type"},
		} {
			status, ans := b.App.Exchange.Receive(ctx, apptest.Sealed(t, key, exchange.Message{ID: fmt.Sprintf("XM-BAD-%d", i), From: "XA", To: "XA", Module: "example", Type: c.typ,
				Purpose: "coordination", LegalBasis: "x", Notice: "y", Readers: []string{"admin"}, SentAt: ledger.FormatTime(time.Now()), Payload: json.RawMessage(c.payload)}))
			if status != 422 || ans.Error.Rule != c.rule || ans.Error.Field != c.field {
				t.Fatalf("%s %s: %d %+v, want 422 %s %s", c.typ, c.payload, status, ans.Error, c.rule, c.field)
			}
			pub, _ := exchange.DecodeKey("key", idB.PublicKey)
			sr := ans.SignedReceipt
			if err := sr.Verify(pub); err != nil {
				t.Fatalf("the refusal is not signed by the receiver: %v", err)
			}
		}
	})
}

// TestExchangeScheduleChanged: the delivery schedule (exchange_delivery) is
// outside the log, so a row set to hold a message for years, by whoever can
// write the database, must not hold it: the deliverer keeps the schedule it
// set (a message tried and failed is not tried again at once), but a next
// attempt further away than the longest wait is tried now, said to the log
// and counted (schedule_reset).
func TestExchangeScheduleChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		var log apptest.LogBuffer
		mods := append(server.DefaultModules(), exampleRegistry)
		a := apptest.StartWith(t, dsn, func(cfg *server.Config) {
			cfg.Modules = mods
			cfg.Logger = slog.New(slog.NewJSONHandler(&log, nil))
			cfg.Exchange.RetryBase, cfg.Exchange.RetryMax = time.Hour, 2*time.Hour
		})
		b := apptest.StartModules(t, storetest.SQLite(t), mods)
		ctx := context.Background()
		idB := identity(t, b)
		// The peer's address answers every delivery 503: each one is an attempt.
		var attempts atomic.Int64
		down := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			attempts.Add(1)
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}))
		defer down.Close()
		ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: down.Certificate().Raw}))
		peerB := a.Must(t, 201, "POST", "/api/v1/exchange/peers", a.Admin, map[string]any{"name": "The other registry", "jurisdiction": idB.Jurisdiction,
			"url": down.URL, "tls_ca": ca, "public_key": idB.PublicKey, "send_purposes": []string{"coordination"}, "receive_purposes": []string{"coordination"}}).Str("id")
		sent := a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": noticeShared.Name, "purpose": "coordination",
			"legal_basis": "Example agreement, art. 1", "notice": "Synthetic.", "readers": []string{"admin"},
			"payload": json.RawMessage(`{"urgency":"urgent","body":"The office moves on Monday."}`)})

		deliver := func(want int64, why string) {
			t.Helper()
			if err := a.App.Exchange.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			if n := attempts.Load(); n != want {
				t.Fatalf("%s: %d attempts, want %d", why, n, want)
			}
		}
		deliver(1, "the first delivery")
		deliver(1, "again at once, the peer having failed (the schedule waits an hour)")
		if strings.Contains(log.String(), "schedule") {
			t.Fatalf("a schedule the deliverer set was taken for changed:\n%s", log.String())
		}

		// Held for years behind custos's back: tried now, and said.
		a.Tamper(t, "UPDATE exchange_delivery SET next_attempt_at = ? WHERE message_id = ?", "2099-01-01T00:00:00.000000000Z", sent.Str("id"))
		deliver(2, "a next attempt set in 2099")
		if !strings.Contains(log.String(), `"msg":"exchange delivery: the message's next attempt lies beyond the longest wait`) || !strings.Contains(log.String(), sent.Str("id")) {
			t.Fatalf("the changed schedule is not said to the log:\n%s", log.String())
		}
		var next string
		if err := a.App.DB.Read().QueryRow(ctx, "SELECT next_attempt_at FROM exchange_delivery WHERE message_id = ?", sent.Str("id")).Scan(&next); err != nil {
			t.Fatal(err)
		}
		if next >= "2099" {
			t.Fatalf("the schedule kept the changed time: %s", next)
		}
		deliver(2, "the schedule the deliverer set again")
		m := a.Must(t, 200, "GET", "/metrics", "", nil)
		if !strings.Contains(string(m.Raw), `custos_exchange_events_total{event="schedule_reset"} 1`) {
			t.Fatalf("schedule_reset not counted once:\n%s", m.Raw)
		}
	})
}

// TestExchangePeerStatusForged: what the deliverer last saw of a peer
// (exchange_peer_status) is outside the log, so each row carries the
// registry's MAC: a peer that never answers, its row changed behind
// custos's back to say it answered, is not shown reachable (the API says
// "tampered", the peers page that it is unknown), and the server log says
// so; the deliverer's next attempt writes the row again, taking nothing
// from it (no answer it never got).
func TestExchangePeerStatusForged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		var log apptest.LogBuffer
		a := apptest.StartWith(t, dsn, func(cfg *server.Config) {
			cfg.Logger = slog.New(slog.NewJSONHandler(&log, nil))
			cfg.Exchange.RetryBase, cfg.Exchange.RetryMax = time.Nanosecond, time.Nanosecond
		})
		b := apptest.Start(t, storetest.SQLite(t))
		ctx := context.Background()
		idB := identity(t, b)
		down := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}))
		defer down.Close()
		ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: down.Certificate().Raw}))
		peerB := a.Must(t, 201, "POST", "/api/v1/exchange/peers", a.Admin, map[string]any{"name": "The other registry", "jurisdiction": idB.Jurisdiction,
			"url": down.URL, "tls_ca": ca, "public_key": idB.PublicKey, "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Str("id")
		a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": "core.notice", "purpose": "vigilance",
			"legal_basis": "Example agreement, art. 1", "notice": "Synthetic.", "readers": []string{"admin"},
			"payload": json.RawMessage(`{"subject":"s","text":"t"}`)})
		reachable := func(want string) {
			t.Helper()
			if err := a.App.Exchange.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			if r := a.Must(t, 200, "GET", "/api/v1/exchange/peers/"+peerB, a.Admin, nil); r.Str("reachable") != want {
				t.Fatalf("the peer's reachable: %s, want %q", r.Raw, want)
			}
		}
		reachable("no")
		if strings.Contains(log.String(), "peer status not shown") {
			t.Fatalf("the deliverer's own row was taken for changed:\n%s", log.String())
		}

		// Changed to say the peer answered: not shown as fact.
		a.Tamper(t, "UPDATE exchange_peer_status SET last_ok_at = last_attempt_at, last_error = '' WHERE peer_id = ?", peerB)
		r := a.Must(t, 200, "GET", "/api/v1/exchange/peers/"+peerB, a.Admin, nil)
		if r.Str("reachable") != exchange.ReachableTampered || r.Str("last_error") != "" || r.Str("last_attempt_at") != "" {
			t.Fatalf("the peer after its status was changed: %s, want reachable %q and nothing of the row", r.Raw, exchange.ReachableTampered)
		}
		if want := `"msg":"exchange peer status not shown: its row does not carry the registry's MAC (written or changed behind custos's back)","peer":"` + peerB + `"`; !strings.Contains(log.String(), want) {
			t.Fatalf("the server log lacks %s:\n%s", want, log.String())
		}
		// The next attempt fails again: the row the deliverer writes keeps
		// no answer from the changed one.
		reachable("no")
		var ok string
		if err := a.App.DB.Read().QueryRow(ctx, "SELECT last_ok_at FROM exchange_peer_status WHERE peer_id = ?", peerB).Scan(&ok); err != nil || ok != "" {
			t.Fatalf("the peer's last answer after the next attempt: %q %v, want none", ok, err)
		}
	})
}

// TestExchangeHostileAnswer: a peer's answer is the peer's text, and the
// deliverer writes what it makes of it into the message's last error (the
// outbox, the peers page, the server log). A receipt that names a key of
// its choosing, hundreds of bytes long, with a character of two bytes where
// the error is cut and control characters, must still be recorded as a
// failed attempt (PostgreSQL refuses a text cut inside a character, and an
// attempt not recorded is tried again at every poll, with no backoff), and
// the key is cut and escaped as any peer's words are.
func TestExchangeHostileAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a := apptest.StartWith(t, dsn, func(cfg *server.Config) {
			cfg.Exchange.RetryBase, cfg.Exchange.RetryMax = time.Hour, 2*time.Hour
		})
		b := apptest.Start(t, storetest.SQLite(t))
		ctx := context.Background()
		idB := identity(t, b)
		// "the receipt is signed by " is 25 bytes: the é falls on bytes 499 and 500.
		key := strings.Repeat("a", 474) + "é\x1b[31m\nforged line" + strings.Repeat("b", 100)
		var attempts atomic.Int64
		hostile := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			attempts.Add(1)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"receipt": "{}", "key": key, "signature": "AAAA"})
		}))
		defer hostile.Close()
		ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hostile.Certificate().Raw}))
		peerB := a.Must(t, 201, "POST", "/api/v1/exchange/peers", a.Admin, map[string]any{"name": "The other registry", "jurisdiction": idB.Jurisdiction,
			"url": hostile.URL, "tls_ca": ca, "public_key": idB.PublicKey, "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Str("id")
		sent := a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": "core.notice", "purpose": "vigilance",
			"legal_basis": "Example agreement, art. 1", "notice": "Synthetic.", "readers": []string{"admin"},
			"payload": json.RawMessage(`{"subject":"s","text":"t"}`)})
		for range 2 {
			if err := a.App.Exchange.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := attempts.Load(); n != 1 {
			t.Fatalf("%d attempts in two rounds, want 1: the failed attempt was not recorded, and the message is tried at every poll", n)
		}
		var last string
		if err := a.App.DB.Read().QueryRow(ctx, "SELECT last_error FROM exchange_delivery WHERE message_id = ?", sent.Str("id")).Scan(&last); err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(last) || strings.ContainsAny(last, "\x1b\n") || len(last) > 500 || !strings.Contains(last, "not a key of peer "+peerB) {
			t.Fatalf("the last error is not the peer's key cut and escaped: %q", last)
		}
		r := a.Must(t, 200, "GET", "/api/v1/exchange/peers/"+peerB, a.Admin, nil)
		if r.Str("reachable") != "no" || r.Str("last_error") != last {
			t.Fatalf("the peer after a hostile answer: %s", r.Raw)
		}
	})
}

// TestExchangeDeliveryOrder: a peer's messages are delivered in the order
// they were sent, and a peer that never answers holds up no other. The
// receiving registry acts on what it receives in order (a final report
// refers to the notice of its adverse event, the notice to the organs sent
// before it), so a later message delivered while an earlier one waits would
// be refused for good; and a peer that takes every attempt to its timeout
// must not cost the other peers one timeout per message queued for it.
func TestExchangeDeliveryOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a := apptest.StartWith(t, dsn, func(cfg *server.Config) {
			cfg.Exchange.RetryBase, cfg.Exchange.RetryMax = time.Hour, 2*time.Hour
			cfg.Exchange.Timeout = time.Second
		})
		b := apptest.Start(t, storetest.SQLite(t))
		ctx := context.Background()
		idB := identity(t, b)
		// B's inbox, behind an address that answers 503 to the first
		// attempt of the first message sent.
		var order []string
		var first string
		failed := false
		inbox := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var env exchange.Envelope
			json.Unmarshal(body, &env)
			m, _ := exchange.ParseMessage(env.Message)
			if m.ID == first && !failed {
				failed = true
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			order = append(order, m.ID)
			status, ans := b.App.Exchange.Receive(r.Context(), body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(ans)
		}))
		defer inbox.Close()
		// H: a peer that takes every delivery and never answers.
		var hung atomic.Int64
		stop := make(chan struct{})
		never := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hung.Add(1)
			io.ReadAll(r.Body)
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}))
		defer never.Close()
		defer close(stop)
		pubH, _, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		register := func(srv *httptest.Server, jurisdiction, key string) string {
			ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
			return a.Must(t, 201, "POST", "/api/v1/exchange/peers", a.Admin, map[string]any{"name": "Registry " + jurisdiction, "jurisdiction": jurisdiction,
				"url": srv.URL, "tls_ca": ca, "public_key": key, "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Str("id")
		}
		peerH := register(never, "XH", exchange.EncodeKey(pubH))
		peerB := register(inbox, idB.Jurisdiction, idB.PublicKey)
		b.Peer(t, a, "vigilance")
		send := func(peer, text string) string {
			return a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peer, "type": "core.notice", "purpose": "vigilance",
				"legal_basis": "Example agreement, art. 1", "notice": "Synthetic.", "readers": []string{"admin"},
				"payload": map[string]string{"subject": "s", "text": text}}).Str("id")
		}
		for i := range 3 {
			send(peerH, fmt.Sprintf("to the peer that never answers, %d", i))
		}
		first = send(peerB, "first")
		second := send(peerB, "second")

		began := time.Now()
		if err := a.App.Exchange.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		if n := hung.Load(); n != 1 {
			t.Fatalf("the peer that never answers was tried %d times in one round, want 1 (its first message; the others wait for it)", n)
		}
		if took := time.Since(began); took > 5*time.Second {
			t.Fatalf("one round took %s: the peer that never answers held up the others", took)
		}
		if len(order) != 0 {
			t.Fatalf("delivered while the first message to the peer waits: %v, want none (%s first)", order, first)
		}
		// The first message's schedule says when: past it, both go, in order.
		a.Tamper(t, "UPDATE exchange_delivery SET next_attempt_at = ? WHERE message_id = ?", "2000-01-01T00:00:00.000000000Z", first)
		if err := a.App.Exchange.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(order) != fmt.Sprint([]string{first, second}) {
			t.Fatalf("delivered %v, want %s then %s", order, first, second)
		}
		box := a.Must(t, 200, "GET", "/api/v1/exchange/outbox?state=acknowledged&peer_id="+peerB, a.Admin, nil)
		if n := len(box.Body["messages"].([]any)); n != 2 {
			t.Fatalf("acknowledged by the peer: %d messages, want 2: %s", n, box.Raw)
		}
	})
}

// TestExchangeKeyExpiredInFlight: a message keeps the signature it was sent
// with. Sent before the sender rotated its key and delivered only once the
// overlap the peer gave the old key is over (the peer was down all that
// time), it is refused by the peer as key_expired, with a signed refusal
// the sender records: it is not re-signed, and needs sending again; one
// signed with the new key is received.
func TestExchangeKeyExpiredInFlight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a, b := apptest.Start(t, dsn), apptest.Start(t, storetest.SQLite(t))
		ctx := context.Background()
		peerB := a.Peer(t, b, "vigilance")
		peerA := b.Peer(t, a, "vigilance")
		send := func() map[string]any {
			return a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": "core.notice", "purpose": "vigilance",
				"legal_basis": "Example agreement, art. 1", "notice": "Synthetic.", "readers": []string{"admin"},
				"payload": map[string]string{"subject": "s", "text": "t"}}).Body
		}
		old := send()
		next := a.Must(t, 200, "GET", "/api/v1/exchange/identity/next", a.Admin, nil)
		b.Must(t, 201, "POST", "/api/v1/exchange/peers/"+peerA+"/keys", b.Admin, map[string]any{"public_key": next.Str("public_key"),
			"previous_valid_until": time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)})
		a.Must(t, 201, "POST", "/api/v1/exchange/identity/rotate", a.Admin, nil)
		fresh := send()
		time.Sleep(1500 * time.Millisecond)

		receive := func(m map[string]any) (int, *exchange.InboxAnswer) {
			env, err := json.Marshal(exchange.Envelope{Message: m["message"].(string), Key: m["key"].(string), Signature: m["signature"].(string)})
			if err != nil {
				t.Fatal(err)
			}
			return b.App.Exchange.Receive(ctx, env)
		}
		status, ans := receive(old)
		if status != 401 || ans.Error == nil || ans.Error.Rule != "key_expired" || ans.Receipt == "" {
			t.Fatalf("the message signed with the key past its overlap: %d %+v, want a signed key_expired refusal", status, ans.Error)
		}
		if err := a.App.Exchange.RecordReceipt(ctx, old["id"].(string), &ans.SignedReceipt); err != nil {
			t.Fatal(err)
		}
		if status, ans := receive(fresh); status != 200 || ans.Error != nil {
			t.Fatalf("the message signed with the new key: %d %+v", status, ans.Error)
		}
		box := a.Must(t, 200, "GET", "/api/v1/exchange/outbox?state=refused", a.Admin, nil)
		ms := box.Body["messages"].([]any)
		if len(ms) != 1 || ms[0].(map[string]any)["id"] != old["id"] || ms[0].(map[string]any)["refusal_rule"] != "key_expired" {
			t.Fatalf("the sender's refused messages: %s, want %s refused key_expired", box.Raw, old["id"])
		}
	})
}

// TestExchangeReceiptAfterPeerRotated: a receipt is checked against the key
// that signed it as it was when it signed it. The peer received a message
// and signed its receipt, which never reached the sender; the peer then
// rotated its key and the old key's overlap ended. Sent again, the message
// is answered with the receipt signed then, with the old key: it verifies,
// and the message is acknowledged. A receipt the old key signs after its
// end, or claims to have signed before its end for a message sent after it,
// does not verify, and its message stays pending.
func TestExchangeReceiptAfterPeerRotated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		second := storetest.Second(t, dsn)
		a, b := apptest.Start(t, dsn), apptest.Start(t, second)
		ctx := context.Background()
		peerB := a.Peer(t, b, "vigilance")
		b.Peer(t, a, "vigilance")
		idA := identity(t, a)
		idB := identity(t, b)
		send := func(text string) map[string]any {
			return a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": "core.notice", "purpose": "vigilance",
				"legal_basis": "Example agreement, art. 1", "notice": "Synthetic.", "readers": []string{"admin"},
				"payload": map[string]string{"subject": "s", "text": text}}).Body
		}
		receive := func(m map[string]any) *exchange.InboxAnswer {
			env, err := json.Marshal(exchange.Envelope{Message: m["message"].(string), Key: m["key"].(string), Signature: m["signature"].(string)})
			if err != nil {
				t.Fatal(err)
			}
			status, ans := b.App.Exchange.Receive(ctx, env)
			if status != 200 || ans.Error != nil {
				t.Fatalf("the peer receives %s: %d %+v", m["id"], status, ans.Error)
			}
			return ans
		}

		old := send("received before the rotation")
		first := receive(old) // the answer is lost on the way
		oldKey, err := exchange.DeriveKey(b.App.Keys.Master, 0)
		if err != nil {
			t.Fatal(err)
		}
		if first.Key != exchange.Fingerprint(oldKey.Public().(ed25519.PublicKey)) {
			t.Fatalf("the first receipt is signed by %s, not the peer's first key", first.Key)
		}
		next := b.Must(t, 200, "GET", "/api/v1/exchange/identity/next", b.Admin, nil)
		overlap := time.Now().Add(time.Second)
		a.Must(t, 201, "POST", "/api/v1/exchange/peers/"+peerB+"/keys", a.Admin, map[string]any{"public_key": next.Str("public_key"),
			"previous_valid_until": overlap.UTC().Format(time.RFC3339Nano)})
		b.Must(t, 201, "POST", "/api/v1/exchange/identity/rotate", b.Admin, nil)
		time.Sleep(time.Until(overlap) + 200*time.Millisecond)
		late := send("sent after the old key's end")

		forge := func(m map[string]any, at time.Time) *exchange.SignedReceipt {
			sr, err := exchange.SealReceipt(&exchange.Receipt{V: exchange.Version, MessageID: m["id"].(string), MessageSHA256: exchange.Digest(m["message"].(string)),
				From: idB.Jurisdiction, To: idA.Jurisdiction, Outcome: exchange.Received, At: ledger.FormatTime(at)}, oldKey)
			if err != nil {
				t.Fatal(err)
			}
			return sr
		}
		for _, c := range []struct {
			name string
			m    map[string]any
			at   time.Time
			want string
		}{
			{"signed with the old key after its end", old, time.Now(), "no longer valid"},
			{"claiming a time before the old key's end, for a message sent after it", late, overlap.Add(-time.Minute), "sent at"},
		} {
			err := a.App.Exchange.RecordReceipt(ctx, c.m["id"].(string), forge(c.m, c.at))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("a receipt %s: %v, want a refusal saying %q", c.name, err, c.want)
			}
			if st := a.OutboxMessage(t, c.m["id"].(string)).State; st != exchange.Pending {
				t.Fatalf("after a receipt %s the message is %s, want pending", c.name, st)
			}
		}

		again := receive(old) // sent again: the peer answers with the receipt it signed then
		if again.Receipt != first.Receipt || again.Key != first.Key {
			t.Fatalf("the peer answered the message sent again with another receipt: %+v, want %+v", again.SignedReceipt, first.SignedReceipt)
		}
		if err := a.App.Exchange.RecordReceipt(ctx, old["id"].(string), &again.SignedReceipt); err != nil {
			t.Fatalf("the receipt signed before the peer rotated, fetched again after the old key's end: %v", err)
		}
		if st := a.OutboxMessage(t, old["id"].(string)).State; st != exchange.Acknowledged {
			t.Fatalf("the message answered before the rotation is %s, want acknowledged", st)
		}
		// The message sent after the rotation is answered with the new key.
		if err := a.App.Exchange.RecordReceipt(ctx, late["id"].(string), &receive(late).SignedReceipt); err != nil {
			t.Fatalf("a receipt signed with the peer's new key: %v", err)
		}
	})
}
