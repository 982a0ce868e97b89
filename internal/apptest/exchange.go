package apptest

import (
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/exchange"
)

// Peer registers other as a peer of e, sending and receiving for purposes,
// through e's API, and returns the peer's id.
func (e *Env) Peer(t testing.TB, other *Env, purposes ...string) string {
	t.Helper()
	id, err := other.App.Exchange.Identity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return e.Must(t, 201, "POST", "/api/v1/exchange/peers", e.Admin, map[string]any{"name": "The other registry", "jurisdiction": id.Jurisdiction,
		"url": "https://peer.invalid", "public_key": id.PublicKey, "send_purposes": purposes, "receive_purposes": purposes}).Str("id")
}

// ReceiveOutbox has e receive the messages of from's outbox, the oldest
// first, as the exchange's delivery would hand them over; one refused fails
// t. The sender is not told (its messages stay pending).
func (e *Env) ReceiveOutbox(t testing.TB, from *Env) {
	t.Helper()
	var out struct{ Messages []exchange.OutboxMessage }
	if err := json.Unmarshal(from.Must(t, 200, "GET", "/api/v1/exchange/outbox", from.Admin, nil).Raw, &out); err != nil || len(out.Messages) == 0 {
		t.Fatalf("the sender's outbox: %v %+v", err, out)
	}
	for _, m := range slices.Backward(out.Messages) {
		env, err := json.Marshal(m.Envelope)
		if err != nil {
			t.Fatal(err)
		}
		if status, ans := e.App.Exchange.Receive(t.Context(), env); status != 200 {
			t.Fatalf("receive %s: %d %+v", m.Type, status, ans.Error)
		}
	}
}

// OutboxMessage reads message id in e's outbox, as its API shows it.
func (e *Env) OutboxMessage(t testing.TB, id string) exchange.OutboxMessage {
	t.Helper()
	var out struct{ Messages []exchange.OutboxMessage }
	if err := json.Unmarshal(e.Must(t, 200, "GET", "/api/v1/exchange/outbox", e.Admin, nil).Raw, &out); err != nil {
		t.Fatal(err)
	}
	for _, m := range out.Messages {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %s is not in the outbox", id)
	return exchange.OutboxMessage{}
}

// Sealed is the body a registry holding key posts to a peer's inbox: m, of
// the exchange's version, signed with key. Tests build with it the
// messages a custos would not send (a sent_at ahead, a payload the schema
// refuses) as well as the others.
func Sealed(t testing.TB, key ed25519.PrivateKey, m exchange.Message) []byte {
	t.Helper()
	m.V = exchange.Version
	env, err := exchange.Seal(&m, key)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return body
}
