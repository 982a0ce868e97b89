package e2e

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	custos "github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestExchangeTypeBoundToPurpose runs two registries, XA and XB, that
// exchange for the purposes of both the assets and the transplant
// registries. XA's administrator tries to send messages a module would
// never send: an assets.request for the purpose vigilance, an
// assets.request whose readers are the auditor only, a
// transplant.organ_outcome for the purpose legal_assistance, and one
// addressed to the auditor; XA refuses each before it is sent
// (purpose_not_allowed at purpose, readers at readers). The same messages
// signed with XA's exchange key and posted to XB's inbox, as another
// implementation might send them, XB refuses in its signed answer and
// raises an alert (one a rule: a refusal repeated within the alert window
// counts on it), and records no request; the same request for
// legal_assistance, to the central authority, is received.
func TestExchangeTypeBoundToPurpose(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a, b := startPeers(t, dsn)
		A, B := a.srv.URL, b.srv.URL
		purposes := []string{"legal_assistance", "vigilance", "traceability"}
		pB, _ := peerBoth(t, a, b, purposes)
		caB := centralAuthority(t, B, b.reg.Admin, "Central Authority of XB", "XB")

		request := func(id string) map[string]any {
			return map[string]any{"request_id": id, "type": "mla", "requesting_state": "XA", "requested_state": "XB",
				"requesting_authority": "Central Authority of XA", "requested_authority": "Central Authority of XB", "legal_basis": "uncac_46",
				"offences": []string{"07031"}, "facts": "Synthetic facts.", "purpose": "Evidence.", "confidentiality": "required", "language": "en",
				"use_purposes": []string{"prosecution"}, "sent_at": "2026-01-05T10:00:00Z"}
		}
		outcome := map[string]any{"organ_id": "XA-26-000001-01-A", "outcome": "transplanted", "on": "2026-01-05", "centre": "Centre of XB"}
		send := func(typ, purpose string, readers []string, payload map[string]any) string {
			return must(t, 201, A, "POST", "/api/v1/exchange/outbox", a.reg.Admin, map[string]any{"peer_id": pB, "type": typ, "purpose": purpose,
				"legal_basis": "UNCAC art. 46 (synthetic)", "notice": "Synthetic test message.", "readers": readers, "payload": payload}).str("id")
		}
		officers := []string{"central_authority_officer", "regulator"}
		// XA's exchange key, as another implementation holding it would
		// sign with.
		keys, err := custos.LoadKeys(a.reg.Key)
		if err != nil {
			t.Fatal(err)
		}
		var signer ed25519.PrivateKey
		for g := int64(0); g < 4 && signer == nil; g++ {
			k, err := exchange.DeriveKey(keys.Master, g)
			if err != nil {
				t.Fatal(err)
			}
			if exchange.EncodeKey(k.Public().(ed25519.PublicKey)) == a.id["public_key"] {
				signer = k
			}
		}
		if signer == nil {
			t.Fatalf("no generation of XA's master key gives its exchange key %v", a.id["public_key"])
		}
		for i, c := range []struct {
			what, typ, purpose string
			readers            []string
			payload            map[string]any
			rule, field        string
		}{
			{"a request for the purpose vigilance", "assets.request", "vigilance", officers, request("RQ-F1"), "purpose_not_allowed", "purpose"},
			{"a request to the auditor only", "assets.request", "legal_assistance", []string{"auditor"}, request("RQ-F2"), "readers", "readers"},
			{"an organ's outcome for legal assistance", "transplant.organ_outcome", "legal_assistance", []string{"coordinator", "regulator"}, outcome, "purpose_not_allowed", "purpose"},
			{"an organ's outcome to the auditor only", "transplant.organ_outcome", "traceability", []string{"auditor"}, outcome, "readers", "readers"},
		} {
			r := call(A, "POST", "/api/v1/exchange/outbox", a.reg.Admin, map[string]any{"peer_id": pB, "type": c.typ, "purpose": c.purpose,
				"legal_basis": "UNCAC art. 46 (synthetic)", "notice": "Synthetic test message.", "readers": c.readers, "payload": c.payload})
			if r.Status != 403 || r.str("error.rule") != c.rule || r.str("error.field") != c.field {
				t.Errorf("XA sending %s: %d %s, want 403 %s at %s", c.what, r.Status, r.Raw, c.rule, c.field)
			}
			payload, _ := json.Marshal(c.payload)
			mod, _, _ := strings.Cut(c.typ, ".")
			env := apptest.Sealed(t, signer, exchange.Message{ID: fmt.Sprintf("MS-FORGED%d", i), From: "XA", To: "XB",
				Module: mod, Type: c.typ,
				Purpose: c.purpose, LegalBasis: "UNCAC art. 46 (synthetic)", Notice: "Synthetic test message.", Readers: c.readers,
				SentAt: "2026-01-05T10:00:00.000000Z", Payload: payload})
			r = call(B, "POST", exchange.InboxPath, "", json.RawMessage(env))
			if r.str("error.rule") != c.rule || r.str("error.field") != c.field {
				t.Errorf("XB receiving %s: %d %s, want %s at %s", c.what, r.Status, r.Raw, c.rule, c.field)
			}
			checkReceipt(t, r.Body, b.id["public_key"].(string))
		}
		// One alert each (the second refusal within the window counts on it).
		if n, m := b.alerts(t, "purpose_not_allowed"), b.alerts(t, "readers"); n != 1 || m != 1 {
			t.Errorf("XB's alerts: %d purpose_not_allowed, %d readers; want 1 and 1", n, m)
		}
		if rs := list(must(t, 200, B, "GET", "/api/v1/assets/requests?direction=incoming", caB, nil), "requests"); len(rs) != 0 {
			t.Errorf("XB recorded the forged requests: %v", rs)
		}
		// The same request, for legal assistance and to the central authority, is received.
		a.waitState(t, send("assets.request", "legal_assistance", officers, request("RQ-OK")), "acknowledged")
		waitFor(t, "XB's copy of the request", func() reply {
			return must(t, 200, B, "GET", "/api/v1/assets/requests?direction=incoming", caB, nil)
		}, func(r reply) bool { return len(list(r, "requests")) == 1 })
	})
}
