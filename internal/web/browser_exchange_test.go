package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBrowserExchangePeer: in headless Chromium an administrator registers
// a peer registry on the peers page, first with a purpose custos refuses
// (shown on its field), and is shown the registered key's fingerprint to
// compare with the peer's operator.
func TestBrowserExchangePeer(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	a := apptest.NewWorld(t, storetest.SQLite(t))
	peer := apptest.Start(t, storetest.SQLite(t))
	id, err := peer.App.Exchange.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	b := newTab(t, path, a.URL)
	b.signIn(a.Admin)
	b.open("/exchange/peers", 200)
	b.fill(map[string]string{"peer-name": "Registry of the peer", "peer-jurisdiction": id.Jurisdiction, "peer-url": "https://peer.invalid",
		"peer-public_key": id.PublicKey, "peer-send_purposes": "vigilance", "peer-receive_purposes": "Vigilance!"})
	b.click("register a bad purpose", `#peer button[type="submit"]`, 422)
	if f := b.text("#refusal-field"); f != "receive_purposes[0]" {
		t.Errorf("refusal names field %q", f)
	}
	if e := b.text("#peer-receive_purposes-error"); !strings.Contains(e, "lower-case") {
		t.Errorf("the field's error says %q", e)
	}
	if v := b.value("peer-public_key"); v != id.PublicKey {
		t.Errorf("the refused form lost the key: %q", v)
	}
	b.fill(map[string]string{"peer-receive_purposes": "vigilance"})
	b.click("register", `#peer button[type="submit"]`, 200)
	if fp := b.text("#registered-fingerprint"); fp != id.Fingerprint {
		t.Fatalf("registered fingerprint %q, want %q", fp, id.Fingerprint)
	}
	if peers := b.text("#peers"); !strings.Contains(peers, "Registry of the peer") || !strings.Contains(peers, id.Fingerprint) {
		t.Errorf("the peers list lacks the peer:\n%s", peers)
	}
	b.screenshot("custos-exchange-peer.png")
}

// TestBrowserExchangeAbandon: in headless Chromium an administrator
// abandons a pending message from the outbox page, first without a reason
// (refused on its field), then with one: the message is shown abandoned,
// with the reason.
func TestBrowserExchangeAbandon(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	a := apptest.NewWorld(t, storetest.SQLite(t))
	peer := apptest.Start(t, storetest.SQLite(t))
	peerID := a.Peer(t, peer, "vigilance")
	id := a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerID, "type": "core.notice", "purpose": "vigilance",
		"legal_basis": "Agreement art. 4", "notice": "No personal data.", "readers": []string{"regulator"},
		"payload": map[string]string{"subject": "s", "text": "t"}}).Str("id")

	b := newTab(t, path, a.URL)
	b.signIn(a.Admin)
	b.open("/exchange/outbox", 200)
	b.click("abandon without a reason", `#abandon-`+id+` button[type="submit"]`, 422)
	if f := b.text("#refusal-field"); f != "reason" {
		t.Errorf("refusal names field %q", f)
	}
	b.fill(map[string]string{"abandon-" + id + "-reason": "The peer's receipt never verifies"})
	b.click("abandon", `#abandon-`+id+` button[type="submit"]`, 200)
	row := b.text("#message-" + id)
	if !strings.Contains(row, "Abandoned") || !strings.Contains(row, "The peer's receipt never verifies") {
		t.Fatalf("the message's row after abandoning it:\n%s", row)
	}
	b.screenshot("custos-exchange-abandon.png")
}
