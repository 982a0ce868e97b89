package httpapi_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestRequiredFields checks that each field the OpenAPI document says a
// request body requires (a field tagged api:"required") is one the API
// refuses a body without, naming it, and changing nothing; and that the
// body with all of them is accepted, both meeting the schemas the document
// gives for the request and its answer. Every operation whose schema
// requires a field has a valid body here (requestSteps): tagging another
// type's fields needs one, so that the document cannot claim what the API
// does not do.
func TestRequiredFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, doc, steps := requestSteps(t, dsn)
		validate := openAPIValidator(t, w.Env)
		// The operations whose body requires fields, and those fields.
		want := map[string][]string{}
		for path, item := range doc["paths"].(map[string]any) {
			for method, op := range item.(map[string]any) {
				op := op.(map[string]any)
				if op["deprecated"] == true {
					continue
				}
				if req := requiredOf(doc, op); len(req) > 0 {
					want[strings.ToUpper(method)+" "+path] = req
				}
			}
		}
		for _, s := range steps {
			req, ok := want[s.op]
			if !ok {
				t.Errorf("%s requires no field in the document", s.op)
			}
			delete(want, s.op)
			method, pattern, _ := strings.Cut(s.op, " ")
			for _, f := range req {
				body := s.body()
				if !cut(body, f) {
					top, _, _ := strings.Cut(strings.SplitN(f, ".", 2)[0], "[")
					if _, ok := body[top]; !ok && top != f {
						continue // a field of the items of a list the valid body leaves out
					}
					t.Fatalf("%s: the valid body has no %s", s.op, f)
				}
				size := w.LogSize(t)
				res := w.Do(t, method, s.path(), s.token(), body)
				// An object is refused by the first of its own fields the
				// service checks (an assessment without donor, by
				// donor.nationality).
				if field := res.Str("error.field"); res.Status/100 != 4 || (field != f && !strings.HasPrefix(field, f+".")) {
					t.Errorf("%s without %s: %d %s, want a refusal naming %s", s.op, f, res.Status, res.Raw, f)
				}
				// A refusal that matters to oversight is logged as an
				// alert (a transplant authorized without a declaration
				// of no payment); nothing else is.
				if e, _ := res.Body["error"].(map[string]any); e["alert"] == true {
					size++
				}
				if n := w.LogSize(t); n != size {
					t.Errorf("%s without %s: the log grew from %d to %d", s.op, f, size, n)
				}
			}
			body := s.body()
			validate(method, pattern, "request", body)
			if res := s.do(t, w, body); res.Status != 204 {
				validate(method, pattern, "response", res.Body)
			}
		}
		for _, op := range slices.Sorted(maps.Keys(want)) {
			t.Errorf("%s requires %v in the document, and this test has no valid body to check it by", op, want[op])
		}
	})
}

// TestEnumFields checks that each closed list the document gives a field
// of a request body of requestSteps (its enum, of a string or of a list's
// strings; a field of the body or of an object or list item it holds) is the list the API checks the field against: a value outside
// it is refused naming the field, and no value of it is refused by that
// same rule. A field is tried in the valid body of its operation, which
// gives it. The lists are declared from the Go values the services check
// (Route.Enums); this checks each declaration names the list its field is
// checked against.
func TestEnumFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, doc, steps := requestSteps(t, dsn)
		checked := 0
		var nested []string
		for _, s := range steps {
			method, pattern, _ := strings.Cut(s.op, " ")
			op := doc["paths"].(map[string]any)[pattern].(map[string]any)[strings.ToLower(method)].(map[string]any)
			enums := enumsOf(doc, op)
			// The valid body first: a value tried after may change the
			// record (a second review, a measure that releases the asset),
			// never the ids the next steps take.
			valid := s.body()
			s.do(t, w, valid)
			for _, f := range slices.Sorted(maps.Keys(enums)) {
				if m, name := field(valid, f); m == nil {
					continue // a list the valid body leaves empty or out
				} else if _, ok := m[name]; !ok {
					continue // its values may need others' (a confiscation's type)
				}
				values, list := enums[f].values, enums[f].list
				set := func(v string) map[string]any {
					body := s.body()
					m, name := field(body, f)
					if list {
						m[name] = []string{v}
					} else {
						m[name] = v
					}
					return body
				}
				out := w.Do(t, method, s.path(), s.token(), set("not_a_listed_value"))
				rule, field := out.Str("error.rule"), out.Str("error.field")
				if out.Status/100 != 4 || (field != f && field != f+"[0]") {
					t.Errorf("%s with %s outside its enum: %d %s, want a refusal naming %s", s.op, f, out.Status, out.Raw, f)
					continue
				}
				for _, v := range values {
					res := w.Do(t, method, s.path(), s.token(), set(v))
					if res.Status/100 == 4 && res.Str("error.rule") == rule && res.Str("error.field") == field {
						t.Errorf("%s with %s %q, a value of its enum: refused as a value outside it: %s", s.op, f, v, res.Raw)
					}
				}
				checked++
				if strings.ContainsAny(f, ".[") {
					nested = append(nested, s.op+" "+f)
				}
			}
		}
		// Some are fields of an object the body holds (an assessment's
		// donor.sex).
		if len(nested) == 0 {
			t.Errorf("no listed field of a nested object or list item checked")
		}
		// The steps' bodies have a score of listed fields: finding few
		// means the reading of the document broke.
		if checked < 30 {
			t.Errorf("only %d listed fields checked", checked)
		}
	})
}

// requestStep is one operation of requestSteps: its documented method and
// path, and how to send it a valid body.
type requestStep struct {
	op    string                // method and documented path
	at    string                // the path, {name} standing for ids[name]
	tok   *string               // the token it is sent with
	body  func() map[string]any // a valid body, new at each call
	after func(*apptest.Response)
	ids   map[string]string
}

func (s requestStep) path() string {
	p := s.at
	for k, v := range s.ids {
		p = strings.ReplaceAll(p, "{"+k+"}", v)
	}
	return p
}

func (s requestStep) token() string { return *s.tok }

// do sends body, wants it accepted (200 or 201) and records what the next
// steps need.
func (s requestStep) do(t *testing.T, w *apptest.World, body map[string]any) *apptest.Response {
	t.Helper()
	method, _, _ := strings.Cut(s.op, " ")
	res := w.Do(t, method, s.path(), s.token(), body)
	if res.Status != 200 && res.Status != 201 && res.Status != 204 {
		t.Fatalf("%s with a valid body: %d %s", s.op, res.Status, res.Raw)
	}
	if s.after != nil {
		s.after(res)
	}
	return res
}

// requestSteps starts a registry and returns it, its OpenAPI document and
// the write operations of each registry whose bodies have required fields,
// in an order where each step makes what the next ones refer to: the
// core's authorities and principals; the transplantation's main chain and
// the assignment of an organ received from abroad and its reassignment;
// hash matching's banks, reviews, reports, removals, disputes, a reopened
// case and
// retroactive matching; asset recovery's cases, persons, assets, measures
// and requests; statistics' mappings and withdrawals; the exchange's
// peers.
func requestSteps(t *testing.T, dsn string) (*apptest.World, map[string]any, []requestStep) {
	t.Helper()
	w := apptest.NewWorld(t, dsn)
	doc := w.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil).Body
	hw := apptest.HashmatchParties(t, w.Env)
	// An organ another registry sent naming no centre here, for the
	// regulator to assign.
	im := apptest.ImportedOrgans(t, w, dsn)
	ids := map[string]string{"unassigned": im.Unnamed, "named": im.Named, "held": im.Held, "received": im.Recipient}
	var officer, officerXB, statistician, assessor string
	id := func(name string) func(*apptest.Response) {
		return func(r *apptest.Response) { ids[name] = r.Str("id") }
	}
	n := 0
	next := func() int { n++; return n }
	given := time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02")
	steps := []requestStep{
		// The core.
		{op: "POST /api/v1/authorities", tok: &w.Admin, after: id("ca"), body: func() map[string]any {
			return map[string]any{"name": "Central Authority of Demoland", "kind": "central_authority", "jurisdiction": "XA"}
		}},
		{op: "POST /api/v1/principals", tok: &w.Admin, after: func(r *apptest.Response) { officer = r.Str("token") }, body: func() map[string]any {
			return map[string]any{"name": "Officer", "role": "central_authority_officer", "authority_id": ids["ca"]}
		}},
		// The transplantation's main chain.
		{op: "POST /api/v1/transplant/donors", tok: &w.CoordA, after: id("donor"), body: func() map[string]any { return apptest.DeceasedDonor(w.CentreA) }},
		{op: "POST /api/v1/transplant/donors/{id}/consents", at: "/api/v1/transplant/donors/{donor}/consents", tok: &w.CoordA, body: func() map[string]any {
			return map[string]any{"kind": "donor_registry_authorization", "given_on": given, "assessed_by": "registry check",
				"assessor_independent": true, "voluntary": true, "informed": true}
		}},
		{op: "POST /api/v1/transplant/procurements", tok: &w.CoordA, after: func(r *apptest.Response) {
			ids["organ"] = r.Body["organs"].([]any)[0].(map[string]any)["id"].(string)
			ids["liver"] = r.Body["organs"].([]any)[1].(map[string]any)["id"].(string)
			ids["exported"] = r.Body["organs"].([]any)[2].(map[string]any)["id"].(string)
		}, body: func() map[string]any {
			return map[string]any{"donor_id": ids["donor"], "centre_id": w.CentreA, "procured_at": apptest.Hours(5), "organs": []string{"kidney", "liver", "kidney"}}
		}},
		// The second kidney sent to the registry the imported organs came from.
		{op: "POST /api/v1/transplant/exports", tok: &w.CoordA, body: func() map[string]any {
			return map[string]any{"organ_id": ids["exported"], "peer_id": im.ToOrigin, "destination_centre": "Centre A"}
		}},
		{op: "POST /api/v1/transplant/recipients", tok: &w.CoordA, after: func(r *apptest.Response) {
			ids["recipient"] = r.Str("id")
			ids["waiting"] = w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")
		}, body: func() map[string]any { return apptest.Recipient(w.CentreA, "kidney") }},
		{op: "POST /api/v1/transplant/transplant-authorizations", tok: &w.CoordA, after: id("authorization"), body: func() map[string]any {
			return map[string]any{"organ_id": ids["organ"], "recipient_id": ids["recipient"], "centre_id": w.CentreA, "authorized_by": "Dr. M",
				"compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}
		}},
		{op: "POST /api/v1/transplant/transplants", tok: &w.CoordA, after: id("transplant"), body: func() map[string]any {
			return map[string]any{"organ_id": ids["organ"], "recipient_id": ids["recipient"], "centre_id": w.CentreA,
				"performed_at": apptest.Hours(1), "authorization_id": ids["authorization"]}
		}},
		// Oversight: another recipient's registration suspended, and a
		// resident's transplant abroad.
		{op: "POST /api/v1/transplant/recipients/{id}/waitlist", at: "/api/v1/transplant/recipients/{waiting}/waitlist", tok: &w.CoordA, body: func() map[string]any {
			return map[string]any{"status": transplant.WaitlistSuspended, "reason": "temporarily_unfit", "changed_on": time.Now().UTC().Format("2006-01-02")}
		}},
		{op: "POST /api/v1/transplant/abroad", tok: &w.CoordA, after: id("abroad"), body: func() map[string]any {
			return map[string]any{"kind": transplant.AbroadTransplant, "name": "Resident Treated Abroad (synthetic)", "sex": "female", "date_of_birth": "1970-01-01",
				"country": "XB", "organ": "kidney", "performed_on": time.Now().UTC().AddDate(0, 0, -200).Format("2006-01-02"), "known_through": "returning_patient",
				"donor_type": "deceased", "donor_relation": "not_applicable", "donor_nationality": "XB", "payment_reported": "no", "medical_records": "yes"}
		}},
		// Its follow-up of month 6, due now.
		{op: "POST /api/v1/transplant/followups", tok: &w.CoordA, body: func() map[string]any {
			return map[string]any{"subject_id": ids["abroad"], "due_month": 6, "followed_up_on": time.Now().UTC().Format("2006-01-02"),
				"vital_status": "alive", "graft_status": "functioning", "complications": []string{"none"}, "psychosocial_care": "not_needed"}
		}},
		// Audits: one of centre A, held, its finding, the corrective action
		// it asks for, done.
		{op: "POST /api/v1/transplant/audits", tok: &w.Regulator, after: id("audit"), body: func() map[string]any {
			return map[string]any{"centre_id": w.CentreA, "planned_on": given, "scope": "Consent records of 2024."}
		}},
		{op: "POST /api/v1/transplant/audits/{id}/findings", at: "/api/v1/transplant/audits/{audit}/findings", tok: &w.Regulator, after: id("finding"), body: func() map[string]any {
			return map[string]any{"severity": "major", "description": "Two consents were not countersigned."}
		}},
		{op: "POST /api/v1/transplant/audit-findings/{id}/actions", at: "/api/v1/transplant/audit-findings/{finding}/actions", tok: &w.Regulator, after: id("action"), body: func() map[string]any {
			return map[string]any{"action": "Countersign every consent.", "due_on": time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02")}
		}},
		{op: "POST /api/v1/transplant/corrective-actions/{id}/done", at: "/api/v1/transplant/corrective-actions/{action}/done", tok: &w.Regulator, body: func() map[string]any {
			return map[string]any{"done_on": time.Now().UTC().Format("2006-01-02"), "note": "Every consent of the year checked."}
		}},
		// Across borders: an organ received from abroad assigned to a centre.
		{op: "POST /api/v1/transplant/imports/{id}/assignment", at: "/api/v1/transplant/imports/{unassigned}/assignment", tok: &w.Regulator,
			body: func() map[string]any { return map[string]any{"centre_id": w.CentreB} }},
		// Then moved to centre A.
		{op: "POST /api/v1/transplant/imports/{id}/reassignment", at: "/api/v1/transplant/imports/{unassigned}/reassignment", tok: &w.Regulator,
			body: func() map[string]any {
				return map[string]any{"centre_id": w.CentreA, "reason": "The organ was driven to centre A."}
			}},
		// The organ from abroad sent to centre A by name discarded, and a
		// reaction of the recipient of the one transplanted there reported
		// to its registry of origin.
		{op: "POST /api/v1/transplant/imports/{id}/outcome", at: "/api/v1/transplant/imports/{named}/outcome", tok: &w.CoordA, body: func() map[string]any {
			return map[string]any{"outcome": "discarded", "on": time.Now().UTC().Format("2006-01-02"), "reason": "damaged in transport"}
		}},
		{op: "POST /api/v1/transplant/foreign-sae", tok: &w.CoordA, body: func() map[string]any {
			return map[string]any{"kind": "reaction", "organ_id": ids["held"], "recipient_ids": []string{ids["received"]}, "contact": "Vigilance desk",
				"started_at": apptest.Hours(1), "detected_at": apptest.Hours(0), "description": "Fever.", "immediate_measures": "None."}
		}},
		// Vigilance: a reaction of the recipient, its final report; the
		// liver handed off, then discarded.
		{op: "POST /api/v1/transplant/sae", tok: &w.CoordA, after: id("sae"), body: func() map[string]any {
			return map[string]any{"kind": "reaction", "organ_id": ids["organ"], "recipient_ids": []string{ids["recipient"]}, "contact": "Vigilance desk",
				"started_at": apptest.Hours(1), "detected_at": apptest.Hours(0), "description": "Fever.", "immediate_measures": "None."}
		}},
		{op: "POST /api/v1/transplant/sae/{id}/final-report", at: "/api/v1/transplant/sae/{sae}/final-report", tok: &w.Regulator, body: func() map[string]any {
			return map[string]any{"conclusion": "confirmed", "outcome": "Recovered.", "corrective_actions": "None needed."}
		}},
		{op: "POST /api/v1/transplant/handoffs", tok: &w.CoordA, body: func() map[string]any {
			return map[string]any{"organ_id": ids["liver"], "step": "procurement_theatre", "place": "Theatre 1"}
		}},
		{op: "POST /api/v1/transplant/dispositions", tok: &w.CoordA, body: func() map[string]any {
			return map[string]any{"organ_id": ids["liver"], "outcome": "discarded", "reason": "organ_quality", "disposed_at": apptest.Hours(0)}
		}},
		// Suspected trafficking: a report filed, moved on and opened by
		// the designated authority; another, under assessment, assessed.
		{op: "POST /api/v1/transplant/trafficking/reports", tok: &w.CoordA, after: func(r *apptest.Response) {
			ids["report"] = r.Str("reference")
			ids["assessed"] = w.Must(t, 201, "POST", "/api/v1/transplant/trafficking/reports", w.CoordA, map[string]any{"indicators": []string{"finance.payment_to_donor"},
				"text": "Synthetic report to assess."}).Str("reference")
			w.Must(t, 200, "POST", "/api/v1/transplant/trafficking/reports/"+ids["assessed"]+"/status", assessor, map[string]any{"status": transplant.TraffickingUnderAssessment})
		}, body: func() map[string]any {
			return map[string]any{"indicators": []string{"finance.payment_to_donor"}, "text": "Synthetic report."}
		}},
		{op: "POST /api/v1/transplant/trafficking/reports/{id}/status", at: "/api/v1/transplant/trafficking/reports/{report}/status", tok: &assessor, body: func() map[string]any {
			return map[string]any{"status": transplant.TraffickingUnderAssessment}
		}},
		{op: "POST /api/v1/transplant/trafficking/reports/{id}/transplants", at: "/api/v1/transplant/trafficking/reports/{report}/transplants", tok: &assessor,
			body: func() map[string]any { return map[string]any{"transplant_id": ids["transplant"]} }},
		{op: "POST /api/v1/transplant/trafficking/reports/{id}/transplants/{transplant}/withdraw", at: "/api/v1/transplant/trafficking/reports/{report}/transplants/{transplant}/withdraw",
			tok: &assessor, body: func() map[string]any {
				return map[string]any{"reason": "Linked in error: another recipient's transplantation"}
			}},
		{op: "POST /api/v1/transplant/trafficking/reports/{id}/content", at: "/api/v1/transplant/trafficking/reports/{report}/content", tok: &assessor, body: func() map[string]any {
			return map[string]any{"purpose": "assessment of the report"}
		}},
		{op: "POST /api/v1/transplant/trafficking/reports/{id}/reporter", at: "/api/v1/transplant/trafficking/reports/{report}/reporter", tok: &assessor, body: func() map[string]any {
			return map[string]any{"purpose": "a question to the reporter"}
		}},
		{op: "POST /api/v1/transplant/trafficking/assessments/{id}", at: "/api/v1/transplant/trafficking/assessments/{assessed}", tok: &assessor, body: func() map[string]any {
			return map[string]any{"conclusion": transplant.AssessmentConfirmed, "year": 2024, "organ": "kidney",
				"donor":     map[string]any{"nationality": "XB", "sex": "male", "age_band": "25-34"},
				"recipient": map[string]any{"nationality": "XA", "sex": "female", "age_band": "45-54"}}
		}},
		// Hash matching: a bank whose entries e1 and e2 open a case each.
		{op: "POST /api/v1/hashmatch/authorities", tok: &w.Admin, body: func() map[string]any {
			return map[string]any{"name": fmt.Sprintf("Hotline %d", next()), "kind": "competent_authority"}
		}},
		{op: "POST /api/v1/hashmatch/banks", tok: &hw.Analyst, after: func(r *apptest.Response) {
			ids["bank"] = r.Str("id")
			publish(t, hw, ids["bank"], 1, 2)
			hw.Subscribe(t, ids["bank"])
			cases := matched(t, hw, 1, 2)
			ids["confirmed"], ids["rejected"] = cases[0], cases[1]
		}, body: func() map[string]any { return map[string]any{"name": "Known material", "kind": "known"} }},
		{op: "POST /api/v1/hashmatch/banks/{id}/versions", at: "/api/v1/hashmatch/banks/{bank}/versions", tok: &hw.Analyst, body: func() map[string]any {
			n := 100 + next()
			return map[string]any{"adds": []map[string]any{{"entry_id": fmt.Sprintf("e%d", n), "pdq": apptest.PDQHex(n), "classification": "A1"}}}
		}},
		{op: "POST /api/v1/hashmatch/cases/{id}/review", at: "/api/v1/hashmatch/cases/{confirmed}/review", tok: &hw.Reviewer, after: func(*apptest.Response) {
			w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+ids["rejected"]+"/review", hw.Reviewer, map[string]any{"decision": "reject", "note": "a landscape"})
		}, body: func() map[string]any { return map[string]any{"decision": "confirm"} }},
		{op: "POST /api/v1/hashmatch/cases/{id}/report", at: "/api/v1/hashmatch/cases/{confirmed}/report", tok: &hw.Reviewer, body: func() map[string]any {
			return map[string]any{"incident_type": "child_sexual_abuse_material"}
		}},
		{op: "POST /api/v1/hashmatch/cases/{id}/removal", at: "/api/v1/hashmatch/cases/{confirmed}/removal", tok: &hw.Reviewer, body: func() map[string]any {
			return map[string]any{"action": "removed"}
		}},
		{op: "POST /api/v1/hashmatch/cases/{id}/dispute", at: "/api/v1/hashmatch/cases/{rejected}/dispute", tok: &hw.Reviewer, body: func() map[string]any {
			return map[string]any{"note": "a landscape photograph"}
		}},
		{op: "POST /api/v1/hashmatch/banks/{id}/entries/{entry}/disputes/review", at: "/api/v1/hashmatch/banks/{bank}/entries/e2/disputes/review", tok: &hw.Analyst,
			body: func() map[string]any { return map[string]any{"decision": "keep", "reason": "the entry is right"} }},
		// The owner kept the entry: the reviewer reopens the case it rejected.
		{op: "POST /api/v1/hashmatch/cases/{id}/reopen", at: "/api/v1/hashmatch/cases/{rejected}/reopen", tok: &hw.Reviewer, body: func() map[string]any {
			return map[string]any{"reason": "the owner kept the entry; the rejection was a slip"}
		}},
		{op: "POST /api/v1/hashmatch/retro", tok: &hw.Service, body: func() map[string]any { return map[string]any{"retention_days": 10 + next()} }},
		{op: "POST /api/v1/hashmatch/banks/{id}/import", at: "/api/v1/hashmatch/banks/{bank}/import", tok: &hw.Analyst, body: func() map[string]any {
			return map[string]any{"format": "hex", "content": apptest.PDQHex(200+next()) + "\n"}
		}},
		{op: "POST /api/v1/hashmatch/match", tok: &hw.Service, body: func() map[string]any {
			return map[string]any{"items": []map[string]any{{"pdq": apptest.PDQHex(300 + next()), "quality": 100}}}
		}},
		// Asset recovery, as the central authority's officer of the first
		// steps.
		{op: "POST /api/v1/assets/cases", tok: &officer, after: func(r *apptest.Response) {
			ids["case"] = r.Str("id")
			ids["case2"] = w.Must(t, 201, "POST", "/api/v1/assets/cases", officer, map[string]any{"reference": "AR-LINKED", "title": "Laundering", "kind": "domestic",
				"offences": []string{"0703"}, "opened_on": "2024-01-06"}).Str("id")
		}, body: func() map[string]any {
			return map[string]any{"reference": fmt.Sprintf("AR-%d", next()), "title": "Bribery", "kind": "domestic", "offences": []string{"0703"}, "opened_on": "2024-01-05"}
		}},
		{op: "POST /api/v1/assets/cases/{id}/persons", at: "/api/v1/assets/cases/{case}/persons", tok: &officer, body: func() map[string]any {
			return map[string]any{"kind": "natural", "role": "suspect", "country": "XA", "name": "Test Suspect (synthetic)"}
		}},
		{op: "POST /api/v1/assets/cases/{id}/assets", at: "/api/v1/assets/cases/{case}/assets", tok: &officer, after: id("asset"), body: func() map[string]any {
			return map[string]any{"type": "real_estate", "jurisdiction": "XA", "description": "Villa", "value": "750000", "currency": "EUR",
				"identified_on": "2024-01-10", "instrument": "Land registry search", "authority": "ARO"}
		}},
		{op: "POST /api/v1/assets/assets/{id}/measures", at: "/api/v1/assets/assets/{asset}/measures", tok: &officer, body: func() map[string]any {
			return map[string]any{"step": "seized", "decided_on": "2024-02-01", "instrument": "Seizure order 12", "amount": "750000", "currency": "EUR", "authority": "Investigating judge"}
		}},
		{op: "POST /api/v1/assets/cases/{id}/links", at: "/api/v1/assets/cases/{case}/links", tok: &officer, body: func() map[string]any {
			return map[string]any{"other_id": ids["case2"], "reason": "the same suspect"}
		}},
		{op: "POST /api/v1/assets/rates", tok: &officer, after: func(*apptest.Response) {
			// The beneficial ownership statements of a company and the
			// person owning it, whose data the regulator erases.
			b := &bods.Builder{Prefix: "required", Date: "2026-05-01", Publisher: "Demoland companies register"}
			stmts := bytes.Join([][]byte{b.Entity("E", "Open Company Ltd", "XA", ""), b.Person("P", "Ownia Namesake (synthetic)", ""),
				b.Relationship("r", "E", "P", []float64{60}, "")}, []byte("\n"))
			w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=register.jsonl", officer, append(stmts, '\n'))
		}, body: func() map[string]any {
			return map[string]any{"currency": "USD", "to": "EUR", "year": 2024, "rate": "0.92", "source": "ECB reference rate"}
		}},
		{op: "POST /api/v1/assets/bods/persons/{id}/erasure", at: "/api/v1/assets/bods/persons/P/erasure", tok: &w.Regulator, body: func() map[string]any {
			return map[string]any{"ground": "unlawfully_processed", "reference": "DPO decision 2026/14"}
		}},
		// The directory entry of the other state's central authority, as
		// the administrator copies it, and a complete request to it, sent:
		// asked about and used.
		{op: "POST /api/v1/assets/directory", tok: &w.Admin, after: func(r *apptest.Response) {
			rq := w.Must(t, 201, "POST", "/api/v1/assets/requests", officer, map[string]any{"type": "mla", "requested_state": "XB", "requested_authority": r.Str("id"),
				"legal_basis": "uncac_46", "assistance": []string{"documents_and_records"}, "offences": []string{"0703"},
				"facts": "Bribes reached an account in XB (synthetic).", "purpose": "Evidence for the prosecution.", "nexus": "The account received the bribes.",
				"confidentiality": "required", "dual_criminality": "Bribery is an offence in both states.", "language": "en", "use_purposes": []string{"prosecution"},
				"case_ids": []string{ids["case"]}}).Str("id")
			w.Must(t, 200, "POST", "/api/v1/assets/requests/"+rq+"/send", officer, nil)
			ids["sent"] = rq
		}, body: func() map[string]any {
			return map[string]any{"state": "XB", "kind": "central_authority", "name": "Central Authority of XB", "legal_bases": []string{"uncac_46"},
				"languages": []string{"en"}, "email": "ca@xb.example"}
		}},
		{op: "POST /api/v1/assets/requests/{id}/questions", at: "/api/v1/assets/requests/{sent}/questions", tok: &officer, after: id("question"), body: func() map[string]any {
			return map[string]any{"question": "Which bank holds the account?"}
		}},
		// The requested state's central authority answers it.
		{op: "POST /api/v1/assets/requests/{id}/questions/{qid}/answer", at: "/api/v1/assets/requests/{sent}/questions/{question}/answer", tok: &officerXB, body: func() map[string]any {
			return map[string]any{"answer": "Otherland Bank (synthetic)."}
		}},
		{op: "POST /api/v1/assets/requests/{id}/uses", at: "/api/v1/assets/requests/{sent}/uses", tok: &officer, body: func() map[string]any {
			return map[string]any{"purpose": "prosecution"}
		}},
		{op: "POST /api/v1/assets/requests", tok: &officer, after: id("request"), body: func() map[string]any {
			return map[string]any{"type": "mla", "requested_state": "XB", "legal_basis": "uncac_46", "assistance": []string{"identifying_tracing"},
				"confidentiality": "required", "use_purposes": []string{"investigation"}}
		}},
		{op: "PUT /api/v1/assets/requests/{id}", at: "/api/v1/assets/requests/{request}", tok: &officer, body: func() map[string]any {
			return map[string]any{"type": "asset_recovery", "requested_state": "XB"}
		}},
		{op: "POST /api/v1/assets/requests/{id}/status", at: "/api/v1/assets/requests/{request}/status", tok: &officer, body: func() map[string]any {
			return map[string]any{"status": "withdrawn"}
		}},
		// Statistics: a mapping, then a file imported by it and withdrawn.
		{op: "POST /api/v1/stats/mappings", tok: &statistician, after: func(*apptest.Response) {
			file := statstest.Header + "\nN001,police,offence,2024-02-01,,1" + strings.Repeat(",", 13) + "\n"
			r := w.Upload(t, "/api/v1/stats/imports?mapping=penal&source=police.csv", statistician, "text/csv", []byte(file))
			if r.Status != 201 {
				t.Fatalf("import: %d %s", r.Status, r.Raw)
			}
			ids["import"] = r.Str("id")
		}, body: func() map[string]any {
			return map[string]any{"id": "penal", "name": "Penal code", "rows": []map[string]any{{"national_code": "N001", "national_label": "Murder", "iccs": "0101"}}}
		}},
		{op: "POST /api/v1/stats/imports/{id}/withdraw", at: "/api/v1/stats/imports/{import}/withdraw", tok: &statistician, body: func() map[string]any {
			return map[string]any{"reason": "coded with the wrong mapping"}
		}},
		// The exchange.
		{op: "POST /api/v1/exchange/peers", tok: &w.Admin, after: id("peer"), body: func() map[string]any {
			pub, _, err := ed25519.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			return map[string]any{"name": "Registry of Otherland", "jurisdiction": "XB", "url": "https://registry.otherland.example",
				"public_key": base64.StdEncoding.EncodeToString(pub), "send_purposes": []string{"legal_assistance"}, "receive_purposes": []string{"legal_assistance"}}
		}},
		{op: "POST /api/v1/exchange/peers/{id}/keys", at: "/api/v1/exchange/peers/{peer}/keys", tok: &w.Admin, body: func() map[string]any {
			pub, _, err := ed25519.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			return map[string]any{"public_key": base64.StdEncoding.EncodeToString(pub), "previous_valid_until": time.Now().UTC().Add(time.Hour).Format(time.RFC3339)}
		}},
		{op: "POST /api/v1/exchange/outbox", tok: &w.Admin, after: id("message"), body: func() map[string]any {
			return map[string]any{"peer_id": ids["peer"], "type": "core.notice", "purpose": "legal_assistance", "legal_basis": "Agreement between the registries, art. 1",
				"notice": "Synthetic.", "readers": []string{"admin"}, "payload": map[string]any{"subject": "Test", "text": "A synthetic notice."}}
		}},
		// The peer's address answers nothing: the message stays pending.
		{op: "POST /api/v1/exchange/outbox/{id}/abandon", at: "/api/v1/exchange/outbox/{message}/abandon", tok: &w.Admin, body: func() map[string]any {
			return map[string]any{"reason": "the peer's registry is closed"}
		}},
	}
	caXB := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Central Authority of Otherland", "kind": "central_authority", "jurisdiction": "XB"}).Str("id")
	officerXB = w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Officer of Otherland", "role": "central_authority_officer", "authority_id": caXB}).Str("token")
	office := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
	statistician = w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
	rapporteur := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "National Rapporteur on Organ Trafficking", "kind": "trafficking_authority"}).Str("id")
	assessor = w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Assessor", "role": "trafficking_assessor", "authority_id": rapporteur}).Str("token")
	for i := range steps {
		if steps[i].at == "" {
			_, steps[i].at, _ = strings.Cut(steps[i].op, " ")
		}
		steps[i].ids = ids
	}
	return w, doc, steps
}

// requiredOf returns the fields the request body schema of op requires:
// its own by name, and by path those of the items of its lists (the first
// item's: adds[0].entry_id) and of the objects it requires. An optional
// object's (a procedure's domino_consent, a NewConsent) are checked where
// its type is a body of its own.
func requiredOf(doc, op map[string]any) []string {
	var out []string
	var walk func(prefix string, s map[string]any, depth int)
	walk = func(prefix string, s map[string]any, depth int) {
		s = resolve(doc, s)
		if s == nil || depth > 4 {
			return
		}
		req, _ := s["required"].([]any)
		for _, f := range req {
			out = append(out, prefix+f.(string))
		}
		props, _ := s["properties"].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(props)) {
			p := resolve(doc, props[name].(map[string]any))
			if items, ok := p["items"].(map[string]any); ok {
				walk(prefix+name+"[0].", items, depth+1)
			} else if p["properties"] != nil && slices.Contains(req, any(name)) {
				walk(prefix+name+".", p, depth+1)
			}
		}
	}
	walk("", requestSchema(doc, op), 0)
	return out
}

// resolve is schema s, or the named schema it refers to (or the first
// of anyOf that is one).
func resolve(doc, s map[string]any) map[string]any {
	if of, ok := s["anyOf"].([]any); ok && len(of) > 0 {
		s = of[0].(map[string]any)
	}
	name, ok := strings.CutPrefix(fmt.Sprint(s["$ref"]), "#/components/schemas/")
	if !ok {
		return s
	}
	out, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
	return out
}

// cut removes the field at path (name, name.sub, name[0].sub) from body,
// and tells whether it was there.
func cut(body map[string]any, path string) bool {
	head, rest, nested := strings.Cut(path, ".")
	name, index, list := strings.Cut(head, "[")
	v, ok := body[name]
	if !ok {
		return false
	}
	if !nested && !list {
		delete(body, name)
		return true
	}
	if list {
		var item any
		switch l := v.(type) {
		case []map[string]any:
			if len(l) == 0 {
				return false
			}
			item = l[0]
		case []any:
			if len(l) == 0 {
				return false
			}
			item = l[0]
		}
		if index != "0]" {
			return false
		}
		v = item
	}
	m, ok := v.(map[string]any)
	return ok && cut(m, rest)
}

// listed is the enum of a field: its values, and whether the field is a
// list of them.
type listed struct {
	values []string
	list   bool
}

// enumsOf returns the fields of the request body schema of op that the
// document gives an enum, by path: its own by name, those of the objects
// it holds by name.sub, those of the items of its lists by name[0].sub (the
// first item's).
func enumsOf(doc, op map[string]any) map[string]listed {
	out := map[string]listed{}
	var walk func(prefix string, s map[string]any, depth int)
	walk = func(prefix string, s map[string]any, depth int) {
		s = resolve(doc, s)
		if s == nil || depth > 4 {
			return
		}
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			p := resolve(doc, p.(map[string]any))
			l := listed{}
			if items, ok := p["items"].(map[string]any); ok {
				if items := resolve(doc, items); items["properties"] != nil {
					walk(prefix+name+"[0].", items, depth+1)
					continue
				}
				p, l.list = items, true
			} else if p["properties"] != nil {
				walk(prefix+name+".", p, depth+1)
				continue
			}
			e, _ := p["enum"].([]any)
			for _, v := range e {
				if v != nil { // a pointer's null: no value of the list
					l.values = append(l.values, v.(string))
				}
			}
			if l.values != nil {
				out[prefix+name] = l
			}
		}
	}
	walk("", requestSchema(doc, op), 0)
	return out
}

// field returns the object of body that holds the field at path (name,
// name.sub, name[0].sub) and the field's name in it; nil when body has
// no such object.
func field(body map[string]any, path string) (map[string]any, string) {
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		return body, head
	}
	name, index, list := strings.Cut(head, "[")
	v := body[name]
	if list {
		if index != "0]" {
			return nil, ""
		}
		switch l := v.(type) {
		case []map[string]any:
			if len(l) == 0 {
				return nil, ""
			}
			v = l[0]
		case []any:
			if len(l) == 0 {
				return nil, ""
			}
			v = l[0]
		default:
			return nil, ""
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, ""
	}
	return field(m, rest)
}

// requestSchema returns the named schema of the JSON request body of op,
// nil when it has none.
func requestSchema(doc, op map[string]any) map[string]any {
	rb, _ := op["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	schema, _ := media["schema"].(map[string]any)
	ref, _ := schema["$ref"].(string)
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok {
		return nil
	}
	return doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
}
