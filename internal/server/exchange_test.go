package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestExchangeModuleType exchanges the example module's message type between
// two registries that run the module, in process: a payload that does not
// meet the type's schema is refused before it is sent, naming the field; a
// valid one is signed, received, and its receipt recorded; a message signed
// by the sender with a payload the schema refuses is refused by the
// receiver with a signed refusal naming the field; a type the receiver does
// not know is refused as unknown_type. (internal/e2e drives the same over
// HTTPS between two custos serve processes.)
func TestExchangeModuleType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		second := storetest.SQLite(t)
		if dsn[:4] == "post" {
			second = storetest.Postgres(t)
		}
		mods := append(server.DefaultModules(), exampleRegistry)
		a, b := apptest.StartModules(t, dsn, mods), apptest.StartModules(t, second, mods)
		ctx := context.Background()
		idA, err := a.App.Exchange.Identity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		idB, err := b.App.Exchange.Identity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		peer := func(e *apptest.Env, id *exchange.Identity) string {
			return e.Must(t, 201, "POST", "/api/v1/exchange/peers", e.Admin, map[string]any{"name": "The other registry", "jurisdiction": id.Jurisdiction,
				"url": "https://peer.invalid", "public_key": id.PublicKey, "send_purposes": []string{"coordination"}, "receive_purposes": []string{"coordination"}}).Str("id")
		}
		peerB := peer(a, idB)
		peer(b, idA)
		out := func(payload string) map[string]any {
			return map[string]any{"peer_id": peerB, "type": noticeShared.Name, "purpose": "coordination", "legal_basis": "Example agreement, art. 1",
				"notice": "Synthetic.", "readers": []string{"admin"}, "payload": json.RawMessage(payload)}
		}

		r := a.Must(t, 422, "POST", "/api/v1/exchange/outbox", a.Admin, out(`{"urgency":"whenever","body":"x"}`))
		if r.Str("error.rule") != "schema" || r.Str("error.field") != "payload.urgency" {
			t.Fatalf("a payload outside the schema: %s", r.Raw)
		}
		sent := a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, out(`{"urgency":"urgent","body":"The office moves on Monday."}`))
		env, err := json.Marshal(exchange.Envelope{Message: sent.Str("message"), Key: sent.Str("key"), Signature: sent.Str("signature")})
		if err != nil {
			t.Fatal(err)
		}
		status, ans := b.App.Exchange.Receive(ctx, env)
		if status != 200 || ans.Error != nil {
			t.Fatalf("receive: %d %+v", status, ans.Error)
		}
		if err := a.App.Exchange.RecordReceipt(ctx, sent.Str("id"), &ans.SignedReceipt); err != nil {
			t.Fatal(err)
		}
		box := a.Must(t, 200, "GET", "/api/v1/exchange/outbox?module=example&state=acknowledged", a.Admin, nil)
		if n := len(box.Body["messages"].([]any)); n != 1 {
			t.Fatalf("acknowledged messages of the example module: %d, want 1", n)
		}
		if n := len(b.Must(t, 200, "GET", "/api/v1/exchange/inbox?module=example", b.Admin, nil).Body["messages"].([]any)); n != 1 {
			t.Fatalf("XB's inbox of the example module: %d, want 1", n)
		}

		// Signed by the sender, refused by the receiver's schema.
		key, err := exchange.DeriveKey(a.App.Keys.Master, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range []struct{ typ, payload, rule, field string }{
			{noticeShared.Name, `{"urgency":"urgent"}`, "schema", "payload.body"},
			{noticeShared.Name, `{"urgency":"urgent","body":"x","colour":"red"}`, "schema", "payload.colour"},
			{"example.unknown", `{"body":"x"}`, "unknown_type", "type"},
		} {
			bad, err := exchange.Seal(&exchange.Message{V: exchange.Version, ID: fmt.Sprintf("XM-BAD-%d", i), From: "XA", To: "XA", Module: "example", Type: c.typ,
				Purpose: "coordination", LegalBasis: "x", Notice: "y", Readers: []string{"admin"}, SentAt: ledger.FormatTime(time.Now()), Payload: json.RawMessage(c.payload)}, key)
			if err != nil {
				t.Fatal(err)
			}
			b2, _ := json.Marshal(bad)
			status, ans := b.App.Exchange.Receive(ctx, b2)
			if status != 422 || ans.Error.Rule != c.rule || ans.Error.Field != c.field {
				t.Fatalf("%s %s: %d %+v, want 422 %s %s", c.typ, c.payload, status, ans.Error, c.rule, c.field)
			}
			pub, _ := exchange.DecodeKey("key", idB.PublicKey)
			sr := ans.SignedReceipt
			if err := sr.Verify(pub); err != nil {
				t.Fatalf("the refusal is not signed by the receiver: %v", err)
			}
		}
	})
}
