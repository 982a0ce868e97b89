package assets_test

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// TestRequestReceivedSentAt has a peer, XB, post requests to this
// registry's inbox whose sent_at is missing, not a time, before 1900 or
// hours ahead of this registry's clock (either clock wrong): each is
// refused in a signed answer naming payload.sent_at (the one ahead for
// now, clock_ahead: the peer sends it again later), and no request is
// recorded. Before, each was received and acknowledged: the one without a
// sent_at was hidden from the requested state's officer (a request with
// none reads as a draft), the others were recorded with the peer's text as
// the day the request was sent. A request sent a minute ago (by a clock a
// little ahead too) is received and listed for the officer.
func TestRequestReceivedSentAt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		peer := peerXB(t, w)
		post := func(id, sentAt string) map[string]any {
			return peer(id, "assets.request", requestFromXB(id, sentAt, ""))
		}
		incoming := func() int { return len(incomingRequests(t, w)) }
		for i, c := range []struct{ what, sentAt, rule string }{
			{"no time", "", "date_format"},
			{"not a time", "yesterday", "date_format"},
			{"a month 13", "2026-13-01T00:00:00Z", "date_format"},
			{"before 1900", "1066-10-14T09:00:00Z", "date_range"},
			{"an hour ahead", ledger.FormatTime(time.Now().Add(time.Hour)), exchange.RuleClockAhead},
		} {
			ans := post(fmt.Sprintf("RQ-BAD%d", i), c.sentAt)
			if !refusedAt(ans, c.rule, "payload.sent_at") {
				t.Errorf("a request with %s as sent_at: %v, want a signed refusal %s at payload.sent_at", c.what, ans, c.rule)
			}
			if n := incoming(); n != 0 {
				t.Fatalf("after a request with %s as sent_at, the officer lists %d requests received, want 0", c.what, n)
			}
		}
		for i, at := range []time.Time{time.Now().Add(-time.Minute), time.Now().Add(time.Minute)} {
			if ans := post(fmt.Sprintf("RQ-OK%d", i), at.Format(time.RFC3339)); ans["error"] != nil {
				t.Errorf("a request sent at %s: refused %v", at, ans["error"])
			}
		}
		if n := incoming(); n != 2 {
			t.Errorf("the officer lists %d requests received, want 2", n)
		}
	})
}

// peerXB registers XB as an exchange peer of w for legal assistance and
// returns a function that posts to w's inbox a message of typ with payload,
// signed by XB, and returns the inbox's answer.
func peerXB(t *testing.T, w *world) func(id, typ string, payload map[string]any) map[string]any {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, map[string]any{"name": "Registry of Otherland", "jurisdiction": "XB",
		"url": "https://peer.invalid", "public_key": exchange.EncodeKey(pub),
		"send_purposes": []string{"legal_assistance"}, "receive_purposes": []string{"legal_assistance"}})
	return func(id, typ string, payload map[string]any) map[string]any {
		b, _ := json.Marshal(payload)
		return w.Do(t, "POST", exchange.InboxPath, "", apptest.Sealed(t, key, exchange.Message{ID: "XM-" + id, From: "XB", To: "XA", Module: "assets", Type: typ,
			Purpose: "legal_assistance", LegalBasis: "UNCAC art. 46 (synthetic)", Notice: "Synthetic test message.",
			Readers: []string{"central_authority_officer", "regulator"}, SentAt: ledger.FormatTime(time.Now()), Payload: b})).Body
	}
}

// requestFromXB is the payload of a request XB sends XA, sent at sentAt,
// with deadline when it is not empty.
func requestFromXB(id, sentAt, deadline string) map[string]any {
	p := map[string]any{"request_id": id, "type": "mla", "requesting_state": "XB", "requested_state": "XA",
		"requesting_authority": "Central Authority of XB", "requested_authority": "Central Authority of XA", "legal_basis": "uncac_46",
		"offences": []string{"07031"}, "facts": "Synthetic facts.", "purpose": "Evidence.", "confidentiality": "required", "language": "en",
		"use_purposes": []string{"prosecution"}, "sent_at": sentAt}
	if deadline != "" {
		p["urgent"], p["deadline"] = true, deadline
	}
	return p
}

// incomingRequests lists the requests the officer of w sees received.
func incomingRequests(t *testing.T, w *world) []map[string]any {
	t.Helper()
	var l struct{ Requests []map[string]any }
	if err := json.Unmarshal(w.Must(t, 200, "GET", "/api/v1/assets/requests?direction=incoming", w.CAToken, nil).Raw, &l); err != nil {
		t.Fatal(err)
	}
	return l.Requests
}

// refusedAt tells whether the inbox's answer ans is a signed refusal with
// rule at field.
func refusedAt(ans map[string]any, rule, field string) bool {
	e, _ := ans["error"].(map[string]any)
	return e != nil && e["rule"] == rule && e["field"] == field && ans["receipt"] != nil
}

// TestRequestReceivedDeadline has XB send requests whose deadline is not a
// calendar date, is before the day the request was sent, or is more than
// five years after it: each is refused in a signed answer naming
// payload.deadline, and none is recorded. Before, the schema checked the
// shape only: 2026-02-30 and 2099-01-01 were kept, and a deadline before
// the request was sent made it overdue the moment it arrived. A request
// sent ten days ago with a deadline five days ago (delivered late) is
// received, and is overdue at once; one with a deadline on its sent day,
// or five years after it, is received.
func TestRequestReceivedDeadline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		post := peerXB(t, w)
		now := time.Now().UTC()
		day := func(t time.Time) string { return t.Format("2006-01-02") }
		sent := now.AddDate(0, 0, -10)
		for i, c := range []struct{ what, deadline, rule string }{
			{"not a calendar date", "2026-02-30", "date_format"},
			{"before 1900", "1899-12-31", "date_range"},
			{"the day before the request was sent", day(sent.AddDate(0, 0, -1)), "dates_in_order"},
			{"the day after five years from the request's sending", day(sent.AddDate(5, 0, 1)), "date_range"},
		} {
			ans := post(fmt.Sprintf("RQ-BAD%d", i), "assets.request", requestFromXB(fmt.Sprintf("RQ-BAD%d", i), ledger.FormatTime(sent), c.deadline))
			if !refusedAt(ans, c.rule, "payload.deadline") {
				t.Errorf("a request whose deadline is %s (%s): %v, want a signed refusal %s at payload.deadline", c.what, c.deadline, ans, c.rule)
			}
			if l := incomingRequests(t, w); len(l) != 0 {
				t.Fatalf("after a request whose deadline is %s, the officer lists %d requests received, want 0", c.what, len(l))
			}
		}
		for i, deadline := range []string{day(sent.AddDate(0, 0, 5)), day(sent), day(sent.AddDate(5, 0, 0))} {
			if ans := post(fmt.Sprintf("RQ-OK%d", i), "assets.request", requestFromXB(fmt.Sprintf("RQ-OK%d", i), ledger.FormatTime(sent), deadline)); ans["error"] != nil {
				t.Errorf("a request sent on %s with deadline %s: refused %v", day(sent), deadline, ans["error"])
			}
		}
		overdue := map[string]bool{}
		for _, r := range incomingRequests(t, w) {
			overdue[r["remote_id"].(string)] = r["overdue"] == true
		}
		if want := map[string]bool{"RQ-OK0": true, "RQ-OK1": true, "RQ-OK2": false}; fmt.Sprint(overdue) != fmt.Sprint(want) {
			t.Errorf("the requests received, overdue: %v, want %v", overdue, want)
		}
	})
}

// TestRequestStatusReceivedOn has XB, the requesting state, withdraw a
// request it sent XA three days ago with a step whose day (on) is not a
// calendar date, is before 1900, is before the day the request was sent,
// or is after XA's today by more than a day (time zones): each is refused
// in a signed answer naming payload.on, and the request stays sent.
// Before, the schema checked the shape only, and 2026-13-45 or 2099-01-01
// went into XA's log as the day of the step; then the date alone, and a
// step the day before its request was sent was recorded. A withdrawal
// dated tomorrow (XB's time zone ahead) is recorded, with its day.
func TestRequestStatusReceivedOn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		post := peerXB(t, w)
		// At noon, so that the day before it is before it by either clock.
		sent := time.Now().UTC().AddDate(0, 0, -3).Truncate(24 * time.Hour).Add(12 * time.Hour)
		if ans := post("RQ-1", "assets.request", requestFromXB("RQ-1", ledger.FormatTime(sent), "")); ans["error"] != nil {
			t.Fatalf("the request: refused %v", ans["error"])
		}
		status := func() string {
			l := incomingRequests(t, w)
			if len(l) != 1 {
				t.Fatalf("the officer lists %d requests received, want 1", len(l))
			}
			return l[0]["status"].(string)
		}
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
		for i, c := range []struct{ what, on, rule string }{
			{"not a calendar date", "2026-13-45", "date_format"},
			{"before 1900", "1899-12-31", "date_range"},
			{"the day before the request was sent", sent.AddDate(0, 0, -1).Format("2006-01-02"), "dates_in_order"},
			{"years ahead", "2099-01-01", "dates_in_order"},
			{"two days ahead", time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02"), "dates_in_order"},
		} {
			ans := post(fmt.Sprintf("ST-BAD%d", i), "assets.request_status", map[string]any{"request_id": "RQ-1", "status": "withdrawn", "on": c.on})
			if !refusedAt(ans, c.rule, "payload.on") {
				t.Errorf("a withdrawal on %s (%s): %v, want a signed refusal %s at payload.on", c.what, c.on, ans, c.rule)
			}
			if st := status(); st != "sent" {
				t.Fatalf("after a withdrawal on %s, the request is %s, want sent", c.what, st)
			}
		}
		if ans := post("ST-OK", "assets.request_status", map[string]any{"request_id": "RQ-1", "status": "withdrawn", "on": tomorrow}); ans["error"] != nil {
			t.Fatalf("a withdrawal dated tomorrow: refused %v", ans["error"])
		}
		if st := status(); st != "withdrawn" {
			t.Errorf("after the withdrawal dated tomorrow, the request is %s, want withdrawn", st)
		}
	})
}
