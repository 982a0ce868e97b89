package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestExchangeListsPage walks registry A's outbox and registry B's inbox two
// a page while A sends B messages between the pages, and checks that each
// message there before the walk is listed once and none sent during it;
// then each filter of both lists (overdue once A's clock has moved past the
// overdue limit), and the refused parameters.
func TestExchangeListsPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		second := storetest.Second(t, dsn)
		ctx := context.Background()
		clk := &testClock{t: time.Now().UTC()}
		a := apptest.NewWorldWith(t, dsn, func(c *server.Config) { c.Now = clk.Now })
		b := apptest.NewWorld(t, second)
		idA, _ := a.App.Exchange.Identity(ctx)
		idB, _ := b.App.Exchange.Identity(ctx)
		// C is a peer of A that never answers: B's next key, registered
		// under another name.
		nextB := b.Must(t, 200, "GET", "/api/v1/exchange/identity/next", b.Admin, nil)
		reg := func(w *apptest.World, name, jurisdiction, key string, send, receive []string) string {
			return w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, map[string]any{"name": name, "jurisdiction": jurisdiction,
				"url": "https://peer.invalid", "public_key": key, "send_purposes": send, "receive_purposes": receive}).Str("id")
		}
		peerB := reg(a, "Registry B", idB.Jurisdiction, idB.PublicKey, []string{"vigilance", "coordination"}, []string{"vigilance"})
		peerC := reg(a, "Registry C", nextB.Str("jurisdiction"), nextB.Str("public_key"), []string{"vigilance"}, nil)
		peerA := reg(b, "Registry A", idA.Jurisdiction, idA.PublicKey, []string{"vigilance"}, []string{"vigilance"})

		// send sends a notice from A to peer for purpose; delivered, B
		// answers it and A records the receipt.
		send := func(peer, purpose string, delivered bool) string {
			t.Helper()
			sent := a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Regulator, map[string]any{"peer_id": peer, "type": "core.notice", "purpose": purpose,
				"legal_basis": "Agreement art. 4", "notice": "No personal data.", "readers": []string{"regulator"},
				"payload": map[string]any{"subject": "Notice", "text": "Synthetic."}})
			if delivered {
				env, _ := json.Marshal(exchange.Envelope{Message: sent.Str("message"), Key: sent.Str("key"), Signature: sent.Str("signature")})
				_, ans := b.App.Exchange.Receive(ctx, env)
				if err := a.App.Exchange.RecordReceipt(ctx, sent.Str("id"), &ans.SignedReceipt); err != nil {
					t.Fatal(err)
				}
			}
			return sent.Str("id")
		}
		var acked, pending []string
		for range 5 {
			acked = append(acked, send(peerB, "vigilance", true))
		}
		refused := send(peerB, "coordination", true)
		for range 2 {
			pending = append(pending, send(peerC, "vigilance", false))
		}
		slices.Reverse(acked)
		slices.Reverse(pending)
		deliverOne := func() { send(peerB, "vigilance", true) }

		outbox, inbox := "/api/v1/exchange/outbox", "/api/v1/exchange/inbox"
		before := walk(t, a, a.Regulator, outbox, "messages", nil)
		if want := append(append(slices.Clone(pending), refused), acked...); fmt.Sprint(before) != fmt.Sprint(want) {
			t.Fatalf("outbox %v, want the newest first %v", before, want)
		}
		if got := walk(t, a, a.Regulator, outbox+"?limit=2", "messages", deliverOne); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Errorf("outbox walked under sends: %v, want %v", got, before)
		}
		inBefore := walk(t, b, b.Regulator, inbox, "messages", nil)
		if len(inBefore) != 5+4 {
			t.Fatalf("%d messages in B's inbox, want 9: five before the outbox's walk, one after each of its four pages", len(inBefore))
		}
		if got := walk(t, b, b.Regulator, inbox+"?limit=2", "messages", deliverOne); fmt.Sprint(got) != fmt.Sprint(inBefore) {
			t.Errorf("inbox walked under deliveries: %v, want %v", got, inBefore)
		}
		all := walk(t, a, a.Auditor, outbox, "messages", nil)
		acked = slices.DeleteFunc(slices.Clone(all), func(id string) bool { return id == refused || slices.Contains(pending, id) })
		inAll := walk(t, b, b.Auditor, inbox, "messages", nil)
		if len(acked) != 5+4+5 || len(inAll) != len(acked) {
			t.Fatalf("%d acknowledged, %d received, want 14 each", len(acked), len(inAll))
		}

		for _, c := range []struct {
			query string
			want  []string
		}{
			{"?state=acknowledged&limit=3", acked},
			{"?state=refused", []string{refused}},
			{"?state=pending&limit=1", pending},
			{"?state=overdue", nil},
			{"?peer_id=" + peerC, pending},
			{"?peer_id=" + peerB + "&state=pending", nil},
			{"?module=core&limit=4", all},
			{"?module=transplant", nil},
		} {
			if got := walk(t, a, a.Auditor, outbox+c.query, "messages", nil); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("outbox%s: %v, want %v", c.query, got, c.want)
			}
		}
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"?state=delivered&limit=5", inAll},
			{"?peer_id=" + peerA + "&module=core&limit=3", inAll},
			{"?peer_id=XP-NOSUCH", nil},
			{"?module=transplant", nil},
		} {
			if got := walk(t, b, b.Auditor, inbox+c.query, "messages", nil); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("inbox%s: %v, want %v", c.query, got, c.want)
			}
		}
		// Past the overdue limit, the messages C never answered are shown
		// overdue; state=pending still lists them, as every message awaiting
		// an answer.
		clk.Add(2 * time.Hour)
		for _, query := range []string{"?state=overdue&limit=1", "?state=pending"} {
			got, rows := walkRows(t, a, a.Auditor, outbox+query, "messages", nil)
			if fmt.Sprint(got) != fmt.Sprint(pending) {
				t.Errorf("outbox%s two hours later: %v, want %v", query, got, pending)
			}
			for _, m := range rows {
				if m["state"] != exchange.Overdue {
					t.Errorf("outbox%s two hours later: message %v is %v, want overdue", query, m["id"], m["state"])
				}
			}
		}

		for _, c := range []struct {
			path       string
			status     int
			code, rule string
			field      string
		}{
			{outbox + "?box=sent", 422, "invalid", "query", "box"},
			{outbox + "?state=pending&state=refused", 422, "invalid", "query", "state"},
			{outbox + "?state=delivered", 422, "invalid", "enum", "state"},
			{outbox + "?limit=1001", 422, "invalid", "range", "limit"},
			{outbox + "?limit=0", 422, "invalid", "range", "limit"},
			{outbox + "?limit=ten", 400, "malformed", "query", "limit"},
			{outbox + "?cursor=abc", 400, "malformed", "cursor", "cursor"},
			{inbox + "?peer=" + peerA, 422, "invalid", "query", "peer"},
			{inbox + "?module=core&module=core", 422, "invalid", "query", "module"},
			{inbox + "?state=pending", 422, "invalid", "enum", "state"},
			{inbox + "?limit=1001", 422, "invalid", "range", "limit"},
			{inbox + "?cursor=" + "eHl6", 400, "malformed", "cursor", "cursor"},
		} {
			w := a
			if c.path[:len(inbox)] == inbox {
				w = b
			}
			r := w.Do(t, "GET", c.path, w.Regulator, nil)
			if r.Status != c.status || r.Str("error.code") != c.code || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want %d %s rule %s field %s", c.path, r.Status, r.Raw, c.status, c.code, c.rule, c.field)
			}
		}
		a.Must(t, 403, "GET", outbox+"?limit=1", a.CoordA, nil)
		b.Must(t, 403, "GET", inbox+"?limit=1", b.CoordA, nil)
	})
}
