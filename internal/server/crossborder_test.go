package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// relay delivers every pending message of from's outbox to to, in process,
// and records to's receipt; it returns the refusals' receipts.
func relay(t *testing.T, from, to *apptest.World) []*exchange.Receipt {
	t.Helper()
	ctx := context.Background()
	rows, err := from.App.DB.Read().Query(ctx, "SELECT id, message, signed_by, signature FROM exchange_outbox WHERE state = 'pending' ORDER BY log_index")
	if err != nil {
		t.Fatal(err)
	}
	type msg struct{ id, message, key, sig string }
	var list []msg
	for rows.Next() {
		var m msg
		if err := rows.Scan(&m.id, &m.message, &m.key, &m.sig); err != nil {
			t.Fatal(err)
		}
		list = append(list, m)
	}
	rows.Close()
	var refused []*exchange.Receipt
	for _, m := range list {
		env, _ := json.Marshal(exchange.Envelope{Message: m.message, Key: m.key, Signature: m.sig})
		_, ans := to.App.Exchange.Receive(ctx, env)
		if err := from.App.Exchange.RecordReceipt(ctx, m.id, &ans.SignedReceipt); err != nil {
			t.Fatal(err)
		}
		if r, _ := exchange.ParseReceipt(ans.Receipt); r != nil && r.Outcome == exchange.Refused {
			refused = append(refused, r)
		}
	}
	return refused
}

// peeredWorlds is two registries on the engine of dsn, each the other's
// peer for traceability and vigilance, with the ids under which each knows
// the other.
func peeredWorlds(t *testing.T, dsn string) (a, b *apptest.World, toB, toA string) {
	t.Helper()
	second := storetest.Second(t, dsn)
	a, b = apptest.NewWorld(t, dsn), apptest.NewWorld(t, second)
	peer := func(at, other *apptest.World) string {
		id := identity(t, other.Env)
		return at.Must(t, 201, "POST", "/api/v1/exchange/peers", at.Admin, map[string]any{"name": "The other registry", "jurisdiction": "XA",
			"url": "https://peer.invalid", "public_key": id.PublicKey, "send_purposes": []string{"traceability", "vigilance"},
			"receive_purposes": []string{"traceability", "vigilance"}}).Str("id")
	}
	return a, b, peer(a, b), peer(b, a)
}

// TestCrossBorderRules runs two registries in process and relays their
// messages by hand: an organ sent from one is imported by the other, its
// outcome, which only the centre it was sent to records, comes back; a
// message the receiving module cannot take is refused in the signed receipt
// with its rule and payload field; a report on the
// donor notifies the other registry, whose centre's notification and the
// registry's own notification there escalate when not acknowledged in
// time. (internal/e2e drives the whole over HTTPS between two custos serve
// processes.)
func TestCrossBorderRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a, b, toB, toA := peeredWorlds(t, dsn)
		ctx := context.Background()

		donor := a.Must(t, 201, "POST", "/api/v1/transplant/donors", a.CoordA, apptest.DeceasedDonor(a.CentreA)).Str("id")
		a.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", a.CoordA, map[string]any{"kind": "family_authorization",
			"given_on": time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
		pr := a.Must(t, 201, "POST", "/api/v1/transplant/procurements", a.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(3),
			"organs": []string{"kidney", "kidney"}})
		organ := pr.Body["organs"].([]any)[1].(map[string]any)["id"].(string)

		// Sent by a centre that did not procure it: refused, naming the field.
		if r := a.Must(t, 403, "POST", "/api/v1/transplant/exports", a.CoordB, map[string]any{"organ_id": organ, "peer_id": toB}); r.Str("error.rule") != "own_centre" {
			t.Fatalf("export by another centre: %s", r.Raw)
		}
		// One kidney goes to B's centre A, named by its identifier there,
		// the other to B's centre B, named by its name.
		a.Must(t, 201, "POST", "/api/v1/transplant/exports", a.CoordA, map[string]any{"organ_id": organ, "peer_id": toB, "destination_centre": b.CentreA})
		toCentreB := pr.Body["organs"].([]any)[0].(map[string]any)["id"].(string)
		a.Must(t, 201, "POST", "/api/v1/transplant/exports", a.CoordA, map[string]any{"organ_id": toCentreB, "peer_id": toB, "destination_centre": "Centre B"})
		if refused := relay(t, a, b); len(refused) != 0 {
			t.Fatalf("refused: %+v", refused)
		}
		today := time.Now().UTC().Format("2006-01-02")
		rc := b.Must(t, 201, "POST", "/api/v1/transplant/recipients", b.CoordA, apptest.Recipient(b.CentreA, "kidney")).Str("id")
		rcB := b.Must(t, 201, "POST", "/api/v1/transplant/recipients", b.CoordB, apptest.Recipient(b.CentreB, "kidney")).Str("id")
		// Only the centre an organ was sent to records its outcome, and only
		// for a recipient of its own: another is refused with an alert, and
		// the organ keeps no outcome.
		for _, c := range []struct {
			name, coord, organ, recipient, rule, field string
		}{
			{"the outcome of an organ sent to centre A, by centre B", b.CoordB, organ, rcB, "organ_holder", "organ_id"},
			{"the outcome of an organ sent to centre B by its name, by centre A", b.CoordA, toCentreB, rc, "organ_holder", "organ_id"},
			{"an organ transplanted to another centre's recipient", b.CoordA, organ, rcB, "recipient_centre", "recipient_id"},
		} {
			r := b.Must(t, 403, "POST", "/api/v1/transplant/imports/"+c.organ+"/outcome", c.coord, map[string]any{"outcome": "transplanted",
				"recipient_id": c.recipient, "on": today})
			if r.Str("error.rule") != c.rule || r.Str("error.field") != c.field || r.Body["error"].(map[string]any)["alert"] != true {
				t.Fatalf("%s: %s, want %s on %s with an alert", c.name, r.Raw, c.rule, c.field)
			}
			if im := b.Must(t, 200, "GET", "/api/v1/transplant/imports/"+c.organ, b.Regulator, nil); im.Str("outcome") != "" || im.Str("centre_id") != "" {
				t.Fatalf("%s changed the import: %s", c.name, im.Raw)
			}
		}
		if n := len(b.Must(t, 200, "GET", "/api/v1/alerts?rule=organ_holder", b.Regulator, nil).Body["alerts"].([]any)); n != 2 {
			t.Fatalf("%d alerts organ_holder, want 2", n)
		}
		b.Must(t, 201, "POST", "/api/v1/transplant/imports/"+organ+"/outcome", b.CoordA, map[string]any{"outcome": "transplanted", "recipient_id": rc,
			"on": today})
		if r := b.Must(t, 409, "POST", "/api/v1/transplant/imports/"+organ+"/outcome", b.CoordA, map[string]any{"outcome": "discarded", "reason": "x",
			"on": time.Now().UTC().Format("2006-01-02")}); r.Str("error.rule") != "organ_final" {
			t.Fatalf("a second outcome: %s", r.Raw)
		}
		relay(t, b, a)
		answered := 0
		for _, x := range a.Must(t, 200, "GET", "/api/v1/transplant/exports", a.Regulator, nil).Body["exports"].([]any) {
			if x := x.(map[string]any); x["organ_id"] == organ && x["recipient_ref"] == rc {
				answered++
			}
		}
		if answered != 1 {
			t.Fatalf("the outcome did not reach the origin")
		}

		// Messages the module cannot take: signed refusals naming the rule and
		// the payload's field, and nothing recorded.
		key, err := exchange.DeriveKey(b.App.Keys.Master, 0)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := transplant.ParseOrganID(organ)
		other.Seq++
		for i, c := range []struct{ typ, purpose, payload, rule, field string }{
			{transplant.MsgOutcome, "traceability", `{"organ_id":"` + other.String() + `","outcome":"discarded","on":"2026-01-01","centre":"C"}`, "not_exported", "payload.organ_id"},
			{transplant.MsgOutcome, "traceability", `{"organ_id":"` + organ + `","outcome":"discarded","on":"2026-01-01","centre":"C"}`, "organ_final", "payload.organ_id"},
			{transplant.MsgSAEAcknowledged, "vigilance", `{"report_id":"XA-SAE-2026-999999","centres_notified":1,"acknowledged_at":"2026-01-01T00:00:00Z"}`, "reference", "payload.report_id"},
			// A message for another purpose than its type's, or not
			// addressed to the coordinator who works it.
			{transplant.MsgOutcome, "vigilance", `{"organ_id":"` + organ + `","outcome":"discarded","on":"2026-01-01","centre":"C"}`, "purpose_not_allowed", "purpose"},
		} {
			body := apptest.Sealed(t, key, exchange.Message{ID: "XM-BAD-" + string(rune('A'+i)), From: "XA", To: "XA", Module: "transplant", Type: c.typ,
				Purpose: c.purpose, LegalBasis: "x", Notice: "y", Readers: []string{"coordinator", "regulator"}, SentAt: ledger.FormatTime(time.Now()),
				Payload: json.RawMessage(c.payload)})
			status, ans := a.App.Exchange.Receive(ctx, body)
			if ans.Error == nil || ans.Error.Rule != c.rule || ans.Error.Field != c.field || status < 400 {
				t.Fatalf("%s %s: %d %+v, want %s at %s", c.typ, c.payload, status, ans.Error, c.rule, c.field)
			}
			if r, err := exchange.ParseReceipt(ans.Receipt); err != nil || r.Outcome != exchange.Refused || r.Field != c.field {
				t.Fatalf("the refusal's receipt: %+v %v", r, err)
			}
		}
		var n int
		if err := a.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM exchange_inbox WHERE id LIKE '%XM-BAD-%'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("refused messages recorded: %d %v", n, err)
		}

		// A report on the donor notifies B, which notifies its centre; nobody
		// acknowledges: both escalate.
		sae := a.Must(t, 201, "POST", "/api/v1/transplant/sae", a.Regulator, map[string]any{"kind": "event", "donor_id": donor, "contact": "Desk",
			"started_at": apptest.Hours(2), "detected_at": apptest.Hours(1), "description": "Synthetic.", "immediate_measures": "None."})
		relay(t, a, b)
		fs := b.Must(t, 200, "GET", "/api/v1/transplant/foreign-sae/"+sae.Str("report_id"), b.Regulator, nil)
		if ns := fs.Body["notifications"].([]any); len(ns) != 1 || ns[0].(map[string]any)["centre_id"] != b.CentreA {
			t.Fatalf("B's report: %s", fs.Raw)
		}
		later := func() time.Time { return time.Now().Add(48 * time.Hour) }
		a.App.Transplant.Now, b.App.Transplant.Now = later, later
		if n, err := b.App.Transplant.Escalate(ctx); err != nil || n != 1 {
			t.Fatalf("B escalated %d, %v; want its centre's notification", n, err)
		}
		if _, err := a.App.Transplant.Escalate(ctx); err != nil {
			t.Fatal(err)
		}
		var peerEscalated int
		if err := a.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE peer_id = ? AND escalated_at IS NOT NULL", toB).Scan(&peerEscalated); err != nil || peerEscalated != 1 {
			t.Fatalf("A's notification of B escalated: %d %v", peerEscalated, err)
		}
		for _, w := range []*apptest.World{a, b} {
			if len(w.Must(t, 200, "GET", "/api/v1/alerts?rule=sae_acknowledgement", w.Regulator, nil).Body["alerts"].([]any)) == 0 {
				t.Fatalf("no alert sae_acknowledgement")
			}
		}
		_ = toA
	})
}
