package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/storetest"
)

// TestExchangePages: two registries register each other; a message sent is
// pending in the sender's outbox page, then, once received and its receipt
// recorded, acknowledged; the receiver's inbox page lists it, its page shows
// its content to the roles the sender named and not to the others; the
// peers page shows the keys' fingerprints; a bad filter comes back refused on
// its form.
func TestExchangePages(t *testing.T) {
	ctx := context.Background()
	a := apptest.NewWorld(t, storetest.SQLite(t))
	b := apptest.NewWorld(t, storetest.SQLite(t))
	idA, _ := a.App.Exchange.Identity(ctx)
	idB, _ := b.App.Exchange.Identity(ctx)
	reg := func(w *apptest.World, id *exchange.Identity) string {
		return w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, map[string]any{"name": "Peer registry", "jurisdiction": id.Jurisdiction,
			"url": "https://peer.invalid", "public_key": id.PublicKey, "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Str("id")
	}
	peerB := reg(a, idB)
	peerA := reg(b, idA)
	sent := a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": "core.notice", "purpose": "vigilance",
		"legal_basis": "Agreement art. 4", "notice": "No personal data.", "readers": []string{"regulator"},
		"payload": map[string]any{"subject": "Adverse reaction", "text": "Report SAR-7 concerns your organ."}})
	id := sent.Str("id")

	ra := newBrowser(t, a.URL)
	ra.signIn(a.Regulator)
	p := ra.get("/exchange/outbox?state=pending")
	wantStatus(t, "outbox", p, http.StatusOK)
	mustContain(t, "outbox", p, `id="message-`+id+`"`, "Pending", `<option value="pending" selected>`)
	p = ra.get("/exchange/outbox?state=lost")
	wantStatus(t, "bad filter", p, http.StatusUnprocessableEntity)
	mustContain(t, "bad filter", p, `id="refusal-field">state<`, `id="message-`+id+`"`)
	p = ra.get("/exchange/peers")
	mustContain(t, "peers", p, idB.Fingerprint, idA.Fingerprint, "Not tried yet")

	env, _ := json.Marshal(exchange.Envelope{Message: sent.Str("message"), Key: sent.Str("key"), Signature: sent.Str("signature")})
	status, ans := b.App.Exchange.Receive(ctx, env)
	if status != 200 {
		t.Fatalf("receive: %d %+v", status, ans.Error)
	}
	if err := a.App.Exchange.RecordReceipt(ctx, id, &ans.SignedReceipt); err != nil {
		t.Fatal(err)
	}
	p = ra.get("/exchange/outbox?state=acknowledged&module=core")
	mustContain(t, "acknowledged", p, `id="message-`+id+`"`, "Acknowledged")

	rb := newBrowser(t, b.URL)
	rb.signIn(b.Regulator)
	p = rb.get("/exchange/inbox")
	wantStatus(t, "inbox", p, http.StatusOK)
	mustContain(t, "inbox", p, `href="/exchange/inbox/`+peerA+`/`+id+`"`, "Not allowed")
	p = rb.get("/exchange/inbox/" + peerA + "/" + id)
	wantStatus(t, "message", p, http.StatusOK)
	mustContain(t, "message", p, "Report SAR-7 concerns your organ.", "Agreement art. 4", "No personal data.")
	ab := newBrowser(t, b.URL)
	ab.signIn(b.Auditor)
	p = ab.get("/exchange/inbox/" + peerA + "/" + id)
	wantStatus(t, "message for another role", p, http.StatusOK)
	mustContain(t, "message for another role", p, "its content is not shown")
	if strings.Contains(p.Body, "SAR-7") {
		t.Fatal("the auditor, not among the readers, sees the payload")
	}

	// A second message: the outbox and the inbox a message a page, each
	// first page with a Next page link that keeps the filter, the second
	// without one.
	second := a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": "core.notice", "purpose": "vigilance",
		"legal_basis": "Agreement art. 4", "notice": "No personal data.", "readers": []string{"regulator"},
		"payload": map[string]any{"subject": "Follow-up", "text": "Report SAR-8."}})
	env, _ = json.Marshal(exchange.Envelope{Message: second.Str("message"), Key: second.Str("key"), Signature: second.Str("signature")})
	if status, ans := b.App.Exchange.Receive(ctx, env); status != 200 {
		t.Fatalf("receive: %d %+v", status, ans.Error)
	}
	for _, c := range []struct {
		br             *browser
		first          string
		newest, oldest string
	}{
		{ra, "/exchange/outbox?module=core&limit=1&notice=whatever", `id="message-` + second.Str("id") + `"`, `id="message-` + id + `"`},
		{rb, "/exchange/inbox?module=core&limit=1", `href="/exchange/inbox/` + peerA + `/` + second.Str("id") + `"`, `href="/exchange/inbox/` + peerA + `/` + id + `"`},
	} {
		p := c.br.get(c.first)
		wantStatus(t, c.first, p, http.StatusOK)
		mustContain(t, c.first, p, c.newest)
		mustNotContain(t, c.first, p, c.oldest)
		m := nextRE.FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("%s: no Next page link", c.first)
		}
		next := html.UnescapeString(m[1])
		if !strings.Contains(next, "module=core") || !strings.Contains(next, "cursor=") || strings.Contains(next, "notice=") {
			t.Errorf("%s: next page link %s", c.first, next)
		}
		p = c.br.get(next)
		wantStatus(t, next, p, http.StatusOK)
		mustContain(t, next, p, c.oldest)
		mustNotContain(t, next, p, c.newest)
		if nextRE.MatchString(p.Body) {
			t.Errorf("%s: the last page has a Next page link", next)
		}
	}
	p = ra.get("/exchange/outbox?box=sent")
	wantStatus(t, "unknown parameter", p, http.StatusUnprocessableEntity)
	mustContain(t, "unknown parameter", p, `id="refusal-field">box<`, `id="message-`+id+`"`)

	// A receipt that gives no time it can have been signed at: its answer
	// is at this registry's time, and the outbox page says so on its row
	// alone.
	keyB, err := exchange.DeriveKey(b.App.Keys.Master, 0)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := exchange.SealReceipt(&exchange.Receipt{V: exchange.Version, MessageID: second.Str("id"), MessageSHA256: exchange.Digest(second.Str("message")),
		From: idB.Jurisdiction, To: idA.Jurisdiction, Outcome: exchange.Received, At: "yesterday"}, keyB)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.App.Exchange.RecordReceipt(ctx, second.Str("id"), sr); err != nil {
		t.Fatal(err)
	}
	p = ra.get("/exchange/outbox?state=acknowledged")
	at, row2, row1 := strings.Index(p.Body, `class="clock"`), strings.Index(p.Body, `id="message-`+second.Str("id")+`"`), strings.Index(p.Body, `id="message-`+id+`"`)
	if strings.Count(p.Body, `class="clock"`) != 1 || at < row2 || at > row1 || !strings.Contains(p.Body, "Recorded at this registry&#39;s time") {
		t.Errorf("the outbox page does not say, on the second message's row alone, that its answer is at this registry's time:\n%s", p.Body)
	}
}
