package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/storetest"
)

// lastLeaf is the index of w's last log leaf.
func lastLeaf(t *testing.T, w *apptest.World) int64 {
	t.Helper()
	var n int64
	if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT COALESCE(MAX(idx), -1) FROM log_leaves").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantLeaves checks that w's log grew, after the leaf before, by exactly
// leaves of the types given, in order.
func wantLeaves(t *testing.T, what string, w *apptest.World, before int64, types ...string) {
	t.Helper()
	rows, err := w.App.DB.Read().Query(context.Background(), "SELECT data FROM log_leaves WHERE idx > ? ORDER BY idx", before)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if len(got) != len(types) {
		t.Fatalf("%s: %d log entries, want %d (%v)", what, len(got), len(types), types)
	}
	for i, typ := range types {
		if !strings.Contains(got[i], `"`+typ+`"`) {
			t.Fatalf("%s: log entry %d is not %s: %.300s", what, i, typ, got[i])
		}
	}
}

// refused checks a form shown again, refused on field under status.
func refused(t *testing.T, what string, p *page, status int, rule, field string) {
	t.Helper()
	wantStatus(t, what, p, status)
	mustContain(t, what, p, `id="refusal-rule">`+rule+`<`, `id="refusal-field">`+field+`<`)
	checkPage(t, what, p.Body)
}

// TestExchangeForms: on registry A an administrator registers B on the
// peers page (a bad jurisdiction is refused on its field; the success shows
// B's fingerprint), adds a key, suspends and resumes the peer and rotates
// A's key; a regulator sends a notice from the outbox page. On B, a reader
// of the message uses it for its purpose and forwards it to a third peer.
// Each form refused names its field and writes nothing; each success is
// one log entry (a forward two: the message it sends and the use).
func TestExchangeForms(t *testing.T) {
	ctx := context.Background()
	a := apptest.NewWorld(t, storetest.SQLite(t))
	b := apptest.NewWorld(t, storetest.SQLite(t))
	idB, _ := b.App.Exchange.Identity(ctx)

	ad := newBrowser(t, a.URL)
	ad.signIn(a.Admin)
	p := ad.get("/exchange/peers")
	wantStatus(t, "peers", p, http.StatusOK)
	mustContain(t, "peers", p, `id="peer"`, `id="rotate"`, `id="next-fingerprint"`)
	checkPage(t, "peers", p.Body)

	peerForm := url.Values{"name": {"Registry B"}, "jurisdiction": {"Germany"}, "url": {"https://b.invalid"},
		"public_key": {idB.PublicKey}, "send_purposes": {"vigilance"}, "receive_purposes": {"vigilance, statistics"}}
	n := lastLeaf(t, a)
	p = ad.post("/exchange/peers", peerForm)
	refused(t, "bad jurisdiction", p, http.StatusUnprocessableEntity, "jurisdiction", "jurisdiction")
	mustContain(t, "bad jurisdiction", p, `id="peer-jurisdiction"`, `aria-invalid="true"`, `value="Registry B"`)
	peerForm.Set("send_purposes", "vigilance, Bad Purpose")
	peerForm.Set("jurisdiction", idB.Jurisdiction)
	p = ad.post("/exchange/peers", peerForm)
	refused(t, "bad purpose", p, http.StatusUnprocessableEntity, "purpose", "send_purposes[1]")
	mustContain(t, "bad purpose", p, `<input id="peer-send_purposes" name="send_purposes" type="text" value="vigilance, Bad Purpose" aria-describedby="peer-send_purposes-hint peer-send_purposes-error" aria-invalid="true"`)
	wantLeaves(t, "refused registrations", a, n)
	peerForm.Set("send_purposes", "vigilance")
	p = ad.post("/exchange/peers", peerForm)
	wantStatus(t, "register", p, http.StatusSeeOther)
	wantLeaves(t, "register", a, n, exchange.TypePeerRegistered)
	p = ad.get(noticed(t, "register", p, "/exchange/peers"))
	m := regexp.MustCompile(`Peer <code class="id">([A-Z]+-[0-9A-Z]{10})</code>`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("the peers page after registering names no peer:\n%s", p.Body)
	}
	peerB := m[1]
	mustContain(t, "registered", p, `id="registered"`, `id="registered-fingerprint">`+idB.Fingerprint+`<`, peerB)

	// A new key of B's: a bad one refused, then added.
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	until := time.Now().UTC().Add(48 * time.Hour).Format("2006-01-02T15:04")
	n = lastLeaf(t, a)
	p = ad.post("/exchange/peers/"+peerB+"/keys", url.Values{"public_key": {"not a key"}, "previous_valid_until": {until}})
	refused(t, "bad key", p, http.StatusUnprocessableEntity, "public_key", "public_key")
	mustContain(t, "bad key", p, `id="key-`+peerB+`-public_key"`, `aria-invalid="true"`)
	wantLeaves(t, "refused key", a, n)
	p = ad.post("/exchange/peers/"+peerB+"/keys", url.Values{"public_key": {exchange.EncodeKey(pub)}, "previous_valid_until": {until}})
	wantStatus(t, "add key", p, http.StatusSeeOther)
	wantLeaves(t, "add key", a, n, exchange.TypePeerKeyAdded)
	mustContain(t, "added key", ad.get(p.Header.Get("Location")), exchange.Fingerprint(pub), "new key is added")

	// Suspend without saying why, then with; resume; resume again.
	n = lastLeaf(t, a)
	p = ad.post("/exchange/peers/"+peerB+"/suspend", url.Values{"note": {""}})
	refused(t, "suspend without note", p, http.StatusUnprocessableEntity, "required", "note")
	mustContain(t, "suspend without note", p, `id="state-`+peerB+`-note"`, `aria-invalid="true"`)
	wantLeaves(t, "refused suspension", a, n)
	p = ad.post("/exchange/peers/"+peerB+"/suspend", url.Values{"note": {"Key compromised at B"}})
	wantStatus(t, "suspend", p, http.StatusSeeOther)
	wantLeaves(t, "suspend", a, n, exchange.TypePeerSuspended)
	mustContain(t, "suspended", ad.get("/exchange/peers"), "Key compromised at B", `action="/exchange/peers/`+peerB+`/resume"`)
	n = lastLeaf(t, a)
	p = ad.post("/exchange/peers/"+peerB+"/resume", url.Values{"note": {"Solved"}})
	wantStatus(t, "resume", p, http.StatusSeeOther)
	wantLeaves(t, "resume", a, n, exchange.TypePeerResumed)
	n = lastLeaf(t, a)
	p = ad.post("/exchange/peers/"+peerB+"/resume", url.Values{"note": {"Again"}})
	refused(t, "resume an active peer", p, http.StatusConflict, "state", "id")
	wantLeaves(t, "refused resumption", a, n)

	// Rotation: a regulator may not, an administrator may.
	rg := newBrowser(t, a.URL)
	rg.signIn(a.Regulator)
	p = rg.get("/exchange/peers")
	if strings.Contains(p.Body, `id="peer"`) || strings.Contains(p.Body, `id="rotate"`) || strings.Contains(p.Body, `id="key-`) {
		t.Fatal("the regulator is shown the administrator's forms on the peers page")
	}
	p = rg.post("/exchange/identity/rotate", url.Values{})
	wantStatus(t, "regulator rotates", p, http.StatusForbidden)
	mustContain(t, "regulator rotates", p, `id="refusal-rule">`)
	wantLeaves(t, "refused rotation", a, n)
	co := newBrowser(t, a.URL)
	co.signIn(a.CoordA)
	peerForm.Set("public_key", exchange.EncodeKey(pub))
	p = co.post("/exchange/peers", peerForm)
	wantStatus(t, "coordinator registers a peer", p, http.StatusForbidden)
	p = co.post("/exchange/outbox", url.Values{"peer_id": {peerB}})
	wantStatus(t, "coordinator sends", p, http.StatusForbidden)
	wantLeaves(t, "refused to others", a, n)
	p = ad.post("/exchange/identity/rotate", url.Values{})
	wantStatus(t, "rotate", p, http.StatusSeeOther)
	wantLeaves(t, "rotate", a, n, exchange.TypeOwnKeyRotated)
	idA, _ := a.App.Exchange.Identity(ctx)
	if idA.Generation != 1 {
		t.Fatalf("after the rotation A's key is generation %d", idA.Generation)
	}
	mustContain(t, "rotated", ad.get(p.Header.Get("Location")), "key is rotated", idA.Fingerprint)

	// The regulator sends a notice from the outbox page.
	p = rg.get("/exchange/outbox")
	mustContain(t, "outbox", p, `id="send"`, `<option value="`+peerB+`">`)
	sendForm := url.Values{"peer_id": {peerB}, "type": {"core.notice"}, "purpose": {"vigilance"}, "legal_basis": {"Agreement art. 4"},
		"notice": {"No personal data."}, "readers": {"regulator"}, "onward_sharing": {"yes"}, "payload": {`{"subject": "Adverse reaction", "text": "Report SAR-9`}}
	n = lastLeaf(t, a)
	p = rg.post("/exchange/outbox", sendForm)
	refused(t, "bad payload", p, http.StatusUnprocessableEntity, "json", "payload")
	mustContain(t, "bad payload", p, `id="send-payload"`, `aria-invalid="true"`, "Report SAR-9")
	sendForm.Set("payload", `{"subject": "Adverse reaction"}`)
	p = rg.post("/exchange/outbox", sendForm)
	refused(t, "payload against its schema", p, http.StatusUnprocessableEntity, "schema", "payload.text")
	mustContain(t, "payload against its schema", p, `id="send-payload"`, `aria-invalid="true"`)
	wantLeaves(t, "refused sends", a, n)
	sendForm.Set("payload", `{"subject": "Adverse reaction", "text": "Report SAR-9 concerns your organ."}`)
	p = rg.post("/exchange/outbox", sendForm)
	wantStatus(t, "send", p, http.StatusSeeOther)
	wantLeaves(t, "send", a, n, exchange.TypeMessageSent)
	var out struct{ Messages []exchange.OutboxMessage }
	if err := json.Unmarshal(a.Must(t, 200, "GET", "/api/v1/exchange/outbox", a.Admin, nil).Raw, &out); err != nil || len(out.Messages) != 1 {
		t.Fatalf("outbox: %v %+v", err, out)
	}
	sent := out.Messages[0]
	mustContain(t, "sent", rg.get(p.Header.Get("Location")), "in the outbox", `id="message-`+sent.ID+`"`)
	au := newBrowser(t, a.URL)
	au.signIn(a.Auditor)
	if p = au.get("/exchange/outbox"); strings.Contains(p.Body, `id="send"`) {
		t.Fatal("the auditor is shown the send form")
	}

	// B receives it, from A registered with its key of now.
	peerA := b.Must(t, 201, "POST", "/api/v1/exchange/peers", b.Admin, map[string]any{"name": "Registry A", "jurisdiction": idA.Jurisdiction,
		"url": "https://a.invalid", "public_key": idA.PublicKey, "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Str("id")
	pubC, _, _ := ed25519.GenerateKey(rand.Reader)
	peerC := b.Must(t, 201, "POST", "/api/v1/exchange/peers", b.Admin, map[string]any{"name": "Registry C", "jurisdiction": "AT",
		"url": "https://c.invalid", "public_key": exchange.EncodeKey(pubC), "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Str("id")
	env, _ := json.Marshal(sent.Envelope)
	if status, ans := b.App.Exchange.Receive(ctx, env); status != 200 {
		t.Fatalf("receive: %d %+v", status, ans.Error)
	}
	msg := "/exchange/inbox/" + peerA + "/" + sent.ID

	ba := newBrowser(t, b.URL)
	ba.signIn(b.Auditor)
	p = ba.get(msg)
	wantStatus(t, "message for the auditor", p, http.StatusOK)
	if strings.Contains(p.Body, `id="use"`) || strings.Contains(p.Body, `id="forward"`) {
		t.Fatal("the auditor, not a reader, is shown the use or forward form")
	}
	br := newBrowser(t, b.URL)
	br.signIn(b.Regulator)
	p = br.get(msg)
	mustContain(t, "message", p, `id="use"`, `id="forward"`, `<option value="`+peerC+`">`, `value="vigilance"`)
	if strings.Contains(p.Body, `<option value="`+peerA+`">`) {
		t.Fatal("the forward form offers the sender itself")
	}
	n = lastLeaf(t, b)
	p = br.post(msg+"/use", url.Values{"purpose": {"Statistics!"}})
	refused(t, "bad purpose", p, http.StatusUnprocessableEntity, "purpose", "purpose")
	mustContain(t, "bad purpose", p, `id="use-purpose"`, `aria-invalid="true"`)
	wantLeaves(t, "refused use", b, n)
	p = br.post(msg+"/use", url.Values{"purpose": {"vigilance"}})
	wantStatus(t, "use", p, http.StatusSeeOther)
	wantLeaves(t, "use", b, n, exchange.TypeMessageUsed)
	// The use names who recorded it, the principal's id kept as the title.
	reg := b.Principal(t, b.Regulator)
	mustContain(t, "used", br.get(p.Header.Get("Location")), "use of the message is recorded", "Use for <code>vigilance</code>",
		`by <span class="principal" title="`+template.HTMLEscapeString(reg.ID)+`">`+template.HTMLEscapeString(reg.Name)+`</span>`)

	n = lastLeaf(t, b)
	fwd := url.Values{"peer_id": {peerC}, "legal_basis": {""}, "notice": {"No personal data."}}
	p = br.post(msg+"/forward", fwd)
	refused(t, "forward without legal basis", p, http.StatusUnprocessableEntity, "required", "legal_basis")
	mustContain(t, "forward without legal basis", p, `id="forward-legal_basis"`, `aria-invalid="true"`)
	wantLeaves(t, "refused forward", b, n)
	fwd.Set("legal_basis", "Agreement B-C art. 2")
	p = br.post(msg+"/forward", fwd)
	wantStatus(t, "forward", p, http.StatusSeeOther)
	wantLeaves(t, "forward", b, n, exchange.TypeMessageSent, exchange.TypeMessageUsed)
	mustContain(t, "forwarded", br.get(p.Header.Get("Location")), "message is forwarded", "Forward for <code>vigilance</code>")
}

// TestExchangeAbandonForm: on the outbox page an administrator sees, on
// each pending message, Retry now and Abandon with a reason, and the
// message behind the oldest one to its peer says it waits behind it. A
// regulator is shown neither and refused both; abandoning without a reason
// is refused on its field, writing nothing; abandoning is one log entry,
// and the message is then shown abandoned with who and why, its forms
// gone; abandoning it again is refused (not_pending). Retry now writes no
// entry.
func TestExchangeAbandonForm(t *testing.T) {
	a := apptest.NewWorld(t, storetest.SQLite(t))
	b := apptest.Start(t, storetest.SQLite(t))
	peerB := a.Peer(t, b, "vigilance")
	send := func(text string) string {
		return a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": "core.notice", "purpose": "vigilance",
			"legal_basis": "Agreement art. 4", "notice": "No personal data.", "readers": []string{"regulator"},
			"payload": map[string]string{"subject": "s", "text": text}}).Str("id")
	}
	first, second := send("first"), send("second")

	ad := newBrowser(t, a.URL)
	ad.signIn(a.Admin)
	p := ad.get("/exchange/outbox")
	wantStatus(t, "outbox", p, http.StatusOK)
	mustContain(t, "outbox", p, `id="abandon-`+first+`"`, `id="retry-`+first+`"`, `id="abandon-`+second+`"`, "Waiting behind <code>"+first+"</code>")
	checkPage(t, "outbox", p.Body)

	rg := newBrowser(t, a.URL)
	rg.signIn(a.Regulator)
	if p = rg.get("/exchange/outbox"); strings.Contains(p.Body, `id="abandon-`) || strings.Contains(p.Body, `id="retry-`) {
		t.Fatal("the regulator is shown the forms of an administrator")
	}
	n := lastLeaf(t, a)
	p = rg.post("/exchange/outbox/"+first+"/abandon", url.Values{"reason": {"The peer never verifies"}})
	wantStatus(t, "regulator abandons", p, http.StatusForbidden)
	p = ad.post("/exchange/outbox/"+first+"/abandon", url.Values{"reason": {" "}})
	refused(t, "abandon without a reason", p, http.StatusUnprocessableEntity, "required", "reason")
	mustContain(t, "abandon without a reason", p, `id="abandon-`+first+`-reason"`, `aria-invalid="true"`)
	wantLeaves(t, "refused abandonments", a, n)

	p = ad.post("/exchange/outbox/"+second+"/retry", url.Values{})
	wantStatus(t, "retry", p, http.StatusSeeOther)
	mustContain(t, "retried", ad.get(p.Header.Get("Location")), "is due now")
	wantLeaves(t, "retry now", a, n)

	p = ad.post("/exchange/outbox/"+first+"/abandon", url.Values{"reason": {"The peer's receipt never verifies"}})
	wantStatus(t, "abandon", p, http.StatusSeeOther)
	wantLeaves(t, "abandon", a, n, exchange.TypeMessageAbandoned)
	p = ad.get(p.Header.Get("Location"))
	admin := a.Principal(t, a.Admin)
	// Who abandoned it is shown by name, as an alert's "by" fields are,
	// to every role that reads the outbox; the API keeps the id.
	by := `Abandoned by <span class="principal" title="` + template.HTMLEscapeString(admin.ID) + `">` + template.HTMLEscapeString(admin.Name) + "</span> on "
	mustContain(t, "abandoned", p, "message is abandoned", by, "The peer&#39;s receipt never verifies")
	if admin.Name == "" || strings.Contains(p.Body, "<code>"+admin.ID+"</code>") {
		t.Fatalf("the abandoned message shows the principal's id %s, not its name %q", admin.ID, admin.Name)
	}
	mustContain(t, "abandoned, as the regulator reads it", rg.get("/exchange/outbox"), by)
	if strings.Contains(p.Body, `id="abandon-`+first+`"`) || strings.Contains(p.Body, "Waiting behind") {
		t.Fatal("the abandoned message keeps its forms, or the next one still waits behind it")
	}
	n = lastLeaf(t, a)
	p = ad.post("/exchange/outbox/"+first+"/abandon", url.Values{"reason": {"Again"}})
	wantStatus(t, "abandon again", p, http.StatusConflict)
	mustContain(t, "abandon again", p, `id="refusal-rule">not_pending<`)
	wantLeaves(t, "refused again", a, n)
}
