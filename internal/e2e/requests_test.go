package e2e

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/storetest"
)

// centralAuthority creates a central authority of the registry's state and
// its officer; it returns the officer's token.
func centralAuthority(t *testing.T, base, admin, name, state string) string {
	t.Helper()
	id := must(t, 201, base, "POST", "/api/v1/authorities", admin, map[string]any{"name": name, "kind": "central_authority", "jurisdiction": state}).str("id")
	return must(t, 201, base, "POST", "/api/v1/principals", admin, map[string]any{"name": "Officer of " + name, "role": "central_authority_officer",
		"authority_id": id}).str("token")
}

// TestRequestExchange runs two registries, XA and XB, as two custos serve
// processes over HTTPS, and follows a request for mutual legal assistance
// from XA's central authority to XB's over the core exchange: sent, received
// in XB, acknowledged, a request for more information asked by XB and
// answered by XA, executed with consent to onward sharing; each step reaches
// the other registry by a message. A step the lifecycle does not allow, or
// that belongs to the other side, is refused; uses of the answer beyond the
// request's stated purposes are refused. Nothing is refused on the
// exchange, and both logs verify.
func TestRequestExchange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a, b := startPeers(t, dsn)
		A, B := a.srv.URL, b.srv.URL
		purposes := []string{"legal_assistance"}
		pB, _ := peerBoth(t, a, b, purposes)
		caA := centralAuthority(t, A, a.reg.Admin, "Central Authority of XA", "XA")
		caB := centralAuthority(t, B, b.reg.Admin, "Central Authority of XB", "XB")

		// XA: the directory entry of XB's central authority, as XA's
		// administrator copies it, and a case.
		dir := must(t, 201, A, "POST", "/api/v1/assets/directory", a.reg.Admin, map[string]any{"state": "XB", "kind": "central_authority",
			"name": "Central Authority of XB", "legal_bases": []string{"uncac_46"}, "languages": []string{"en"}, "email": "ca@xb.example"}).str("id")
		caseID := must(t, 201, A, "POST", "/api/v1/assets/cases", caA, map[string]any{"reference": "XA-2026-1", "title": "Bribery in procurement (synthetic)",
			"kind": "outgoing", "offences": []string{"07031", "07041"}, "opened_on": "2026-01-05"}).str("id")
		body := map[string]any{"type": "mla", "requested_state": "XB", "requested_authority": dir, "legal_basis": "uncac_46",
			"assistance": []string{"documents_and_records"}, "offences": []string{"07031", "07041"},
			"facts": "Bribes paid to an official of XA reached an account in XB (synthetic).", "purpose": "Evidence for the prosecution.",
			"nexus": "The account received the bribes; its records prove it.", "confidentiality": "required",
			"dual_criminality": "Bribery and laundering are offences in both states.", "language": "en", "use_purposes": []string{"prosecution"},
			"case_ids": []string{caseID}, "peer_id": pB}
		// Incomplete: refused with every missing item.
		inc := map[string]any{"type": "mla", "requested_state": "XB", "peer_id": pB}
		rqBad := must(t, 201, A, "POST", "/api/v1/assets/requests", caA, inc).str("id")
		r := must(t, 422, A, "POST", "/api/v1/assets/requests/"+rqBad+"/send", caA, nil)
		if r.str("error.rule") != "incomplete" || len(list(r, "missing")) != 11 {
			t.Fatalf("an incomplete request sent: %s", r.Raw)
		}
		rq := must(t, 201, A, "POST", "/api/v1/assets/requests", caA, body).str("id")
		must(t, 200, A, "POST", "/api/v1/assets/requests/"+rq+"/send", caA, nil)

		// XB receives it.
		got := waitFor(t, "XB's copy of the request", func() reply {
			return must(t, 200, B, "GET", "/api/v1/assets/requests?direction=incoming", caB, nil)
		}, func(r reply) bool { return len(list(r, "requests")) == 1 })
		in := list(got, "requests")[0]
		rqB := in["id"].(string)
		if in["remote_id"] != rq || in["status"] != "sent" || in["requesting_state"] != "XA" || in["requested_authority_name"] != "Central Authority of XB" ||
			in["facts"] != body["facts"] || in["confidentiality"] != "required" {
			t.Fatalf("XB's copy: %s", got.Raw)
		}
		waitStatus := func(want string) {
			waitFor(t, "XA's request "+want, func() reply { return must(t, 200, A, "GET", "/api/v1/assets/requests/"+rq, caA, nil) },
				func(r reply) bool { return r.str("status") == want })
		}

		// XB acknowledges; XA sees it. XA cannot record XB's steps itself.
		must(t, 200, B, "POST", "/api/v1/assets/requests/"+rqB+"/status", caB, map[string]any{"status": "acknowledged"})
		waitStatus("acknowledged")
		if r := must(t, 409, A, "POST", "/api/v1/assets/requests/"+rq+"/status", caA, map[string]any{"status": "under_execution"}); r.str("error.rule") != "by_exchange" {
			t.Fatalf("XA records XB's step: %s", r.Raw)
		}
		if r := must(t, 409, B, "POST", "/api/v1/assets/requests/"+rqB+"/status", caB, map[string]any{"status": "executed"}); r.str("error.rule") != "request_transition" {
			t.Fatalf("executed before under execution: %s", r.Raw)
		}

		// XB asks for more information; XA answers.
		qB := must(t, 201, B, "POST", "/api/v1/assets/requests/"+rqB+"/questions", caB, map[string]any{"question": "Give the account number and the period."}).str("id")
		fa := waitFor(t, "XB's question in XA", func() reply { return must(t, 200, A, "GET", "/api/v1/assets/requests/"+rq, caA, nil) },
			func(r reply) bool { return len(list(r, "questions")) == 1 })
		qA := list(fa, "questions")[0]
		if qA["side"] != "requested" || qA["question"] != "Give the account number and the period." {
			t.Fatalf("XA's copy of the question: %s", fa.Raw)
		}
		if r := must(t, 403, B, "POST", "/api/v1/assets/requests/"+rqB+"/questions/"+qB+"/answer", caB, map[string]any{"answer": "Self-answered."}); r.str("error.rule") != "answering_side" {
			t.Fatalf("XB answers its own question: %s", r.Raw)
		}
		must(t, 200, A, "POST", "/api/v1/assets/requests/"+rq+"/questions/"+qA["id"].(string)+"/answer", caA, map[string]any{"answer": "Account XB00 0000 0001, 2024-2025 (synthetic)."})
		waitFor(t, "XA's answer in XB", func() reply { return must(t, 200, B, "GET", "/api/v1/assets/requests/"+rqB, caB, nil) },
			func(r reply) bool {
				qs := list(r, "questions")
				return len(qs) == 1 && qs[0]["answer"] == "Account XB00 0000 0001, 2024-2025 (synthetic)."
			})

		// XB executes, consenting to onward sharing.
		must(t, 200, B, "POST", "/api/v1/assets/requests/"+rqB+"/status", caB, map[string]any{"status": "under_execution"})
		must(t, 200, B, "POST", "/api/v1/assets/requests/"+rqB+"/status", caB, map[string]any{"status": "executed", "note": "Records sent by courier.", "onward_sharing": true})
		waitStatus("executed")
		fa = must(t, 200, A, "GET", "/api/v1/assets/requests/"+rq, caA, nil)
		if fa.Body["peer_onward_sharing"] != true {
			t.Fatalf("XB's consent did not reach XA: %s", fa.Raw)
		}
		var steps []string
		for _, e := range list(fa, "events") {
			st, _ := e["status"].(string)
			steps = append(steps, e["kind"].(string)+":"+st)
		}
		if got := strings.Join(steps, " "); got != "drafted:draft status:sent status:acknowledged question: answer: status:under_execution status:executed" {
			t.Errorf("XA's timeline: %s", got)
		}
		// XB reads its copy as the message carried it, with its own steps:
		// what XB's registry holds, as XB's officer reads a request of XA
		// in one registry (docs/assets.md, "What each side reads").
		fb := must(t, 200, B, "GET", "/api/v1/assets/requests/"+rqB, caB, nil)
		steps = nil
		for _, e := range list(fb, "events") {
			st, _ := e["status"].(string)
			steps = append(steps, e["kind"].(string)+":"+st)
		}
		if got := strings.Join(steps, " "); got != "received:sent status:acknowledged question: answer: status:under_execution status:executed" ||
			fb.str("status") != "executed" || fb.str("side") != "requested" || fb.str("authority_id") != "" || fb.str("drafted_at") != "" {
			t.Errorf("XB's copy: %s", fb.Raw)
		}

		// Purpose limitation and onward sharing.
		must(t, 201, A, "POST", "/api/v1/assets/requests/"+rq+"/uses", caA, map[string]any{"purpose": "prosecution"})
		if r := must(t, 403, A, "POST", "/api/v1/assets/requests/"+rq+"/uses", caA, map[string]any{"purpose": "investigation"}); r.str("error.rule") != "purpose_limitation" {
			t.Fatalf("a use beyond the stated purposes: %s", r.Raw)
		}
		must(t, 201, A, "POST", "/api/v1/assets/requests/"+rq+"/uses", caA, map[string]any{"purpose": "prosecution", "share_with": "XC"})
		if r := must(t, 403, B, "POST", "/api/v1/assets/requests/"+rqB+"/uses", caB, map[string]any{"purpose": "prosecution", "share_with": "XC"}); r.str("error.rule") != "onward_sharing" {
			t.Fatalf("XB shares XA's request without consent: %s", r.Raw)
		}

		// Nothing was refused on the exchange; both logs verify.
		for _, p := range []*peerSide{a, b} {
			for _, m := range list(p.get(t, "/api/v1/exchange/outbox?limit=1000"), "messages") {
				p.waitState(t, m["id"].(string), "acknowledged")
			}
		}
		a.srv.stop()
		b.srv.stop()
		verifyLog(t, a.reg.DSN, a.reg.PublicKey)
		verifyLog(t, b.reg.DSN, b.reg.PublicKey)
	})
}
