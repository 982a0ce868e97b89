package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/storetest"
)

// TestUnknownStateRefusedCore: ZZ, ISO 3166-1's code for an unknown or
// unspecified state, is refused where core needs a real state (rule
// known_state, the field named) and nothing is recorded: an authority's
// jurisdiction, an exchange peer's. XB, another user-assigned code, is
// accepted in both. A message from a peer of ZZ (one registered before ZZ
// was refused, made here behind custos's back) is refused with a signed
// receipt naming the rule and the field from.
func TestUnknownStateRefusedCore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		peer := func(jurisdiction string) map[string]any {
			return map[string]any{"name": "Registry of " + jurisdiction, "jurisdiction": jurisdiction, "url": "https://peer.invalid",
				"public_key": exchange.EncodeKey(pub), "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}
		}
		size := logSize(t, w)
		for _, c := range []struct {
			what, path string
			body       map[string]any
		}{
			{"an authority of ZZ", "/api/v1/authorities", map[string]any{"name": "Centre of Nowhere", "kind": "transplant_centre", "jurisdiction": "ZZ"}},
			{"a peer of ZZ", "/api/v1/exchange/peers", peer("ZZ")},
		} {
			r := w.Do(t, "POST", c.path, w.Admin, c.body)
			if r.Status != 422 || r.Str("error.rule") != "known_state" || r.Str("error.field") != "jurisdiction" {
				t.Errorf("%s: %d %s, want 422 known_state at jurisdiction", c.what, r.Status, r.Raw)
			}
		}
		if got := logSize(t, w); got != size {
			t.Fatalf("the refusals of ZZ grew the log by %d leaves, want none", got-size)
		}
		w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Centre of Otherland", "kind": "transplant_centre", "jurisdiction": "XB"})
		id := w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, peer("XB")).Str("id")

		w.Tamper(t, "UPDATE exchange_peers SET jurisdiction = 'ZZ' WHERE id = ?", id)
		sealed := apptest.Sealed(t, priv, exchange.Message{ID: "ZZ-1", From: "ZZ", To: "XA", Module: "transplant", Type: "transplant.sae_raised",
			Purpose: "vigilance", LegalBasis: "test", Notice: "test", Readers: []string{"coordinator"}, Payload: json.RawMessage(`{}`)})
		if r := w.Do(t, "POST", exchange.InboxPath, "", sealed); r.Status != 422 || r.Str("error.rule") != "known_state" || r.Str("error.field") != "from" || r.Str("receipt") == "" {
			t.Errorf("a message from a peer of ZZ: %d %s, want 422 known_state at from with a signed receipt", r.Status, r.Raw)
		}
	})
}
