package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// logSize reads the size of the log from the public checkpoint endpoint.
func logSize(t *testing.T, w lister) int {
	t.Helper()
	r := w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil)
	return int(r.Body["size"].(float64))
}

func alertCount(t *testing.T, w *apptest.World) int {
	t.Helper()
	r := w.Must(t, 200, "GET", "/api/v1/alerts", w.Regulator, nil)
	return len(r.Body["alerts"].([]any))
}

// procured registers a deceased donor with consent at centre A and procures
// two kidneys and a liver; it returns the donor id and the organ ids.
func procured(t *testing.T, w *apptest.World) (string, []string) {
	t.Helper()
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{
		"kind": "family_authorization", "given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"),
		"assessed_by": "Donation coordinator", "assessor_independent": true, "voluntary": true, "informed": true})
	pr := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{
		"donor_id": donor, "centre_id": w.CentreA, "procured_at": apptest.Hours(10), "organs": []string{"kidney", "kidney", "liver"}})
	var organs []string
	for _, o := range pr.Body["organs"].([]any) {
		organs = append(organs, o.(map[string]any)["id"].(string))
	}
	if len(organs) != 3 {
		t.Fatalf("procurement gave %d organs: %s", len(organs), pr.Raw)
	}
	return donor, organs
}

// transplanted authorizes and records the transplant of organ into a new
// recipient at the coordinator's centre, and returns the recipient id.
func transplanted(t *testing.T, w *apptest.World, token, centre, organ, organType string) string {
	t.Helper()
	rc, _ := transplantedAs(t, w, token, centre, organ, organType)
	return rc
}

// transplantedAs is transplanted, returning the transplantation's id too.
func transplantedAs(t *testing.T, w *apptest.World, token, centre, organ, organType string) (recipient, transplant string) {
	t.Helper()
	rc := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", token, apptest.Recipient(centre, organType)).Str("id")
	ta := w.Must(t, 201, "POST", "/api/v1/transplant/transplant-authorizations", token, map[string]any{"organ_id": organ, "recipient_id": rc,
		"centre_id": centre, "authorized_by": "Medical director", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}).Str("id")
	tx := w.Must(t, 201, "POST", "/api/v1/transplant/transplants", token, map[string]any{"organ_id": organ, "recipient_id": rc, "centre_id": centre,
		"performed_at": apptest.Hours(0), "authorization_id": ta}).Str("id")
	return rc, tx
}

func TestTraceBothWays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		donor, organs := procured(t, w)
		rk := transplanted(t, w, w.CoordB, w.CentreB, organs[0], "kidney")
		rl := transplanted(t, w, w.CoordA, w.CentreA, organs[2], "liver")

		check := func(name, path string) {
			t.Run(name, func(t *testing.T) {
				r := w.Must(t, 200, "GET", path, w.Auditor, nil)
				ds := r.Body["donors"].([]any)
				if len(ds) != 1 {
					t.Fatalf("want one donor, got %s", r.Raw)
				}
				d := ds[0].(map[string]any)
				if got := d["donor"].(map[string]any)["id"]; got != donor {
					t.Errorf("donor %v, want %s", got, donor)
				}
				got := map[string]string{}
				for _, o := range d["organs"].([]any) {
					om := o.(map[string]any)
					rec := ""
					if tx, ok := om["transplant"].(map[string]any); ok {
						rec = tx["recipient"].(map[string]any)["id"].(string)
					}
					got[om["id"].(string)] = rec
				}
				want := map[string]string{organs[0]: rk, organs[1]: "", organs[2]: rl}
				for k, v := range want {
					if g, ok := got[k]; !ok || g != v {
						t.Errorf("organ %s: recipient %q (present %v), want %q", k, g, ok, v)
					}
				}
				if len(got) != 3 {
					t.Errorf("trace lists %d organs, want 3", len(got))
				}
			})
		}
		check("from donor", "/api/v1/transplant/trace/donors/"+donor)
		check("from kidney recipient", "/api/v1/transplant/trace/recipients/"+rk)
		check("from liver recipient", "/api/v1/transplant/trace/recipients/"+rl)
		// An organ id as a person types it back from a label.
		typed := strings.ToLower(strings.ReplaceAll(organs[1], "-", "%20"))
		check("from untransplanted organ typed back", "/api/v1/transplant/trace/organs/"+typed)

		r := w.Must(t, 200, "GET", "/api/v1/transplant/trace/recipients/"+w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id"), w.Auditor, nil)
		if n := len(r.Body["donors"].([]any)); n != 0 {
			t.Errorf("a recipient who received nothing traces to %d donors", n)
		}
		verifyOK(t, w.Env)
	})
}

func verifyOK(t *testing.T, e *apptest.Env) {
	t.Helper()
	rep, err := ledger.Verify(context.Background(), e.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: e.App.Keys.LogKey})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("log verify: %v", rep.Problems)
	}
}

// TestRefusals sends each forbidden or malformed command and checks that it is
// refused with the rule and field named, that nothing changes but the alert
// leaf where the refusal matters to oversight, and that the regulator sees it.
func TestRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		donor, organs := procured(t, w)
		done := transplanted(t, w, w.CoordA, w.CentreA, organs[0], "kidney")
		_ = done
		waitingKidney := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")
		waitingKidneyB := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordB, apptest.Recipient(w.CentreB, "kidney")).Str("id")
		waitingLiverB := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordB, apptest.Recipient(w.CentreB, "liver")).Str("id")
		living := apptest.DeceasedDonor(w.CentreA)
		living["kind"] = "living"
		delete(living, "cause_of_death")
		delete(living, "date_of_death")
		livingDonor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, living).Str("id")
		// A minor proposed as a living donor is registered; their consent
		// is refused (WHO Guiding Principle 4).
		child := apptest.DeceasedDonor(w.CentreA)
		child["kind"], child["date_of_birth"] = "living", time.Now().UTC().AddDate(-10, 0, 0).Format("2006-01-02")
		delete(child, "cause_of_death")
		delete(child, "date_of_death")
		minorDonor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, child).Str("id")
		// A living donor whose consent is recorded: the same consent again
		// is refused (docs/transplant.md, step 3).
		living["not_duplicate_reason"] = "a second living donor, whose consent is recorded"
		consentedDonor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, living).Str("id")
		consent := map[string]any{"kind": "living_informed_consent", "given_on": "2024-01-01", "assessed_by": "Independent living donor advocate",
			"assessor_independent": true, "voluntary": true, "informed": true}
		w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+consentedDonor+"/consents", w.CoordA, consent)
		// A resident's transplant abroad, valid but for what a case changes.
		abroad := func(field, value string) map[string]any {
			return with(map[string]any{"kind": "transplant", "name": "Resident Treated Abroad (synthetic)", "sex": "female", "date_of_birth": "1970-01-01",
				"country": "XB", "organ": "kidney", "performed_on": time.Now().UTC().AddDate(0, 0, -200).Format("2006-01-02"), "known_through": "returning_patient",
				"donor_type": "deceased", "donor_relation": "not_applicable", "donor_nationality": "XB", "payment_reported": "no", "medical_records": "yes"}, field, value)
		}
		// A valid-looking organ id that was never procured: right check character.
		ghost := "XA-26-999999-01-" + checkOf(t, "XA2699999901")
		badCheck := organs[1][:len(organs[1])-1] + otherChar(organs[1][len(organs[1])-1])
		authz := func(organ, recipient, centre string, pay bool) map[string]any {
			return map[string]any{"organ_id": organ, "recipient_id": recipient, "centre_id": centre, "authorized_by": "Dr. M",
				"compatibility_documented": true, "consent_verified": true, "no_payment_declared": !pay}
		}
		tx := func(organ, recipient, centre, at string) map[string]any {
			return map[string]any{"organ_id": organ, "recipient_id": recipient, "centre_id": centre, "performed_at": at}
		}
		cases := []struct {
			name         string
			method, path string
			token        string
			body         any
			status       int
			code, rule   string
			field        string
			alert        bool
		}{
			{"no token", "GET", "/api/v1/transplant/donors", "", nil, 401, "unauthorized", "authentication", "Authorization", false},
			{"unknown token", "GET", "/api/v1/transplant/donors", "cst_nope", nil, 401, "unauthorized", "authentication", "", false},
			{"malformed json", "POST", "/api/v1/transplant/donors", w.CoordA, `{"kind": "living",`, 400, "malformed", "json", "", false},
			{"not json", "POST", "/api/v1/transplant/donors", w.CoordA, `kind=living`, 400, "malformed", "json", "", false},
			{"empty body", "POST", "/api/v1/transplant/donors", w.CoordA, ``, 400, "malformed", "json", "", false},
			{"two objects", "POST", "/api/v1/transplant/donors", w.CoordA, `{} {}`, 400, "malformed", "json", "", false},
			{"unknown field", "POST", "/api/v1/transplant/donors", w.CoordA, `{"kind":"living","favourite_colour":"red"}`, 400, "malformed", "unknown_field", "favourite_colour", false},
			{"wrong type", "POST", "/api/v1/transplant/recipients", w.CoordA, `{"blood_group": 5}`, 400, "malformed", "json_type", "blood_group", false},
			{"an array for the object", "POST", "/api/v1/transplant/reimbursements", w.CoordA, `[{"donor_id": "x"}]`, 400, "malformed", "json_type", "", false},
			{"oversized body", "POST", "/api/v1/transplant/donors", w.CoordA, `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "too_large", "body_size", "", false},
			{"a query string that cannot be decoded", "GET", "/api/v1/transplant/donors?cursor=%%%%", w.CoordA, nil, 400, "malformed", "query", "", false},
			{"a path part no id is as long as", "GET", "/api/v1/transplant/donors/" + strings.Repeat("DN", 10_000), w.CoordA, nil, 404, "not_found", "path_segment", "path", false},
			{"a path part with a NUL", "GET", "/api/v1/transplant/donors/DN-X%00", w.CoordA, nil, 404, "not_found", "path_segment", "path", false},
			{"a path part with a line break", "GET", "/api/v1/transplant/donors/DN-X%0Ay", w.CoordA, nil, 404, "not_found", "path_segment", "path", false},
			{"a path part that is not UTF-8", "GET", "/api/v1/transplant/recipients/RC-%FF", w.CoordA, nil, 404, "not_found", "path_segment", "path", false},
			{"coordinator may not create centres", "POST", "/api/v1/transplant/centres", w.CoordA, map[string]any{"name": "Rogue clinic"}, 403, "forbidden", "role", "", false},
			{"coordinator may not authorize centres", "POST", "/api/v1/transplant/centres/" + w.CentreA + "/authorizations", w.CoordA, map[string]any{"activity": "procurement", "organ": "heart", "valid_from": "2020-01-01"}, 403, "forbidden", "role", "", false},
			{"auditor may not record", "POST", "/api/v1/transplant/recipients", w.Auditor, apptest.Recipient(w.CentreA, "kidney"), 403, "forbidden", "role", "", false},
			{"records only for own centre", "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreB, "kidney"), 403, "forbidden", "own_centre", "centre_id", true},
			{"deceased donor needs date of death", "POST", "/api/v1/transplant/donors", w.CoordA, without(apptest.DeceasedDonor(w.CentreA), "date_of_death"), 422, "invalid", "required", "date_of_death", false},
			{"blood group from the list", "POST", "/api/v1/transplant/donors", w.CoordA, with(apptest.DeceasedDonor(w.CentreA), "blood_group", "Z"), 422, "invalid", "enum", "blood_group", false},
			{"death before birth", "POST", "/api/v1/transplant/donors", w.CoordA, with(apptest.DeceasedDonor(w.CentreA), "date_of_death", "1960-01-01"), 422, "invalid", "dates_in_order", "date_of_death", false},
			{"the same consent recorded again", "POST", "/api/v1/transplant/donors/" + consentedDonor + "/consents", w.CoordA, consent, 409, "conflict", "duplicate_consent", "given_on", false},
			{"a residence in ZZ, the unknown state", "POST", "/api/v1/transplant/recipients", w.CoordA, with(apptest.Recipient(w.CentreA, "kidney"), "residence", "ZZ"), 422, "invalid", "known_state", "residence", false},
			{"a transplant abroad in ZZ", "POST", "/api/v1/transplant/abroad", w.CoordA, abroad("country", "ZZ"), 422, "invalid", "known_state", "country", false},
			{"a donor abroad of nationality ZZ, not unknown", "POST", "/api/v1/transplant/abroad", w.CoordA, abroad("donor_nationality", "ZZ"), 422, "invalid", "known_state", "donor_nationality", false},
			{"living consent must be independent", "POST", "/api/v1/transplant/donors/" + livingDonor + "/consents", w.CoordA, map[string]any{"kind": "living_informed_consent", "given_on": "2024-01-01", "assessed_by": "Recipient's surgeon", "assessor_independent": false, "voluntary": true, "informed": true}, 422, "invalid", "independent_assessment", "assessor_independent", false},
			{"a living donor's consent at 10", "POST", "/api/v1/transplant/donors/" + minorDonor + "/consents", w.CoordA, map[string]any{"kind": "living_informed_consent", "given_on": time.Now().UTC().Format("2006-01-02"), "assessed_by": "Independent living donor advocate", "assessor_independent": true, "voluntary": true, "informed": true}, 403, "forbidden", "living_donor_minor", "donor_id", true},
			{"living donation from a donor of 10", "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": minorDonor, "procured_at": apptest.Hours(2), "organs": []string{"kidney"}}, 403, "forbidden", "living_donor_minor", "donor_id", true},
			{"living donation without consent", "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": livingDonor, "procured_at": apptest.Hours(2), "organs": []string{"kidney"}}, 403, "forbidden", "living_consent", "donor_id", true},
			{"procurement at unauthorized centre", "POST", "/api/v1/transplant/procurements", w.CoordB, map[string]any{"donor_id": livingDonor, "procured_at": apptest.Hours(2), "organs": []string{"kidney"}}, 403, "forbidden", "centre_authorization", "organs[0]", true},
			{"procurement of an organ type the centre may not procure", "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(2), "organs": []string{"heart"}}, 403, "forbidden", "centre_authorization", "organs[0]", true},
			{"procurement of an unknown donor", "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": "DN-NOPE", "procured_at": apptest.Hours(2), "organs": []string{"kidney"}}, 404, "not_found", "reference", "donor_id", false},
			{"procurement before death", "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": "2001-01-01T00:00:00Z", "organs": []string{"kidney"}}, 422, "invalid", "dates_in_order", "procured_at", false},
			{"procurement in the future", "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": "2999-01-01T00:00:00Z", "organs": []string{"kidney"}}, 422, "invalid", "dates_in_order", "procured_at", false},
			{"a third kidney", "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(2), "organs": []string{"kidney"}}, 422, "invalid", "organ_count", "organs[0]", false},
			{"unknown organ type", "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(2), "organs": []string{"spleen"}}, 422, "invalid", "enum", "organs[0]", false},
			{"malformed organ id", "POST", "/api/v1/transplant/transplants", w.CoordA, tx("XA-26-12", waitingKidney, w.CentreA, apptest.Hours(1)), 422, "invalid", "organ_id_format", "organ_id", false},
			{"organ id with a wrong check character", "POST", "/api/v1/transplant/transplants", w.CoordA, tx(badCheck, waitingKidney, w.CentreA, apptest.Hours(1)), 422, "invalid", "organ_id_check", "organ_id", false},
			{"transplant of an organ never procured", "POST", "/api/v1/transplant/transplants", w.CoordA, tx(ghost, waitingKidney, w.CentreA, apptest.Hours(1)), 404, "not_found", "organ_procured", "organ_id", true},
			{"transplant of an organ already transplanted", "POST", "/api/v1/transplant/transplants", w.CoordA, tx(organs[0], waitingKidney, w.CentreA, apptest.Hours(1)), 409, "conflict", "organ_available", "organ_id", true},
			{"transplant without its authorization", "POST", "/api/v1/transplant/transplants", w.CoordA, tx(organs[1], waitingKidney, w.CentreA, apptest.Hours(1)), 403, "forbidden", "procedure_authorization", "authorization_id", true},
			{"transplant at a centre not authorized for the organ type", "POST", "/api/v1/transplant/transplants", w.CoordB, tx(organs[2], waitingLiverB, w.CentreB, apptest.Hours(1)), 403, "forbidden", "centre_authorization", "centre_id", true},
			{"transplant dated before procurement", "POST", "/api/v1/transplant/transplants", w.CoordB, tx(organs[1], waitingKidneyB, w.CentreB, apptest.Hours(30)), 422, "invalid", "dates_in_order", "performed_at", false},
			{"transplant of an unknown recipient", "POST", "/api/v1/transplant/transplants", w.CoordA, tx(organs[1], "RC-NOPE", w.CentreA, apptest.Hours(1)), 404, "not_found", "reference", "recipient_id", false},
			{"authorization for another centre's waiting-list recipient", "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, authz(organs[1], waitingKidneyB, w.CentreA, false), 403, "forbidden", "recipient_centre", "recipient_id", true},
			{"transplant of another centre's waiting-list recipient", "POST", "/api/v1/transplant/transplants", w.CoordA, tx(organs[1], waitingKidneyB, w.CentreA, apptest.Hours(1)), 403, "forbidden", "recipient_centre", "recipient_id", true},
			{"authorization with a payment", "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, authz(organs[1], waitingKidney, w.CentreA, true), 403, "forbidden", "no_payment", "no_payment_declared", true},
			{"authorization of another organ type than awaited", "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, authz(organs[2], waitingKidney, w.CentreA, false), 422, "invalid", "organ_type", "organ_id", false},
			{"authorization for a recipient no longer waiting", "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, authz(organs[1], done, w.CentreA, false), 422, "invalid", "waiting_list", "recipient_id", false},
			{"authorization at a centre not authorized for the organ type", "POST", "/api/v1/transplant/transplant-authorizations", w.CoordB, authz(organs[2], waitingLiverB, w.CentreB, false), 403, "forbidden", "centre_authorization", "centre_id", true},
			{"authorization of an organ already transplanted", "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, authz(organs[0], waitingKidney, w.CentreA, false), 409, "conflict", "organ_available", "organ_id", true},
			{"unknown route", "GET", "/api/v1/nowhere", w.CoordA, nil, 404, "not_found", "route", "", false},
			{"an address that takes another method", "GET", "/api/v1/transplant/transplants", w.CoordA, nil, 405, "method_not_allowed", "method", "", false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				size, alerts := logSize(t, w), alertCount(t, w)
				r := w.Do(t, c.method, c.path, c.token, c.body)
				if r.Status != c.status || r.Str("error.code") != c.code || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
					t.Fatalf("got %d %s/%s field %q, want %d %s/%s field %q: %s", r.Status, r.Str("error.code"), r.Str("error.rule"),
						r.Str("error.field"), c.status, c.code, c.rule, c.field, truncate(r.Raw))
				}
				if m := r.Str("error.message"); m == "" || m != strings.TrimSpace(m) {
					t.Errorf("the refusal's message %q is empty or starts with a blank (a field name missing?)", m)
				}
				wantDelta := 0
				if c.alert {
					wantDelta = 1
				}
				if d := logSize(t, w) - size; d != wantDelta {
					t.Errorf("log grew by %d leaves, want %d (only the alert)", d, wantDelta)
				}
				if d := alertCount(t, w) - alerts; d != wantDelta {
					t.Errorf("alerts grew by %d, want %d", d, wantDelta)
				}
			})
		}
		// A path part of 20,000 bytes is not repeated back whole.
		if r := w.Do(t, "GET", "/api/v1/transplant/donors/"+strings.Repeat("DN", 10_000), w.CoordA, nil); len(r.Raw) > 1024 {
			t.Errorf("a refusal of a 20,000-byte path part is %d bytes: %s", len(r.Raw), truncate(r.Raw))
		}
		// A wrong method says which methods the address takes.
		if r := w.Do(t, "PUT", "/api/v1/transplant/donors", w.CoordA, nil); r.Status != 405 || r.Header.Get("Allow") != "GET, POST" {
			t.Errorf("PUT on donors: %d, Allow %q: %s", r.Status, r.Header.Get("Allow"), truncate(r.Raw))
		}
		// The regulator's alert names the rule and the field.
		al := w.Must(t, 200, "GET", "/api/v1/alerts", w.Regulator, nil).Body["alerts"].([]any)[0].(map[string]any)
		if al["rule"] != "organ_available" || al["field"] != "organ_id" {
			t.Errorf("newest alert %v, want organ_available on organ_id", al)
		}
		if r := w.Do(t, "GET", "/api/v1/alerts", w.CoordA, nil); r.Status != 403 {
			t.Errorf("a coordinator reads alerts: %d", r.Status)
		}
		verifyOK(t, w.Env)
	})
}

// TestPersonalDataStaysOut checks that names and national identifiers are in
// no log leaf and no table but the sealed subjects, and that opening them is
// itself logged.
func TestPersonalDataStaysOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		d := apptest.DeceasedDonor(w.CentreA)
		d["name"], d["national_id"] = "Zebulon Quartermaine", "XA-555-777-999"
		id := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, d).Str("id")
		bad := with(d, "blood_group", "Q")
		if r := w.Do(t, "POST", "/api/v1/transplant/donors", w.CoordA, bad); strings.Contains(string(r.Raw), "Zebulon") || strings.Contains(string(r.Raw), "555-777") {
			t.Errorf("an error message carries personal data: %s", r.Raw)
		}
		q := w.App.DB.Read()
		noneHolds(t, q, []string{"log_leaves", "donors", "alerts"}, "Zebulon", "555-777", "555777")
		before := logSize(t, w)
		r := w.Must(t, 200, "POST", "/api/v1/transplant/personal-data", w.CoordA, map[string]any{"id": id, "purpose": "contact family about follow-up"})
		if r.Str("name") != "Zebulon Quartermaine" || r.Str("national_id") != "XA-555-777-999" {
			t.Errorf("personal data opened as %s", r.Raw)
		}
		if logSize(t, w) != before+1 {
			t.Error("opening personal data was not logged")
		}
		if r := w.Do(t, "POST", "/api/v1/transplant/personal-data", w.CoordB, map[string]any{"id": id, "purpose": "curiosity"}); r.Status != 403 {
			t.Errorf("another centre's coordinator opened personal data: %d", r.Status)
		}
		// The same national id links two records through their pseudonym.
		d2 := apptest.DeceasedDonor(w.CentreA)
		d2["national_id"] = "xa 555 777 999"
		r1 := w.Must(t, 200, "GET", "/api/v1/transplant/donors/"+id, w.Auditor, nil).Body["donor"].(map[string]any)
		d2["not_duplicate_reason"] = "a second donor record, to test the pseudonym"
		id2 := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, with(d2, "national_id", "XA-555-777-999")).Str("id")
		r2 := w.Must(t, 200, "GET", "/api/v1/transplant/donors/"+id2, w.Auditor, nil).Body["donor"].(map[string]any)
		if r1["person_pseudonym"] != r2["person_pseudonym"] {
			t.Error("the same national id gave two pseudonyms")
		}

		// The data subjects' rights: a rectification, refused and
		// accepted, a subject-access export and an erasure carry the
		// corrected value in no leaf, table, refusal or log line; the
		// export itself holds it, for the person.
		const canary = "Ysolde Fairweather-Canary"
		if r := w.Do(t, "POST", "/api/v1/transplant/subjects/"+id+"/rectification", w.CoordA, map[string]any{"name": canary}); r.Status != 422 || strings.Contains(string(r.Raw), "Ysolde") {
			t.Errorf("a rectification without a reason: %d %s", r.Status, r.Raw)
		}
		w.Must(t, 200, "POST", "/api/v1/transplant/subjects/"+id+"/rectification", w.CoordA, map[string]any{"name": canary, "national_id": "XA-CANARY-8080", "reason": "misspelt at registration"})
		if r := w.Do(t, "POST", "/api/v1/transplant/subjects/"+id+"/rectification", w.CoordA, map[string]any{"name": canary, "reason": "twice"}); r.Status != 422 || strings.Contains(string(r.Raw), "Ysolde") {
			t.Errorf("a rectification to the same value: %d %s", r.Status, r.Raw)
		}
		acc := w.Must(t, 200, "POST", "/api/v1/transplant/subjects/"+id+"/access", w.CoordA, map[string]any{"purpose": "the person's request"})
		if !strings.Contains(string(acc.Raw), canary) {
			t.Errorf("the subject-access export lacks the personal data: %s", acc.Raw)
		}
		if r := w.Do(t, "POST", "/api/v1/transplant/subjects/"+id+"/erasure", w.CoordA, map[string]any{"ground": "legal_obligation", "reference": "Court order 1"}); r.Status != 403 {
			t.Errorf("a coordinator erased: %d %s", r.Status, r.Raw)
		}
		w.Must(t, 200, "POST", "/api/v1/transplant/subjects/"+id+"/erasure", w.Regulator, map[string]any{"ground": "legal_obligation", "reference": "Court order 1"})
		r = w.Do(t, "POST", "/api/v1/transplant/personal-data", w.CoordA, map[string]any{"id": id, "purpose": "after erasure"})
		if r.Status != 404 || !strings.Contains(string(r.Raw), "was erased on") {
			t.Errorf("personal data after erasure: %d %s", r.Status, r.Raw)
		}
		if er, _ := w.Must(t, 200, "GET", "/api/v1/transplant/donors/"+id, w.Auditor, nil).Body["personal_data_erased"].(map[string]any); er["ground"] != "legal_obligation" || er["erased_at"] == "" {
			t.Errorf("the donor after erasure: %v", er)
		}
		noneHolds(t, q, []string{"log_leaves", "donors", "alerts", "erasures", "personal_data_corrections", "personal_data_reads"}, "Ysolde", "CANARY")
	})
}

// noneHolds fails the test for every value of the tables that contains one
// of the secrets.
func noneHolds(t *testing.T, q store.Queryer, tables []string, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	for _, table := range tables {
		rows, err := q.Query(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				s := toString(v)
				for _, secret := range secrets {
					if strings.Contains(s, secret) {
						t.Errorf("table %s holds personal data: %.80s", table, s)
					}
				}
			}
		}
		rows.Close()
	}
}

func TestLogProofs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		cp1 := w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil)
		procured(t, w)
		cp2 := w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil)
		c1, err := ledger.OpenCheckpoint(cp1.Str("checkpoint"), w.App.Keys.LogKey, "custos/XA")
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ledger.OpenCheckpoint(cp2.Str("checkpoint"), w.App.Keys.LogKey, "custos/XA")
		if err != nil {
			t.Fatal(err)
		}
		for _, idx := range []uint64{0, c1.Size - 1, c2.Size - 1} {
			e := w.Must(t, 200, "GET", "/api/v1/log/entries/"+itoa(idx), w.Auditor, nil)
			p := decodeProof(t, e.Body["inclusion_proof"])
			leaf := ledger.LeafHash([]byte(e.Str("data")))
			if err := ledger.VerifyInclusion(idx, c2.Size, leaf, p, c2.Root); err != nil {
				t.Errorf("leaf %d: %v", idx, err)
			}
			if err := ledger.VerifyInclusion(idx, c2.Size, ledger.LeafHash([]byte(e.Str("data")+" ")), p, c2.Root); err == nil {
				t.Errorf("leaf %d: an altered leaf verified", idx)
			}
		}
		cons := w.Must(t, 200, "GET", "/api/v1/log/consistency?from="+itoa(c1.Size)+"&to="+itoa(c2.Size), "", nil)
		if err := ledger.VerifyConsistency(c1.Size, c2.Size, decodeProof(t, cons.Body["proof"]), c1.Root, c2.Root); err != nil {
			t.Errorf("consistency: %v", err)
		}
		if r := w.Do(t, "GET", "/api/v1/log/entries/99999", w.Auditor, nil); r.Status != 404 {
			t.Errorf("a leaf past the end: %d", r.Status)
		}
		// A role without the log is told it may not read the log, not
		// alerts.
		for _, path := range []string{"/api/v1/log/entries/0", "/api/v1/log/exports"} {
			if r := w.Do(t, "GET", path, w.CoordA, nil); r.Status != 403 || r.Str("error.rule") != "role" ||
				!strings.Contains(r.Str("error.message"), "may not read and verify the log") {
				t.Errorf("a coordinator reading %s: %d %s", path, r.Status, r.Raw)
			}
		}
	})
}
