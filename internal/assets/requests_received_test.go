package assets_test

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// TestRequestReceivedSentAt has a peer, XB, post requests to this
// registry's inbox whose sent_at is missing, not a time, before 1900 or
// hours ahead of this registry's clock (the peer's clock wrong): each is
// refused in a signed answer naming payload.sent_at, and no request is
// recorded. Before, each was received and acknowledged: the one without a
// sent_at was hidden from the requested state's officer (a request with
// none reads as a draft), the others were recorded with the peer's text as
// the day the request was sent. A request sent a minute ago (by a clock a
// little ahead too) is received and listed for the officer.
func TestRequestReceivedSentAt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		pub, key, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, map[string]any{"name": "Registry of Otherland", "jurisdiction": "XB",
			"url": "https://peer.invalid", "public_key": exchange.EncodeKey(pub),
			"send_purposes": []string{"legal_assistance"}, "receive_purposes": []string{"legal_assistance"}})
		post := func(id, sentAt string) map[string]any {
			payload, _ := json.Marshal(map[string]any{"request_id": id, "type": "mla", "requesting_state": "XB", "requested_state": "XA",
				"requesting_authority": "Central Authority of XB", "requested_authority": "Central Authority of XA", "legal_basis": "uncac_46",
				"offences": []string{"07031"}, "facts": "Synthetic facts.", "purpose": "Evidence.", "confidentiality": "required", "language": "en",
				"use_purposes": []string{"prosecution"}, "sent_at": sentAt})
			env, err := exchange.Seal(&exchange.Message{V: exchange.Version, ID: "XM-" + id, From: "XB", To: "XA", Module: "assets", Type: "assets.request",
				Purpose: "legal_assistance", LegalBasis: "UNCAC art. 46 (synthetic)", Notice: "Synthetic test message.",
				Readers: []string{"central_authority_officer", "regulator"}, SentAt: ledger.FormatTime(time.Now()), Payload: payload}, key)
			if err != nil {
				t.Fatal(err)
			}
			return w.Do(t, "POST", exchange.InboxPath, "", env).Body
		}
		incoming := func() int {
			var l struct{ Requests []any }
			if err := json.Unmarshal(w.Must(t, 200, "GET", "/api/v1/assets/requests?direction=incoming", w.CAToken, nil).Raw, &l); err != nil {
				t.Fatal(err)
			}
			return len(l.Requests)
		}
		for i, c := range []struct{ what, sentAt, rule string }{
			{"no time", "", "date_format"},
			{"not a time", "yesterday", "date_format"},
			{"a month 13", "2026-13-01T00:00:00Z", "date_format"},
			{"before 1900", "1066-10-14T09:00:00Z", "date_range"},
			{"an hour ahead", ledger.FormatTime(time.Now().Add(time.Hour)), "dates_in_order"},
		} {
			ans := post(fmt.Sprintf("RQ-BAD%d", i), c.sentAt)
			e, _ := ans["error"].(map[string]any)
			if e == nil || e["rule"] != c.rule || e["field"] != "payload.sent_at" || ans["receipt"] == nil {
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
