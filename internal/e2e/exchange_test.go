package e2e

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/storetest"
)

// testCA is the certificate authority of the e2e tests' HTTPS servers: the
// tests' client trusts it, and each registry is told to trust it for its
// peer (tls_ca).
var testCA = newCA()

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
	pool *x509.CertPool
}

func newCA() *ca {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "custos e2e test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	c := &ca{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), pool: x509.NewCertPool()}
	c.pool.AddCert(cert)
	return c
}

// serverCert writes a certificate for 127.0.0.1 signed by the CA, and its
// key, into dir, and returns the two files.
func (c *ca) serverCert(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// freeAddr returns a loopback address with a port free now, so that a
// server restarted on it keeps the address its peer knows.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPeers starts two registries, XA on dsn and XB on a database of the
// same engine, each served over TLS with a fast exchange retry, and reads
// their exchange identities.
func startPeers(t *testing.T, dsn string) (a, b *peerSide) {
	t.Helper()
	dsnB := storetest.SQLite(t)
	if isPostgres(dsn) {
		dsnB = storetest.Postgres(t)
	}
	a = &peerSide{reg: initRegistryOf(t, dsn, "XA")}
	b = &peerSide{reg: initRegistryOf(t, dsnB, "XB")}
	for _, p := range []*peerSide{a, b} {
		cert, key := testCA.serverCert(t, t.TempDir())
		p.flags = []string{"--addr", freeAddr(t), "--tls-cert", cert, "--tls-key", key, "--exchange-retry", "100ms", "--exchange-retry-max", "500ms"}
		p.start(t)
		p.id = must(t, 200, p.srv.URL, "GET", "/api/v1/exchange/identity", "", nil).Body
	}
	return a, b
}

// peerBoth registers each registry as the other's peer, sending and
// receiving for the purposes, and returns the peer ids: XB's at XA, XA's
// at XB.
func peerBoth(t *testing.T, a, b *peerSide, purposes []string) (pB, pA string) {
	t.Helper()
	pB = must(t, 201, a.srv.URL, "POST", "/api/v1/exchange/peers", a.reg.Admin, map[string]any{
		"name": "Registry of XB", "jurisdiction": "XB", "url": b.srv.URL, "tls_ca": testCA.pem, "public_key": b.id["public_key"],
		"send_purposes": purposes, "receive_purposes": purposes}).str("id")
	pA = must(t, 201, b.srv.URL, "POST", "/api/v1/exchange/peers", b.reg.Admin, map[string]any{
		"name": "Registry of XA", "jurisdiction": "XA", "url": a.srv.URL, "tls_ca": testCA.pem, "public_key": a.id["public_key"],
		"send_purposes": purposes, "receive_purposes": purposes}).str("id")
	return pB, pA
}

// peerSide is one custos deployment of the exchange test.
type peerSide struct {
	reg   *registry
	flags []string
	srv   *server
	id    map[string]any // its exchange identity
}

func (p *peerSide) start(t *testing.T) {
	t.Helper()
	p.srv = startServer(t, p.reg, p.flags...)
	if !strings.HasPrefix(p.srv.URL, "https://") {
		t.Fatalf("custos serve with --tls-cert serves %s, want https", p.srv.URL)
	}
}

func (p *peerSide) get(t *testing.T, path string) reply {
	t.Helper()
	return must(t, 200, p.srv.URL, "GET", path, p.reg.Admin, nil)
}

// outbox returns the outbox message id as the sender's API shows it.
func (p *peerSide) outbox(t *testing.T, id string) map[string]any {
	t.Helper()
	for _, m := range list(p.get(t, "/api/v1/exchange/outbox?limit=1000"), "messages") {
		if m["id"] == id {
			return m
		}
	}
	t.Fatalf("message %s is not in the outbox", id)
	return nil
}

// waitState waits until message id of the outbox is in state want.
func (p *peerSide) waitState(t *testing.T, id, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := p.outbox(t, id)
		if m["state"] == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s stayed %v (attempts %v, last error %v), want %s", id, m["state"], m["attempts"], m["last_error"], want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inboxCount is how many messages of the inbox carry the sender's id.
func (p *peerSide) inboxCount(t *testing.T, msgID string) int {
	t.Helper()
	n := 0
	for _, m := range list(p.get(t, "/api/v1/exchange/inbox?limit=1000"), "messages") {
		if m["message_id"] == msgID {
			n++
		}
	}
	return n
}

func (p *peerSide) alerts(t *testing.T, rule string) int {
	t.Helper()
	return len(list(p.get(t, "/api/v1/alerts?rule="+rule), "alerts"))
}

func list(r reply, key string) []map[string]any {
	var out []map[string]any
	items, _ := r.Body[key].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func notice(peerID, purpose, subject string) map[string]any {
	return map[string]any{"peer_id": peerID, "type": "core.notice", "purpose": purpose,
		"legal_basis": "Bilateral agreement XA-XB (synthetic), art. 4", "notice": "Personal data: none. Synthetic test notice.",
		"readers": []string{"admin", "regulator"}, "payload": map[string]any{"subject": subject, "text": "A synthetic notice."}}
}

// envelopeOf is the signed envelope of an outbox message, as the sender's
// API shows it.
func envelopeOf(t *testing.T, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m["envelope"])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkReceipt verifies a signed receipt (the receipt, key and signature
// fields of m) with the answering registry's public key and returns it.
func checkReceipt(t *testing.T, m map[string]any, pub string) *exchange.Receipt {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var sr exchange.SignedReceipt
	if err := json.Unmarshal(b, &sr); err != nil || len(sr.Receipt) == 0 {
		t.Fatalf("no signed receipt in %s: %v", b, err)
	}
	k, err := exchange.DecodeKey("key", pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := sr.Verify(k); err != nil {
		t.Fatalf("the receipt does not verify with the peer's key: %v", err)
	}
	r, err := exchange.ParseReceipt(sr.Receipt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestExchange runs two registries, XA and XB, as two custos serve processes
// over HTTPS on loopback, each with its own database, and exchanges messages
// between them: a notice delivered and acknowledged with a signed receipt;
// a replay acknowledged again and recorded once; a tampered signature, a
// purpose the receiver does not accept and an unknown sender refused with
// signed refusals and alerts; the receiver down while the sender is killed
// and restarted, then back, and the message delivered once; the sender's
// key rotated, refused until the receiver adds it, then accepted; the use of
// a message for another purpose and a forward without consent refused with
// alerts. Both logs verify afterwards.
func TestExchange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a, b := startPeers(t, dsn)
		if a.id["fingerprint"] == b.id["fingerprint"] || !strings.HasPrefix(a.id["fingerprint"].(string), "SHA256:") {
			t.Fatalf("identities: %v, %v", a.id, b.id)
		}

		// Each operator registers the other, with the key the other's
		// identity shows (compared by fingerprint out of band).
		peerB := must(t, 201, a.srv.URL, "POST", "/api/v1/exchange/peers", a.reg.Admin, map[string]any{
			"name": "Registry of XB", "jurisdiction": "XB", "url": b.srv.URL, "tls_ca": testCA.pem, "public_key": b.id["public_key"],
			"send_purposes": []string{"vigilance", "statistics"}, "receive_purposes": []string{"vigilance"}}).Body
		peerA := must(t, 201, b.srv.URL, "POST", "/api/v1/exchange/peers", b.reg.Admin, map[string]any{
			"name": "Registry of XA", "jurisdiction": "XA", "url": a.srv.URL, "tls_ca": testCA.pem, "public_key": a.id["public_key"],
			"send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Body
		if peerB["fingerprint"] != b.id["fingerprint"] {
			t.Fatalf("the peer's fingerprint %v is not the one its identity shows, %v", peerB["fingerprint"], b.id["fingerprint"])
		}
		pB, pA := peerB["id"].(string), peerA["id"].(string)
		must(t, 422, a.srv.URL, "POST", "/api/v1/exchange/peers", a.reg.Admin, map[string]any{"name": "Plain", "jurisdiction": "XC",
			"url": "http://127.0.0.1:1", "public_key": b.id["public_key"], "send_purposes": []string{"vigilance"}})

		// Delivered and acknowledged.
		m1 := must(t, 201, a.srv.URL, "POST", "/api/v1/exchange/outbox", a.reg.Admin, notice(pB, "vigilance", "First notice")).Body
		id1 := m1["id"].(string)
		got := a.waitState(t, id1, "acknowledged")
		r := checkReceipt(t, got["receipt"].(map[string]any), b.id["public_key"].(string))
		if r.Outcome != exchange.Received || r.MessageID != id1 || r.From != "XB" || r.To != "XA" || r.MessageSHA256 != exchange.Digest(m1["message"].(string)) {
			t.Fatalf("receipt %+v does not acknowledge %s", r, id1)
		}
		if n := b.inboxCount(t, id1); n != 1 {
			t.Fatalf("XB's inbox holds message %s %d times, want once", id1, n)
		}

		// A replay is acknowledged again, with the receipt recorded the first
		// time, and recorded once.
		env := envelopeOf(t, got)
		rp := call(b.srv.URL, "POST", exchange.InboxPath, "", json.RawMessage(env))
		if rp.Status != 200 || rp.Body["receipt"] != got["receipt"].(map[string]any)["receipt"] {
			t.Fatalf("replay: status %d, %s; want 200 and the first receipt", rp.Status, rp.Raw)
		}
		if n := b.inboxCount(t, id1); n != 1 {
			t.Fatalf("after a replay XB's inbox holds message %s %d times, want once", id1, n)
		}

		// A tampered message: its signature no longer verifies.
		var e exchange.Envelope
		if err := json.Unmarshal(env, &e); err != nil {
			t.Fatal(err)
		}
		e.Message = strings.Replace(e.Message, "First notice", "Forged notice", 1)
		refusal := call(b.srv.URL, "POST", exchange.InboxPath, "", e)
		if refusal.Status != 401 || refusal.str("error.rule") != "bad_signature" || refusal.str("error.field") != "signature" {
			t.Fatalf("tampered message: %d %s, want 401 bad_signature", refusal.Status, refusal.Raw)
		}
		// What the registry cannot verify as a peer's gets no receipt signed
		// with its exchange key over bytes the caller chose.
		if refusal.str("receipt") != "" || refusal.str("signature") != "" {
			t.Fatalf("the refusal of a bad signature carries a signed receipt: %s", refusal.Raw)
		}
		if b.alerts(t, "bad_signature") != 1 {
			t.Fatalf("XB raised no alert for a bad signature")
		}
		// Again: refused the same, and the open alert is not raised twice.
		if again := call(b.srv.URL, "POST", exchange.InboxPath, "", e); again.Status != 401 || again.str("error.rule") != "bad_signature" || again.str("receipt") != "" {
			t.Fatalf("tampered message again: %d %s, want 401 bad_signature unsigned", again.Status, again.Raw)
		}
		if b.alerts(t, "bad_signature") != 1 {
			t.Fatalf("XB raised a second alert for a bad signature while the first is open")
		}

		// A purpose XB does not accept from XA: refused, and the refusal
		// recorded by the sender.
		m2 := must(t, 201, a.srv.URL, "POST", "/api/v1/exchange/outbox", a.reg.Admin, notice(pB, "statistics", "Statistics")).Body
		got = a.waitState(t, m2["id"].(string), "refused")
		if got["refusal_rule"] != "purpose_not_allowed" || got["refusal_field"] != "purpose" {
			t.Fatalf("wrong purpose: %v", got)
		}
		checkReceipt(t, got["receipt"].(map[string]any), b.id["public_key"].(string))
		if b.alerts(t, "purpose_not_allowed") != 1 {
			t.Fatalf("XB raised no alert for a purpose not allowed")
		}
		// A purpose XA has not agreed with XB is refused before it is sent.
		if r := must(t, 403, a.srv.URL, "POST", "/api/v1/exchange/outbox", a.reg.Admin, notice(pB, "research", "Research")); r.str("error.rule") != "purpose_not_allowed" {
			t.Fatalf("unregistered purpose: %s", r.Raw)
		}

		// An unknown sender.
		_, stranger, _ := ed25519.GenerateKey(rand.Reader)
		forged := apptest.Sealed(t, stranger, exchange.Message{ID: "XC-1", From: "XC", To: "XB", Module: "core", Type: "core.notice",
			Purpose: "vigilance", LegalBasis: "none", Notice: "none", Readers: []string{"admin"}, SentAt: "2026-01-01T00:00:00.000000Z",
			Payload: json.RawMessage(`{"subject":"s","text":"t"}`)})
		if r := call(b.srv.URL, "POST", exchange.InboxPath, "", json.RawMessage(forged)); r.Status != 401 || r.str("error.rule") != "unknown_sender" || r.str("receipt") != "" {
			t.Fatalf("unknown sender: %d %s, want 401 unknown_sender without a signed receipt", r.Status, r.Raw)
		}

		// The receiver down; the sender sends, is killed and restarted; the
		// receiver comes back: the message is delivered once.
		b.srv.stop()
		m3 := must(t, 201, a.srv.URL, "POST", "/api/v1/exchange/outbox", a.reg.Admin, notice(pB, "vigilance", "While you were away")).Body
		id3 := m3["id"].(string)
		deadline := time.Now().Add(20 * time.Second)
		for {
			m := a.outbox(t, id3)
			if n, _ := m["attempts"].(float64); n >= 2 && m["state"] == "pending" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the sender did not retry: %v", m)
			}
			time.Sleep(100 * time.Millisecond)
		}
		peers := list(a.get(t, "/api/v1/exchange/peers"), "peers")
		if len(peers) != 1 || peers[0]["reachable"] != "no" || peers[0]["last_error"] == "" {
			t.Fatalf("XA's peer while XB is down: %v", peers)
		}
		a.srv.kill()
		a.start(t)
		b.start(t)
		a.waitState(t, id3, "acknowledged")
		if n := b.inboxCount(t, id3); n != 1 {
			t.Fatalf("XB's inbox holds message %s %d times, want once", id3, n)
		}
		// The peer's status is written by the deliverer after the
		// acknowledgement, in a transaction of its own: wait for it.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			peers = list(a.get(t, "/api/v1/exchange/peers"), "peers")
			if peers[0]["reachable"] == "yes" && peers[0]["last_message_at"] != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("XA's peer once XB is back: %v", peers)
			}
		}

		// Key rotation: XA moves to a new key; XB refuses it until its
		// operator adds it, with the old key valid for an overlap.
		next := must(t, 200, a.srv.URL, "GET", "/api/v1/exchange/identity/next", a.reg.Admin, nil).Body
		rot := must(t, 201, a.srv.URL, "POST", "/api/v1/exchange/identity/rotate", a.reg.Admin, nil).Body
		if rot["fingerprint"] == a.id["fingerprint"] || rot["generation"] != float64(1) || rot["fingerprint"] != next["fingerprint"] {
			t.Fatalf("rotation: %v, announced as %v", rot, next)
		}
		// XB's refusal of a key it does not know is not signed: the message
		// stays pending, the attempt's error naming the rule, and goes
		// through once XB knows the key.
		m4 := must(t, 201, a.srv.URL, "POST", "/api/v1/exchange/outbox", a.reg.Admin, notice(pB, "vigilance", "New key, unknown yet")).Body
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			m := a.outbox(t, m4["id"].(string))
			if le, _ := m["last_error"].(string); m["state"] == "pending" && strings.Contains(le, "unknown_sender") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a message signed with a key XB does not know yet: %v, want pending with unknown_sender as its last error", m)
			}
		}
		until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		must(t, 201, b.srv.URL, "POST", "/api/v1/exchange/peers/"+pA+"/keys", b.reg.Admin, map[string]any{"public_key": rot["public_key"], "previous_valid_until": until})
		a.waitState(t, m4["id"].(string), "acknowledged")
		m5 := must(t, 201, a.srv.URL, "POST", "/api/v1/exchange/outbox", a.reg.Admin, notice(pB, "vigilance", "New key, known")).Body
		a.waitState(t, m5["id"].(string), "acknowledged")
		pk := must(t, 200, b.srv.URL, "GET", "/api/v1/exchange/peers/"+pA, b.reg.Admin, nil).Body
		keys, _ := pk["keys"].([]any)
		if len(keys) != 2 || keys[0].(map[string]any)["valid_until"] == nil || keys[1].(map[string]any)["fingerprint"] != rot["fingerprint"] {
			t.Fatalf("XB's keys of XA after the rotation: %v", pk["keys"])
		}
		// The old key still verifies within the overlap: the first message,
		// signed with it, is acknowledged again.
		if r := call(b.srv.URL, "POST", exchange.InboxPath, "", json.RawMessage(env)); r.Status != 200 {
			t.Fatalf("replay under the old key within the overlap: %d %s", r.Status, r.Raw)
		}

		// Purpose and onward sharing on the receiving side.
		inboxID := pA + "/" + id1
		must(t, 201, b.srv.URL, "POST", "/api/v1/exchange/inbox/"+inboxID+"/use", b.reg.Admin, map[string]any{"purpose": "vigilance"})
		if r := must(t, 403, b.srv.URL, "POST", "/api/v1/exchange/inbox/"+inboxID+"/use", b.reg.Admin, map[string]any{"purpose": "statistics"}); r.str("error.rule") != "purpose_not_allowed" {
			t.Fatalf("use for another purpose: %s", r.Raw)
		}
		if r := must(t, 403, b.srv.URL, "POST", "/api/v1/exchange/inbox/"+inboxID+"/forward", b.reg.Admin,
			map[string]any{"peer_id": pA, "legal_basis": "x", "notice": "y"}); r.str("error.rule") != "onward_sharing" {
			t.Fatalf("forward without consent: %s", r.Raw)
		}
		if b.alerts(t, "purpose_not_allowed") != 2 || b.alerts(t, "onward_sharing") != 1 {
			t.Fatalf("XB's alerts: %d purpose_not_allowed, %d onward_sharing; want 2 and 1", b.alerts(t, "purpose_not_allowed"), b.alerts(t, "onward_sharing"))
		}
		msg := must(t, 200, b.srv.URL, "GET", "/api/v1/exchange/inbox/"+inboxID, b.reg.Admin, nil).Body
		if uses, _ := msg["uses"].([]any); len(uses) != 1 || msg["purpose"] != "vigilance" || msg["onward_sharing"] != false {
			t.Fatalf("XB's record of the message: %v", msg)
		}
		// A role that may neither read the exchange nor this message learns
		// nothing from asking: the message answers as a missing one does.
		centre := must(t, 201, b.srv.URL, "POST", "/api/v1/transplant/centres", b.reg.Admin, map[string]any{"name": "Centre of XB", "city": "Northgate"}).str("id")
		coord := must(t, 201, b.srv.URL, "POST", "/api/v1/principals", b.reg.Admin, map[string]any{"name": "Coordinator", "role": "coordinator", "authority_id": centre}).str("token")
		there := must(t, 404, b.srv.URL, "GET", "/api/v1/exchange/inbox/"+inboxID, coord, nil)
		missing := must(t, 404, b.srv.URL, "GET", "/api/v1/exchange/inbox/"+pA+"/XM-NOSUCHMESSAGE", coord, nil)
		if there.str("error.rule") != missing.str("error.rule") || there.str("error.field") != missing.str("error.field") {
			t.Fatalf("a message the coordinator may not read: %s; a missing one: %s", there.Raw, missing.Raw)
		}
		// Nor from using it, whatever the body: the message's readers are
		// checked before the body is read.
		for _, body := range []any{`{"no json`, map[string]any{"purpose": "NOT A PURPOSE"}, map[string]any{"purpose": "vigilance"}} {
			there := must(t, 404, b.srv.URL, "POST", "/api/v1/exchange/inbox/"+inboxID+"/use", coord, body)
			missing := must(t, 404, b.srv.URL, "POST", "/api/v1/exchange/inbox/"+pA+"/XM-NOSUCHMESSAGE/use", coord, body)
			if there.str("error.rule") != missing.str("error.rule") || there.str("error.field") != missing.str("error.field") || there.str("error.alert") != missing.str("error.alert") {
				t.Fatalf("using a message the coordinator may not read (%v): %s; a missing one: %s", body, there.Raw, missing.Raw)
			}
		}
		// A role that reads the exchange but is not among the readers (the
		// auditor here) is refused as before, with an alert, before its body
		// is read.
		me := must(t, 200, b.srv.URL, "GET", "/api/v1/me", b.reg.Admin, nil).str("authority_id")
		auditor := must(t, 201, b.srv.URL, "POST", "/api/v1/principals", b.reg.Admin, map[string]any{"name": "Auditor", "role": "auditor", "authority_id": me}).str("token")
		if r := must(t, 403, b.srv.URL, "POST", "/api/v1/exchange/inbox/"+inboxID+"/use", auditor, `{"no json`); r.str("error.rule") != "reader" {
			t.Fatalf("an auditor using a message not addressed to auditors: %s, want 403 reader", r.Raw)
		}
		if n := b.alerts(t, "reader"); n != 1 {
			t.Fatalf("XB's reader alerts: %d, want 1", n)
		}

		// The metrics count what happened.
		for _, c := range []struct {
			p     *peerSide
			event string
		}{{a, "acknowledged"}, {a, "refused"}, {b, "received"}, {b, "refused_incoming"}, {b, "replayed"}} {
			m := must(t, 200, c.p.srv.URL, "GET", "/metrics", "", nil)
			if !strings.Contains(string(m.Raw), `custos_exchange_events_total{event="`+c.event+`"}`) {
				t.Errorf("the metrics of %s count no %s", c.p.reg.DSN, c.event)
			}
		}

		// Proof: each side's log shows what it sent or received, and the
		// signed receipts; both verify.
		a.srv.stop()
		b.srv.stop()
		verifyLog(t, a.reg.DSN, a.reg.PublicKey)
		verifyLog(t, b.reg.DSN, b.reg.PublicKey)
	})
}

// TestExchangeAnswerReadAsWritten: the sender reads a peer's answer as the
// peer's custos writes it. A stand-in for XB, holding the key XA registered
// for it, answers each message with a receipt it signed, but with the
// answer's "receipt" written "RECEIPT", or given twice (the last one the
// real one): encoding/json took either for the receipt, and the message was
// acknowledged; now the answer is refused, naming the rule and the field,
// and the message stays pending, to be sent again.
func TestExchangeAnswerReadAsWritten(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a := &peerSide{reg: initRegistryOf(t, dsn, "XA")}
		cert, key := testCA.serverCert(t, t.TempDir())
		a.flags = []string{"--addr", freeAddr(t), "--tls-cert", cert, "--tls-key", key, "--exchange-retry", "100ms", "--exchange-retry-max", "500ms"}
		a.start(t)

		// One stand-in peer for each form, each with its key: a peer's
		// messages go in order, so a second message to a peer whose answers
		// never read would wait behind the first.
		keys := map[string]ed25519.PrivateKey{}
		for _, subject := range []string{"Receipt in capitals", "Receipt twice"} {
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			keys[subject] = priv
		}
		// answer writes the signed receipt for a message in the form the
		// subject of the message asks for.
		answer := map[string]func(sr *exchange.SignedReceipt) string{
			"Receipt in capitals": func(sr *exchange.SignedReceipt) string {
				return fmt.Sprintf(`{"RECEIPT":%q,"key":%q,"signature":%q}`, sr.Receipt, sr.Key, sr.Signature)
			},
			"Receipt twice": func(sr *exchange.SignedReceipt) string {
				return fmt.Sprintf(`{"receipt":"","key":%q,"signature":%q,"receipt":%q}`, sr.Key, sr.Signature, sr.Receipt)
			},
		}
		fake := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			env, err := exchange.ParseEnvelope(body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			m, err := exchange.ParseMessage(env.Message)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			var p struct {
				Subject string `json:"subject"`
			}
			_ = json.Unmarshal(m.Payload, &p)
			if keys[p.Subject] == nil {
				http.Error(w, "no answer", 500)
				return
			}
			sr, err := exchange.SealReceipt(&exchange.Receipt{V: exchange.Version, MessageID: m.ID, MessageSHA256: exchange.Digest(env.Message),
				From: "XB", To: "XA", Outcome: exchange.Received, At: time.Now().UTC().Format(time.RFC3339)}, keys[p.Subject])
			if err != nil || answer[p.Subject] == nil {
				http.Error(w, "no answer", 500)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, answer[p.Subject](sr))
		}))
		kp, err := tls.LoadX509KeyPair(testCA.serverCert(t, t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		fake.TLS = &tls.Config{Certificates: []tls.Certificate{kp}}
		fake.StartTLS()
		t.Cleanup(fake.Close)

		for subject, want := range map[string]string{
			"Receipt in capitals": `unknown_field: the field "RECEIPT" is not part of this document: names are written as documented, here "receipt" (field RECEIPT)`,
			"Receipt twice":       `duplicate_key: the key "receipt" is given twice in one object (field receipt)`,
		} {
			pB := must(t, 201, a.srv.URL, "POST", "/api/v1/exchange/peers", a.reg.Admin, map[string]any{
				"name": "Registry of XB (" + subject + ")", "jurisdiction": "XB", "url": fake.URL, "tls_ca": testCA.pem,
				"public_key":    exchange.EncodeKey(keys[subject].Public().(ed25519.PublicKey)),
				"send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).str("id")
			id := must(t, 201, a.srv.URL, "POST", "/api/v1/exchange/outbox", a.reg.Admin, notice(pB, "vigilance", subject)).str("id")
			deadline := time.Now().Add(30 * time.Second)
			for {
				m := a.outbox(t, id)
				if m["state"] != exchange.Pending {
					t.Fatalf("%s: the message is %v (%v), want pending: the answer was taken", subject, m["state"], m["last_error"])
				}
				if n, _ := m["attempts"].(float64); n >= 2 {
					if got, _ := m["last_error"].(string); !strings.Contains(got, "with an answer that does not read as written: "+want) {
						t.Fatalf("%s: last error %q, want %q", subject, got, want)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: %d attempts in 30 s", subject, int(m["attempts"].(float64)))
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	})
}
