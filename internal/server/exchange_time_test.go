package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
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
	second := storetest.SQLite(t)
	if dsn[:4] == "post" {
		second = storetest.Postgres(t)
	}
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
			env, err := exchange.Seal(&exchange.Message{V: exchange.Version, ID: id, From: idA.Jurisdiction, To: idB.Jurisdiction, Module: "core",
				Type: "core.notice", Purpose: "vigilance", LegalBasis: "x", Notice: "y", Readers: []string{"admin"}, SentAt: sentAt,
				Payload: json.RawMessage(`{"subject":"s","text":"t"}`)}, key)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(env)
			return b.App.Exchange.Receive(ctx, body)
		}
		inbox := func() int {
			return len(b.Must(t, 200, "GET", "/api/v1/exchange/inbox", b.Admin, nil).Body["messages"].([]any))
		}
		for i, c := range []struct{ what, sentAt, rule string }{
			{"no time", "", "date_format"},
			{"not a time", "yesterday", "date_format"},
			{"a month 13", "2026-13-01T00:00:00Z", "date_format"},
			{"before 1900", "1066-10-14T09:00:00Z", "date_range"},
			{"an hour ahead", ledger.FormatTime(time.Now().Add(time.Hour)), "dates_in_order"},
		} {
			status, ans := receive(fmt.Sprintf("XM-BAD-%d", i), c.sentAt)
			if status != 422 || ans.Error == nil || ans.Error.Rule != c.rule || ans.Error.Field != "sent_at" || ans.Receipt == "" {
				t.Errorf("a message with %s as sent_at: %d %+v, want a signed 422 %s at sent_at", c.what, status, ans.Error, c.rule)
			}
			if n := inbox(); n != 0 {
				t.Fatalf("after a message with %s as sent_at, the inbox holds %d messages, want 0", c.what, n)
			}
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

// identity reads the exchange identity of the registry e runs.
func identity(t *testing.T, e *apptest.Env) *exchange.Identity {
	t.Helper()
	id, err := e.App.Exchange.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}
