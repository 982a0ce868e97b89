package server_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
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

// clockPeers are two registries over HTTPS, A sending to B (peer), each
// with its clock behind or ahead of the time by what its offset holds,
// and A's deliverer waiting an hour after a failed attempt.
type clockPeers struct {
	a, b             *apptest.Env
	aOffset, bOffset *atomic.Int64 // added to time.Now, in nanoseconds
	peer             string
	idA, idB         *exchange.Identity
}

func newClockPeers(t *testing.T, dsn string) *clockPeers {
	t.Helper()
	c := &clockPeers{aOffset: new(atomic.Int64), bOffset: new(atomic.Int64)}
	second := storetest.Second(t, dsn)
	c.a = apptest.StartWith(t, dsn, func(cfg *server.Config) {
		cfg.Exchange.RetryBase, cfg.Exchange.RetryMax = time.Hour, 2*time.Hour
		cfg.Now = func() time.Time { return time.Now().Add(time.Duration(c.aOffset.Load())) }
	})
	c.b = apptest.StartWith(t, second, func(cfg *server.Config) {
		cfg.Now = func() time.Time { return time.Now().Add(time.Duration(c.bOffset.Load())) }
	})
	inbox := httptest.NewUnstartedServer(c.b.App.Handler())
	inbox.Config.ConnContext = server.ConnContext
	inbox.StartTLS()
	t.Cleanup(inbox.Close)
	c.idA, c.idB = identity(t, c.a), identity(t, c.b)
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: inbox.Certificate().Raw}))
	c.peer = c.a.Must(t, 201, "POST", "/api/v1/exchange/peers", c.a.Admin, map[string]any{"name": "The other registry", "jurisdiction": c.idB.Jurisdiction,
		"url": inbox.URL, "tls_ca": ca, "public_key": c.idB.PublicKey, "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Str("id")
	c.b.Peer(t, c.a, "vigilance")
	return c
}

// send has A send a notice with text to B.
func (c *clockPeers) send(t *testing.T, text string) *apptest.Response {
	t.Helper()
	return c.a.Must(t, 201, "POST", "/api/v1/exchange/outbox", c.a.Admin, map[string]any{"peer_id": c.peer, "type": "core.notice", "purpose": "vigilance",
		"legal_basis": "Example agreement, art. 1", "notice": "Synthetic.", "readers": []string{"admin"},
		"payload": map[string]string{"subject": "s", "text": text}})
}

// deliver runs A's deliverer once.
func (c *clockPeers) deliver(t *testing.T) {
	t.Helper()
	if err := c.a.App.Exchange.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// count is the number of rows of table in e's database.
func count(t *testing.T, e *apptest.Env, table string) int {
	t.Helper()
	var n int
	if err := e.App.DB.Read().QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// aboutSeconds reads the seconds that follow "by about" in a last error,
// -1 when there are none.
func aboutSeconds(lastError string) int {
	var n int
	if i := strings.Index(lastError, "by about "); i < 0 {
		return -1
	} else if _, err := fmt.Sscanf(lastError[i:], "by about %d s", &n); err != nil {
		return -1
	}
	return n
}

// pageIn is e's page path, read by its administrator, signed in, in
// lang (the browser's language), its HTML entities read back.
func pageIn(t *testing.T, e *apptest.Env, path, lang string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	if status, _, page := fetchAs(t, browser, e.URL+"/signin", "", "", url.Values{"token": {e.Admin}}); status != 200 {
		t.Fatalf("signing in: %d\n%.300s", status, page)
	}
	status, _, page := fetchAs(t, browser, e.URL+path, "", lang)
	if status != 200 {
		t.Fatalf("%s in %s: %d\n%.600s", path, lang, status, page)
	}
	return html.UnescapeString(page)
}

// TestExchangeClockAhead: between two registries over HTTPS, the
// receiver's clock an hour behind, the sender's message has a sent_at
// ahead of it: the receiver refuses it for now (signed, clock_ahead at
// sent_at, not kept, counted on its side as clock_ahead_incoming), and
// the sender keeps it pending, its last error saying why, the next
// message to the peer waiting behind it, the attempt counted
// (clock_ahead) and tried again after its back-off. The peer answered: it
// is shown reachable with a clock problem (clock_ahead), our clock about
// an hour ahead of its, on the peers page in every language (before, it
// was shown not reachable, in English). Once the receiver's clock is put
// right, the next attempt delivers both, in order. Before, the refusal was
// final (dates_in_order): the message was refused for good, though the
// fault may be either clock, put right an hour later. A signed refusal of
// a sent_at that is no time or before 1900 stays the message's answer.
func TestExchangeClockAhead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		cp := newClockPeers(t, dsn)
		a, b, peerB, idA, idB := cp.a, cp.b, cp.peer, cp.idA, cp.idB
		cp.bOffset.Store(int64(-time.Hour))
		first, next := cp.send(t, "first").Str("id"), cp.send(t, "second").Str("id")

		cp.deliver(t)
		m := a.OutboxMessage(t, first)
		if m.State != exchange.Pending || m.Attempts != 1 || !strings.Contains(m.LastError, `rule clock_ahead, field "sent_at"`) || !strings.Contains(m.LastError, "sent again later") {
			t.Fatalf("the message whose sent_at is ahead of the peer's clock: %s after %d attempts, last error %q; want pending, saying why", m.State, m.Attempts, m.LastError)
		}
		if n := aboutSeconds(m.LastError); n < 3590 || n > 3610 || !strings.Contains(m.LastError, "our clock is ahead of the peer's by about") {
			t.Errorf("the last error says our clock is ahead by %d s, want about 3600: %q", n, m.LastError)
		}
		if m.ClockWait {
			t.Errorf("a message just sent is shown waiting for the clocks (clock_wait)")
		}
		if w := a.OutboxMessage(t, next); w.State != exchange.Pending || w.WaitingBehind != first {
			t.Fatalf("the next message: %s, waiting behind %q, want pending behind %s", w.State, w.WaitingBehind, first)
		}
		if n, k := count(t, b, "exchange_inbox"), count(t, b, "exchange_refusals"); n != 0 || k != 0 {
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
		if r := b.Must(t, 200, "GET", "/metrics", "", nil); !strings.Contains(string(r.Raw), `custos_exchange_events_total{event="clock_ahead_incoming"} 1`) {
			t.Errorf("the receiver does not count the message it refused for now as clock_ahead_incoming:\n%s", r.Raw)
		}

		// The peer answered: reachable, with a clock problem, through the
		// API and on the peers page, in every language.
		peer := a.Must(t, 200, "GET", "/api/v1/exchange/peers/"+peerB, a.Admin, nil)
		if peer.Str("reachable") != exchange.ReachableClockAhead || peer.Str("last_error") != m.LastError {
			t.Errorf("the peer that answered clock_ahead: %s, want reachable %q with the last error", peer.Raw, exchange.ReachableClockAhead)
		}
		for _, lang := range a.App.Languages.Codes() {
			l := a.App.Languages.Localizer(lang)
			page := pageIn(t, a, "/exchange/peers", lang)
			state := l.T("Yes, it answered, but a clock is wrong: its own or this registry's")
			if !strings.Contains(page, state) || strings.Contains(page, ">"+l.T("No")+"<") {
				t.Errorf("%s: the peers page does not show the peer reachable with a clock problem (%q):\n%s", lang, state, page)
			}
			english := strings.Contains(page, "the peer answered, but refuses the message for now")
			if english != (lang == "en") || !strings.Contains(page, fmt.Sprint(aboutSeconds(m.LastError))) {
				t.Errorf("%s: the peers page does not write the clocks' difference (%d s) in its language:\n%s", lang, aboutSeconds(m.LastError), page)
			}
		}

		// The receiver's clock put right; the next attempt (made due now,
		// rather than in an hour) delivers both, in order.
		cp.bOffset.Store(0)
		a.Must(t, 200, "POST", "/api/v1/exchange/outbox/"+first+"/retry", a.Admin, nil)
		cp.deliver(t)
		for _, id := range []string{first, next} {
			if m := a.OutboxMessage(t, id); m.State != exchange.Acknowledged {
				t.Errorf("once the clock is right, %s is %s (%s), want acknowledged", id, m.State, m.LastError)
			}
		}
		if n := count(t, b, "exchange_inbox"); n != 2 {
			t.Errorf("the receiver holds %d messages, want 2", n)
		}
		if r := a.Must(t, 200, "GET", "/api/v1/exchange/peers/"+peerB, a.Admin, nil); r.Str("reachable") != "yes" {
			t.Errorf("the peer once the clock is right: %s, want reachable yes", r.Raw)
		}

		// The sender's side of the rules: a signed clock_ahead is for now,
		// date_range and date_format are the message's answer.
		key, err := exchange.DeriveKey(b.App.Keys.Master, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ rule, state string }{{exchange.RuleClockAhead, exchange.Pending}, {"date_range", exchange.Refused}, {"date_format", exchange.Refused}} {
			sent := cp.send(t, "refused "+c.rule)
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

// TestExchangeClockAheadSender: the sender's clock was an hour ahead when
// it sent a message, and was put right since: the receiver, its clock
// right, refuses the message for now (clock_ahead) until its clock reaches
// the sent_at, an hour away. The sender's last error says so (its sent_at
// about an hour ahead of the peer's clock, though the clocks now agree),
// and the outbox page, in every language, tells the operator what to do:
// abandon it and send it again, which delivers the new message at once.
// Before, the outbox said only that it was sent again later.
func TestExchangeClockAheadSender(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		c := newClockPeers(t, dsn)
		c.aOffset.Store(int64(time.Hour))
		ahead := c.send(t, "signed an hour ahead").Str("id")
		c.aOffset.Store(0)
		c.deliver(t)
		m := c.a.OutboxMessage(t, ahead)
		if n := aboutSeconds(m.LastError); m.State != exchange.Pending || n < 3590 || n > 3610 || !strings.Contains(m.LastError, "as our clock was when it was sent") || !strings.HasSuffix(m.LastError, "abandon it and send it again") {
			t.Fatalf("the message signed while our clock was ahead: %s, last error %q (%d s); want pending, its sent_at about 3600 s ahead of the peer's clock", m.State, m.LastError, n)
		}
		if !m.ClockWait {
			t.Errorf("the message signed while our clock was ahead is not shown waiting for the peer's clock (clock_wait): %+v", m)
		}
		if r := c.a.Must(t, 200, "GET", "/api/v1/exchange/peers/"+c.peer, c.a.Admin, nil); r.Str("reachable") != exchange.ReachableClockAhead {
			t.Errorf("the peer: %s, want reachable %q", r.Raw, exchange.ReachableClockAhead)
		}
		for _, lang := range c.a.App.Languages.Codes() {
			hint := c.a.App.Languages.Localizer(lang).T("Refused for a while, its sent_at ahead of the peer's clock. If this registry's clock was ahead when the message was sent, it waits until the peer's clock reaches its sent_at: to deliver it sooner, abandon it and send it again (a new message, signed at this registry's time).")
			if page := pageIn(t, c.a, "/exchange/outbox", lang); !strings.Contains(page, hint) {
				t.Errorf("%s: the outbox page does not say what to do about the message (%q):\n%s", lang, hint, page)
			}
		}

		// What the page says: abandon it, send it again.
		c.a.Must(t, 200, "POST", "/api/v1/exchange/outbox/"+ahead+"/abandon", c.a.Admin, map[string]any{"reason": "signed while our clock was an hour ahead; sent again"})
		again := c.send(t, "signed an hour ahead").Str("id")
		c.deliver(t)
		if m := c.a.OutboxMessage(t, again); m.State != exchange.Acknowledged {
			t.Errorf("the message sent again: %s (%s), want acknowledged", m.State, m.LastError)
		}
		if r := c.a.Must(t, 200, "GET", "/api/v1/exchange/peers/"+c.peer, c.a.Admin, nil); r.Str("reachable") != "yes" {
			t.Errorf("the peer after the message sent again: %s, want reachable yes", r.Raw)
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
