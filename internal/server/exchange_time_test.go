package server_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// exchangePair starts two registries on dsn's database kind, each the
// other's peer for vigilance, A logging to log, and returns them with A's
// peer id of B.
func exchangePair(t *testing.T, dsn string, log *apptest.LogBuffer) (a, b *apptest.Env, peerB string) {
	t.Helper()
	second := storetest.Second(t, dsn)
	a = apptest.StartWith(t, dsn, func(cfg *server.Config) { cfg.Logger = slog.New(slog.NewJSONHandler(log, nil)) })
	b = apptest.Start(t, second)
	peerB = a.Peer(t, b, "vigilance")
	b.Peer(t, a, "vigilance")
	return a, b, peerB
}

// TestExchangeMessageSentAt: a message whose sent_at is not a time or is
// before 1900 is refused for good in a signed answer naming sent_at, and
// not recorded in the inbox; one more than five minutes ahead of the
// receiver's clock (either clock wrong) is refused for now (503
// clock_ahead, signed, not kept: TestExchangeClockAhead). Before, the message was received and kept
// with the sender's sent_at as it came. One sent a minute ago, or by a
// clock a minute ahead, is received.
func TestExchangeMessageSentAt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a, b, _ := exchangePair(t, dsn, &apptest.LogBuffer{})
		ctx := context.Background()
		idA := identity(t, a)
		idB := identity(t, b)
		key, err := exchange.DeriveKey(a.App.Keys.Master, 0)
		if err != nil {
			t.Fatal(err)
		}
		receive := func(id, sentAt string) (int, *exchange.InboxAnswer) {
			return b.App.Exchange.Receive(ctx, apptest.Sealed(t, key, exchange.Message{ID: id, From: idA.Jurisdiction, To: idB.Jurisdiction, Module: "core",
				Type: "core.notice", Purpose: "vigilance", LegalBasis: "x", Notice: "y", Readers: []string{"admin"}, SentAt: sentAt,
				Payload: json.RawMessage(`{"subject":"s","text":"t"}`)}))
		}
		inbox := func() int {
			return len(b.Must(t, 200, "GET", "/api/v1/exchange/inbox", b.Admin, nil).Body["messages"].([]any))
		}
		for i, c := range []struct {
			what, sentAt, rule string
			status             int
		}{
			{"no time", "", "date_format", 422},
			{"not a time", "yesterday", "date_format", 422},
			{"a month 13", "2026-13-01T00:00:00Z", "date_format", 422},
			{"before 1900", "1066-10-14T09:00:00Z", "date_range", 422},
			{"an hour ahead", ledger.FormatTime(time.Now().Add(time.Hour)), exchange.RuleClockAhead, 503},
		} {
			status, ans := receive(fmt.Sprintf("XM-BAD-%d", i), c.sentAt)
			if status != c.status || ans.Error == nil || ans.Error.Rule != c.rule || ans.Error.Field != "sent_at" || ans.Receipt == "" {
				t.Errorf("a message with %s as sent_at: %d %+v, want a signed %d %s at sent_at", c.what, status, ans.Error, c.status, c.rule)
			}
			if n := inbox(); n != 0 {
				t.Fatalf("after a message with %s as sent_at, the inbox holds %d messages, want 0", c.what, n)
			}
		}
		// The refusals for good are kept, to be answered again; the one
		// for now (clock_ahead) is not: sent again later, it is decided
		// again.
		var kept int
		if err := b.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM exchange_refusals").Scan(&kept); err != nil || kept != 4 {
			t.Errorf("the receiver keeps %d refusals (%v), want the 4 for good", kept, err)
		}
		for i, at := range []time.Time{time.Now().Add(-time.Minute), time.Now().Add(time.Minute)} {
			if status, ans := receive(fmt.Sprintf("XM-OK-%d", i), at.Format(time.RFC3339)); status != 200 || ans.Error != nil {
				t.Errorf("a message sent at %s: %d %+v", at, status, ans.Error)
			}
		}
		if n := inbox(); n != 2 {
			t.Errorf("the inbox holds %d messages, want 2", n)
		}
	})
}

// TestExchangeReceiptTime: a receipt that verifies but gives a time it
// cannot have been signed at (an hour before its message was sent, an hour
// ahead of the sender's clock, or no time) answers its message (a receipt
// refused would leave the message pending, and the peer answers a message
// sent again with the same receipt: it would be sent for ever), but the
// outbox's answered_at is the sender's own time of recording, not the
// peer's: said to the log and counted (receipt_time_not_taken). Before,
// answered_at was the receipt's time whatever it was. A receipt signed a
// few seconds before the message was sent here (the peer's clock a little
// behind) keeps its time. The outbox says which (at_from_clock), as the log
// entry does; before, only comparing answered_at with the receipt's at
// told.
func TestExchangeReceiptTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		var log apptest.LogBuffer
		a, b, peerB := exchangePair(t, dsn, &log)
		ctx := context.Background()
		idA := identity(t, a)
		idB := identity(t, b)
		key, err := exchange.DeriveKey(b.App.Keys.Master, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range []struct {
			what  string
			at    func(sent time.Time) string
			taken bool
		}{
			{"an hour before its message was sent", func(sent time.Time) string { return ledger.FormatTime(sent.Add(-time.Hour)) }, false},
			{"an hour ahead", func(time.Time) string { return ledger.FormatTime(time.Now().Add(time.Hour)) }, false},
			{"no time", func(time.Time) string { return "" }, false},
			{"ten seconds before its message was sent", func(sent time.Time) string { return ledger.FormatTime(sent.Add(-10 * time.Second)) }, true},
		} {
			m := a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": "core.notice", "purpose": "vigilance",
				"legal_basis": "Example agreement, art. 1", "notice": "Synthetic.", "readers": []string{"admin"},
				"payload": map[string]string{"subject": "s", "text": fmt.Sprint("notice ", i)}})
			id := m.Str("id")
			var sentAt string
			if err := a.App.DB.Read().QueryRow(ctx, "SELECT sent_at FROM exchange_outbox WHERE id = ?", id).Scan(&sentAt); err != nil {
				t.Fatal(err)
			}
			sent, err := time.Parse(time.RFC3339Nano, sentAt)
			if err != nil {
				t.Fatal(err)
			}
			claimed := c.at(sent)
			sr, err := exchange.SealReceipt(&exchange.Receipt{V: exchange.Version, MessageID: id, MessageSHA256: exchange.Digest(m.Str("message")),
				From: idB.Jurisdiction, To: idA.Jurisdiction, Outcome: exchange.Received, At: claimed}, key)
			if err != nil {
				t.Fatal(err)
			}
			before := ledger.FormatTime(time.Now())
			if err := a.App.Exchange.RecordReceipt(ctx, id, sr); err != nil {
				t.Fatalf("a receipt signed %s: %v, want it recorded", c.what, err)
			}
			after := ledger.FormatTime(time.Now())
			o := a.OutboxMessage(t, id)
			if o.State != exchange.Acknowledged {
				t.Errorf("after a receipt signed %s the message is %s, want acknowledged", c.what, o.State)
			}
			if o.AtFromClock == c.taken {
				t.Errorf("a receipt signed %s: the outbox's at_from_clock is %v, want %v", c.what, o.AtFromClock, !c.taken)
			}
			at := o.AnsweredAt
			switch {
			case c.taken && at != claimed:
				t.Errorf("a receipt signed %s: answered_at %s, want the receipt's %s", c.what, at, claimed)
			case !c.taken && (at < before || at > after):
				t.Errorf("a receipt signed %s (%q): answered_at %s, want this registry's time of recording, between %s and %s", c.what, claimed, at, before, after)
			case !c.taken && !strings.Contains(log.String(), id):
				t.Errorf("a receipt signed %s is not said to the log:\n%s", c.what, log.String())
			}
		}
		if m := a.Must(t, 200, "GET", "/metrics", "", nil); !strings.Contains(string(m.Raw), `custos_exchange_events_total{event="receipt_time_not_taken"} 3`) {
			t.Errorf("receipt_time_not_taken not counted three times:\n%s", m.Raw)
		}
	})
}

// TestExchangeClockAhead: between two registries over HTTPS, the
// receiver's clock an hour behind, the sender's message has a sent_at
// ahead of it: the receiver refuses it for now (signed, clock_ahead at
// sent_at, not kept), and the sender keeps it pending, its last error
// saying why, the next message to the peer waiting behind it, the attempt
// counted (clock_ahead) and tried again after its back-off. Once the
// receiver's clock is put right, the next attempt delivers both, in order.
// Before, the refusal was final (dates_in_order): the message was refused
// for good, though the fault may be either clock, put right an hour later.
// A signed refusal of a sent_at that is no time or before 1900 stays the
// message's answer.
func TestExchangeClockAhead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		second := storetest.Second(t, dsn)
		ctx := context.Background()
		a := apptest.StartWith(t, dsn, func(cfg *server.Config) { cfg.Exchange.RetryBase, cfg.Exchange.RetryMax = time.Hour, 2*time.Hour })
		var behind atomic.Int64
		behind.Store(int64(time.Hour))
		b := apptest.StartWith(t, second, func(cfg *server.Config) {
			cfg.Now = func() time.Time { return time.Now().Add(-time.Duration(behind.Load())) }
		})
		inbox := httptest.NewUnstartedServer(b.App.Handler())
		inbox.Config.ConnContext = server.ConnContext
		inbox.StartTLS()
		defer inbox.Close()
		idA := identity(t, a)
		idB := identity(t, b)
		ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: inbox.Certificate().Raw}))
		peerB := a.Must(t, 201, "POST", "/api/v1/exchange/peers", a.Admin, map[string]any{"name": "The other registry", "jurisdiction": idB.Jurisdiction,
			"url": inbox.URL, "tls_ca": ca, "public_key": idB.PublicKey, "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Str("id")
		b.Peer(t, a, "vigilance")
		send := func(text string) *apptest.Response {
			return a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": "core.notice", "purpose": "vigilance",
				"legal_basis": "Example agreement, art. 1", "notice": "Synthetic.", "readers": []string{"admin"},
				"payload": map[string]string{"subject": "s", "text": text}})
		}
		deliver := func() {
			t.Helper()
			if err := a.App.Exchange.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		count := func(e *apptest.Env, table string) int {
			t.Helper()
			var n int
			if err := e.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		first, next := send("first").Str("id"), send("second").Str("id")

		deliver()
		m := a.OutboxMessage(t, first)
		if m.State != exchange.Pending || m.Attempts != 1 || !strings.Contains(m.LastError, `rule clock_ahead, field "sent_at"`) || !strings.Contains(m.LastError, "sent again later") {
			t.Fatalf("the message whose sent_at is ahead of the peer's clock: %s after %d attempts, last error %q; want pending, saying why", m.State, m.Attempts, m.LastError)
		}
		if w := a.OutboxMessage(t, next); w.State != exchange.Pending || w.WaitingBehind != first {
			t.Fatalf("the next message: %s, waiting behind %q, want pending behind %s", w.State, w.WaitingBehind, first)
		}
		if n, k := count(b, "exchange_inbox"), count(b, "exchange_refusals"); n != 0 || k != 0 {
			t.Fatalf("the receiver holds %d messages and keeps %d refusals, want neither", n, k)
		}
		var nextAttempt string
		if err := a.App.DB.Read().QueryRow(ctx, "SELECT next_attempt_at FROM exchange_delivery WHERE message_id = ?", first).Scan(&nextAttempt); err != nil {
			t.Fatal(err)
		}
		if soon := ledger.FormatTime(time.Now().Add(50 * time.Minute)); nextAttempt < soon {
			t.Errorf("the next attempt is at %s, want after the back-off of an hour", nextAttempt)
		}
		if r := a.Must(t, 200, "GET", "/metrics", "", nil); !strings.Contains(string(r.Raw), `custos_exchange_events_total{event="clock_ahead"} 1`) {
			t.Errorf("the attempt refused for now is not counted as clock_ahead:\n%s", r.Raw)
		}

		// The receiver's clock put right; the next attempt (made due now,
		// rather than in an hour) delivers both, in order.
		behind.Store(0)
		a.Must(t, 200, "POST", "/api/v1/exchange/outbox/"+first+"/retry", a.Admin, nil)
		deliver()
		for _, id := range []string{first, next} {
			if m := a.OutboxMessage(t, id); m.State != exchange.Acknowledged {
				t.Errorf("once the clock is right, %s is %s (%s), want acknowledged", id, m.State, m.LastError)
			}
		}
		if n := count(b, "exchange_inbox"); n != 2 {
			t.Errorf("the receiver holds %d messages, want 2", n)
		}

		// The sender's side of the rules: a signed clock_ahead is for now,
		// date_range and date_format are the message's answer.
		key, err := exchange.DeriveKey(b.App.Keys.Master, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ rule, state string }{{exchange.RuleClockAhead, exchange.Pending}, {"date_range", exchange.Refused}, {"date_format", exchange.Refused}} {
			sent := send("refused " + c.rule)
			sr, err := exchange.SealReceipt(&exchange.Receipt{V: exchange.Version, MessageID: sent.Str("id"), MessageSHA256: exchange.Digest(sent.Str("message")),
				From: idB.Jurisdiction, To: idA.Jurisdiction, Outcome: exchange.Refused, Rule: c.rule, Field: "sent_at", Reason: "r", At: ledger.FormatTime(time.Now())}, key)
			if err != nil {
				t.Fatal(err)
			}
			err = a.App.Exchange.RecordReceipt(ctx, sent.Str("id"), sr)
			if m := a.OutboxMessage(t, sent.Str("id")); m.State != c.state || (err == nil) != (c.state == exchange.Refused) {
				t.Errorf("a signed refusal %s at sent_at: %v, the message %s, want %s", c.rule, err, m.State, c.state)
			}
		}
	})
}

// identity reads the exchange identity of the registry e runs.
func identity(t *testing.T, e *apptest.Env) *exchange.Identity {
	t.Helper()
	id, err := e.App.Exchange.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}
