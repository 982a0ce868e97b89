package e2e

import (
	"testing"
	"time"

	"github.com/custos-project/custos/internal/storetest"
)

// waitFor polls get until ok holds of its answer, for up to 30 seconds.
func waitFor(t *testing.T, what string, get func() reply, ok func(reply) bool) reply {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := get()
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s", what, r.Raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// transplantHere registers a recipient at the coordinator's centre,
// authorizes the organ for them and records the transplantation; it
// returns the recipient.
func transplantHere(t *testing.T, base, coord, centre, organ string, n int) string {
	t.Helper()
	body, _ := recipient(n, false)
	rc := must(t, 201, base, "POST", "/api/v1/transplant/recipients", coord, body).str("id")
	ta := must(t, 201, base, "POST", "/api/v1/transplant/transplant-authorizations", coord, map[string]any{"organ_id": organ, "recipient_id": rc,
		"centre_id": centre, "authorized_by": "Medical director", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}).str("id")
	must(t, 201, base, "POST", "/api/v1/transplant/transplants", coord, map[string]any{"organ_id": organ, "recipient_id": rc, "centre_id": centre,
		"performed_at": time.Now().UTC().Add(-time.Minute).Format(time.RFC3339), "authorization_id": ta})
	return rc
}

// TestCrossBorderVigilance runs two registries, XA and XB, as two custos
// serve processes over HTTPS, and follows a donor of XA whose kidneys go to
// two countries: one is transplanted in XA, the other is sent to XB (its
// characterization, then its traceability message), imported there and
// transplanted, and the outcome comes back to XA by itself. A serious
// adverse reaction reported in XA on its recipient notifies XA's centre
// and XB's registry; XB passes it to its centre, which acknowledges, and XB
// acknowledges to XA by a message; the final report closes the case in XA
// and reaches XB. A reaction raised in XB on the imported kidney reaches
// XA, which makes it a report of its own and notifies its centre. Both
// sides' traces follow the organ across the border; both logs verify.
func TestCrossBorderVigilance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a, b := startPeers(t, dsn)
		purposes := []string{"traceability", "vigilance"}
		pB, pA := peerBoth(t, a, b, purposes)
		wa, wb := newWorld(t, a.srv.URL, a.reg.Admin), newWorld(t, b.srv.URL, b.reg.Admin)
		A, B := a.srv.URL, b.srv.URL

		// XA: a deceased donor, both kidneys procured at centre A.
		donorID := must(t, 201, A, "POST", "/api/v1/transplant/donors", wa.CoordA, donor(7001)).str("id")
		must(t, 201, A, "POST", "/api/v1/transplant/donors/"+donorID+"/consents", wa.CoordA, consent())
		pr := must(t, 201, A, "POST", "/api/v1/transplant/procurements", wa.CoordA, map[string]any{"donor_id": donorID,
			"procured_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "organs": []string{"kidney", "kidney"}})
		var kidneys []string
		for _, o := range list(pr, "organs") {
			kidneys = append(kidneys, o["id"].(string))
		}
		if len(kidneys) != 2 {
			t.Fatalf("procurement: %s", pr.Raw)
		}
		stays, crosses := kidneys[0], kidneys[1]
		rcA := transplantHere(t, A, wa.CoordA, wa.CentreA, stays, 7001)

		// The other kidney goes to XB: refused without a peer, or to a
		// peer that is not registered, naming the field.
		if r := must(t, 404, A, "POST", "/api/v1/transplant/exports", wa.CoordA, map[string]any{"organ_id": crosses, "peer_id": "PEER-NOPE"}); r.str("error.field") != "peer_id" {
			t.Fatalf("export to an unknown peer: %s", r.Raw)
		}
		if r := must(t, 409, A, "POST", "/api/v1/transplant/exports", wa.CoordA, map[string]any{"organ_id": stays, "peer_id": pB}); r.str("error.rule") != "organ_final" {
			t.Fatalf("export of a transplanted organ: %s", r.Raw)
		}
		ex := must(t, 201, A, "POST", "/api/v1/transplant/exports", wa.CoordA, map[string]any{"organ_id": crosses, "peer_id": pB,
			"destination_centre": wb.CentreA})
		msgs, _ := ex.Body["messages"].([]any)
		if len(msgs) != 2 || ex.str("destination_country") != "XB" {
			t.Fatalf("export: %s", ex.Raw)
		}
		for _, m := range msgs {
			a.waitState(t, m.(string), "acknowledged")
		}
		if r := must(t, 409, A, "POST", "/api/v1/transplant/exports", wa.CoordA, map[string]any{"organ_id": crosses, "peer_id": pB}); r.str("error.rule") != "exported" {
			t.Fatalf("an organ exported twice: %s", r.Raw)
		}

		// XB holds the imported organ: where it came from, its
		// characterization (no date of birth, the age), the traceability data.
		im := must(t, 200, B, "GET", "/api/v1/transplant/imports/"+crosses, wb.CoordA, nil)
		if im.str("origin_country") != "XA" || im.str("donor_ref") != donorID || im.str("peer_id") != pA || im.str("procured_at") == "" ||
			im.str("characterization.donor.blood_group") != "O" || im.str("procurement_centre") != "Centre A" {
			t.Fatalf("XB's import: %s", im.Raw)
		}
		if age, _ := im.Body["characterization"].(map[string]any)["donor"].(map[string]any)["age_years"].(float64); age < 50 {
			t.Fatalf("the characterization's age: %s", im.Raw)
		}
		// Centre A of XB transplants it; the outcome goes back to XA.
		body, _ := recipient(7002, false)
		rcB := must(t, 201, B, "POST", "/api/v1/transplant/recipients", wb.CoordA, body).str("id")
		if r := must(t, 422, B, "POST", "/api/v1/transplant/imports/"+crosses+"/outcome", wb.CoordA, map[string]any{"outcome": "transplanted",
			"on": time.Now().UTC().Format("2006-01-02")}); r.str("error.field") != "recipient_id" {
			t.Fatalf("an outcome without its recipient: %s", r.Raw)
		}
		must(t, 201, B, "POST", "/api/v1/transplant/imports/"+crosses+"/outcome", wb.CoordA, map[string]any{"outcome": "transplanted",
			"recipient_id": rcB, "on": time.Now().UTC().Format("2006-01-02")})
		waitFor(t, "XA's export answered", func() reply {
			return must(t, 200, A, "GET", "/api/v1/transplant/exports", wa.Regulator, nil)
		}, func(r reply) bool {
			xs := list(r, "exports")
			return len(xs) == 1 && xs[0]["outcome"] == "transplanted" && xs[0]["recipient_ref"] == rcB
		})
		tr := must(t, 200, A, "GET", "/api/v1/transplant/trace/organs/"+crosses, wa.Regulator, nil)
		organs := tr.Body["donors"].([]any)[0].(map[string]any)["organs"].([]any)
		var seen int
		for _, o := range organs {
			o := o.(map[string]any)
			if o["id"] == crosses {
				x, _ := o["export"].(map[string]any)
				if o["status"] != "exported" || x == nil || x["destination_country"] != "XB" || x["recipient_ref"] != rcB || x["outcome_centre"] != "Centre A" {
					t.Fatalf("XA's trace of the kidney sent to XB: %v", o)
				}
				seen++
			}
			if o["id"] == stays && o["status"] != "transplanted" {
				t.Fatalf("XA's trace of the kidney that stayed: %v", o)
			}
		}
		if seen != 1 {
			t.Fatalf("XA's trace: %s", tr.Raw)
		}
		trB := must(t, 200, B, "GET", "/api/v1/transplant/trace/recipients/"+rcB, wb.Regulator, nil)
		if imp := list(trB, "imported"); len(imp) != 1 || imp[0]["organ_id"] != crosses || imp[0]["origin_country"] != "XA" || imp[0]["donor_ref"] != donorID {
			t.Fatalf("XB's trace of its recipient: %s", trB.Raw)
		}

		// A serious adverse reaction in XA's recipient, reported by XA's
		// regulator: XA's centre and XB's registry are notified.
		now := time.Now().UTC()
		sae := must(t, 201, A, "POST", "/api/v1/transplant/sae", wa.Regulator, map[string]any{"kind": "reaction", "donor_id": donorID,
			"recipient_ids": []string{rcA}, "contact": "Vigilance desk XA, +00 000 000",
			"started_at": now.Add(-3 * time.Hour).Format(time.RFC3339), "detected_at": now.Add(-2 * time.Hour).Format(time.RFC3339),
			"description": "Donor-derived infection suspected in the recipient (synthetic).", "immediate_measures": "Recipients of the donor's organs screened."})
		reportID := sae.str("report_id")
		fr, _ := sae.Body["foreign_registries"].([]any)
		if len(fr) != 1 || fr[0] != pB {
			t.Fatalf("the report's foreign registries: %s", sae.Raw)
		}
		var centreNote, peerNote string
		for _, n := range list(sae, "notifications") {
			switch {
			case n["centre_id"] == wa.CentreA:
				centreNote = n["id"].(string)
			case n["peer_id"] == pB:
				peerNote = n["id"].(string)
			}
		}
		if centreNote == "" || peerNote == "" {
			t.Fatalf("notifications: %s", sae.Raw)
		}
		// XB receives it and notifies its centre that transplanted the kidney.
		fs := waitFor(t, "XB's copy of the report", func() reply {
			return call(B, "GET", "/api/v1/transplant/foreign-sae/"+reportID, wb.Regulator, nil)
		}, func(r reply) bool { return r.Status == 200 })
		notes := list(fs, "notifications")
		if len(notes) != 1 || notes[0]["centre_id"] != wb.CentreA || fs.str("acknowledged_at") != "" || fs.str("donor_ref") != donorID {
			t.Fatalf("XB's report: %s", fs.Raw)
		}
		// Only the notified centre acknowledges.
		if r := must(t, 403, B, "POST", "/api/v1/transplant/foreign-notifications/"+notes[0]["id"].(string)+"/acknowledge", wb.CoordB, nil); r.str("error.rule") != "own_centre" {
			t.Fatalf("another centre's acknowledgement: %s", r.Raw)
		}
		must(t, 200, B, "POST", "/api/v1/transplant/foreign-notifications/"+notes[0]["id"].(string)+"/acknowledge", wb.CoordA, nil)
		must(t, 200, A, "POST", "/api/v1/transplant/notifications/"+centreNote+"/acknowledge", wa.CoordA, nil)
		// XB's acknowledgement reaches XA by a message.
		got := waitFor(t, "XB's acknowledgement in XA", func() reply {
			return must(t, 200, A, "GET", "/api/v1/transplant/sae/"+reportID, wa.Regulator, nil)
		}, func(r reply) bool {
			for _, n := range list(r, "notifications") {
				if n["id"] == peerNote {
					return n["acknowledged_at"] != nil && n["acknowledged_at"] != ""
				}
			}
			return false
		})
		for _, n := range list(got, "notifications") {
			if n["acknowledged_at"] == nil || n["acknowledged_at"] == "" {
				t.Fatalf("a notification not acknowledged: %s", got.Raw)
			}
		}
		// The final report closes the case and reaches XB.
		closed := must(t, 200, A, "POST", "/api/v1/transplant/sae/"+reportID+"/final-report", wa.Regulator, map[string]any{"conclusion": "confirmed",
			"outcome": "Donor-derived infection confirmed; both recipients treated.", "corrective_actions": "Donor screening protocol revised."})
		if closed.str("state") != "closed" {
			t.Fatalf("final report: %s", closed.Raw)
		}
		waitFor(t, "XB's copy of the final report", func() reply {
			return must(t, 200, B, "GET", "/api/v1/transplant/foreign-sae/"+reportID, wb.Regulator, nil)
		}, func(r reply) bool { return r.str("conclusion") == "confirmed" && r.str("final_reported_at") != "" })

		// A reaction raised in XB on the imported kidney reaches XA, which
		// notifies its centre; XB's own notification there is recorded
		// acknowledged, and XB links XA's report to its own.
		raised := must(t, 201, B, "POST", "/api/v1/transplant/foreign-sae", wb.CoordA, map[string]any{"kind": "reaction", "organ_id": crosses,
			"recipient_ids": []string{rcB}, "contact": "Transplant unit, Centre A of XB",
			"started_at": now.Add(-2 * time.Hour).Format(time.RFC3339), "detected_at": now.Add(-time.Hour).Format(time.RFC3339),
			"description": "Graft dysfunction with suspected donor-derived tumour (synthetic).", "immediate_measures": "Graft biopsy; XA informed."})
		raisedID := raised.str("raised_report_id")
		if raisedID == "" || raised.str("peer_id") != pA {
			t.Fatalf("the report raised in XB: %s", raised.Raw)
		}
		linked := waitFor(t, "XA's report of XB's reaction", func() reply {
			return must(t, 200, B, "GET", "/api/v1/transplant/foreign-sae/"+raisedID, wb.Regulator, nil)
		}, func(r reply) bool { return r.str("origin_report_id") != "" })
		second := must(t, 200, A, "GET", "/api/v1/transplant/sae/"+linked.str("origin_report_id"), wa.Regulator, nil)
		if second.str("raised_by_peer") != pB || second.str("raised_report_id") != raisedID {
			t.Fatalf("XA's report of XB's reaction: %s", second.Raw)
		}
		for _, n := range list(second, "notifications") {
			if n["peer_id"] == pB && (n["acknowledged_at"] == nil || n["acknowledged_at"] == "") {
				t.Fatalf("XB's notification of its own report is not recorded acknowledged: %s", second.Raw)
			}
			if n["centre_id"] == wa.CentreA && n["acknowledged_at"] != nil && n["acknowledged_at"] != "" {
				t.Fatalf("XA's centre's notification is acknowledged before it acknowledged: %s", second.Raw)
			}
		}

		// Nothing was refused, and both logs verify.
		for _, p := range []*peerSide{a, b} {
			for _, m := range list(p.get(t, "/api/v1/exchange/outbox?limit=1000"), "messages") {
				if m["state"] == "refused" {
					t.Errorf("%s refused %v", p.reg.DSN, m)
				}
			}
		}
		a.srv.stop()
		b.srv.stop()
		verifyLog(t, a.reg.DSN, a.reg.PublicKey)
		verifyLog(t, b.reg.DSN, b.reg.PublicKey)
	})
}
