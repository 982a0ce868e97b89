package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVigilanceAPI walks the vigilance routes as a client would, each
// request and answer validated against the OpenAPI document: a donor whose
// kidneys went to centres A and B, an SAE reported by the regulator, both
// centres' notifications listed and acknowledged, the final report, the
// lists and their export, and the refusals of the rules.
func TestVigilanceAPI(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	validate := openAPIValidator(t, w.Env)
	call := func(method, pattern, path, token string, body any, status int) *apptest.Response {
		t.Helper()
		if body != nil {
			validate(method, pattern, "request", body)
		}
		res := w.Must(t, status, method, path, token, body)
		if status < 300 {
			validate(method, pattern, "response", res.Body)
		}
		return res
	}
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{
		"kind": "family_authorization", "given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "coordinator",
		"assessor_independent": true, "voluntary": true, "informed": true})
	pr := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(8),
		"organs": []string{"kidney", "kidney", "liver"}})
	organs := pr.Body["organs"].([]any)
	id := func(i int) string { return organs[i].(map[string]any)["id"].(string) }
	var recipients []string
	for i, x := range []struct{ coord, centre string }{{w.CoordA, w.CentreA}, {w.CoordB, w.CentreB}} {
		rc := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", x.coord, apptest.Recipient(x.centre, "kidney")).Str("id")
		ta := w.Must(t, 201, "POST", "/api/v1/transplant/transplant-authorizations", x.coord, map[string]any{"organ_id": id(i), "recipient_id": rc,
			"centre_id": x.centre, "authorized_by": "Dr. M", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/transplants", x.coord, map[string]any{"organ_id": id(i), "recipient_id": rc, "centre_id": x.centre,
			"performed_at": apptest.Hours(1), "authorization_id": ta})
		recipients = append(recipients, rc)
	}

	// Disposition of the liver; refusals name rule and field.
	refused := func(method, path, token string, body any, status int, rule, field string) {
		t.Helper()
		r := w.Do(t, method, path, token, body)
		if r.Status != status || r.Str("error.rule") != rule || r.Str("error.field") != field {
			t.Errorf("%s %s: %d %s, want %d %s on %q", method, path, r.Status, r.Raw, status, rule, field)
		}
	}
	disposal := map[string]any{"organ_id": id(0), "outcome": "discarded", "reason": "organ_quality", "note": "", "disposed_at": apptest.Hours(2)}
	refused("POST", "/api/v1/transplant/dispositions", w.CoordA, disposal, 409, "organ_final", "organ_id")
	disposal["organ_id"] = id(2)
	refused("POST", "/api/v1/transplant/dispositions", w.CoordB, disposal, 403, "organ_holder", "organ_id")
	call("POST", "/api/v1/transplant/dispositions", "/api/v1/transplant/dispositions", w.CoordA, disposal, 201)
	call("GET", "/api/v1/transplant/organs/awaiting-disposition", "/api/v1/transplant/organs/awaiting-disposition", w.Regulator, nil, 200)
	refused("GET", "/api/v1/transplant/organs/awaiting-disposition?status=open", w.Regulator, nil, 422, "query", "status")

	sae := call("POST", "/api/v1/transplant/sae", "/api/v1/transplant/sae", w.Regulator, map[string]any{"kind": "reaction", "organ_id": id(1),
		"recipient_ids": []string{recipients[1]}, "contact": "Vigilance desk, +00 1 23", "started_at": apptest.Hours(1), "detected_at": apptest.Hours(0),
		"description": "Suspected donor-derived malignancy.", "immediate_measures": "Other recipients called in for imaging."}, 201)
	saeID, reportID := sae.Str("id"), sae.Str("report_id")
	if !strings.HasPrefix(reportID, "XA-SAE-") || sae.Str("donor_id") != donor {
		t.Errorf("the report: %s", sae.Raw)
	}
	got := call("GET", "/api/v1/transplant/sae/{id}", "/api/v1/transplant/sae/"+reportID, w.Auditor, nil, 200)
	if n := len(got.Body["notifications"].([]any)); n != 2 {
		t.Fatalf("%d notifications, want centres A and B", n)
	}
	for _, x := range []struct{ coord, centre string }{{w.CoordA, w.CentreA}, {w.CoordB, w.CentreB}} {
		list := call("GET", "/api/v1/transplant/notifications", "/api/v1/transplant/notifications?status=open&centre_id="+x.centre, x.coord, nil, 200)
		items := list.Body["notifications"].([]any)
		if len(items) != 1 {
			t.Fatalf("centre %s: %d open notifications, want 1", x.centre, len(items))
		}
		nid := items[0].(map[string]any)["id"].(string)
		call("POST", "/api/v1/transplant/notifications/{id}/acknowledge", "/api/v1/transplant/notifications/"+nid+"/acknowledge", x.coord, nil, 200)
		refused("POST", "/api/v1/transplant/notifications/"+nid+"/acknowledge", x.coord, nil, 409, "already_acknowledged", "notification_id")
	}
	refused("POST", "/api/v1/transplant/sae/"+saeID+"/final-report", w.CoordB, map[string]any{"conclusion": "confirmed", "outcome": "o", "corrective_actions": "c"},
		403, "own_centre", "sae_id")
	call("POST", "/api/v1/transplant/sae/{id}/final-report", "/api/v1/transplant/sae/"+saeID+"/final-report", w.Regulator,
		map[string]any{"conclusion": "confirmed", "outcome": "Confirmed by histology.", "corrective_actions": "Screening amended."}, 200)
	closed := call("GET", "/api/v1/transplant/sae", "/api/v1/transplant/sae?status=closed", w.Auditor, nil, 200)
	if n := len(closed.Body["sae"].([]any)); n != 1 {
		t.Errorf("%d closed reports, want 1", n)
	}
	refused("GET", "/api/v1/transplant/sae?status=pending", w.Auditor, nil, 422, "enum", "status")
	csv := w.Must(t, 200, "GET", "/api/v1/transplant/sae?format=csv", w.Auditor, nil)
	if !strings.Contains(string(csv.Raw), reportID) {
		t.Errorf("the CSV export of the reports lacks %s:\n%s", reportID, csv.Raw)
	}
	csv = w.Must(t, 200, "GET", "/api/v1/transplant/notifications?format=csv&status=acknowledged", w.Regulator, nil)
	if strings.Count(string(csv.Raw), reportID) != 2 {
		t.Errorf("the CSV export of the notifications:\n%s", csv.Raw)
	}
}

// TestSAEAnswerIsTheReport: the answer to a report gives its notifications
// as reading the report does (their report, creation time, and for the
// reporting centre's own who acknowledged it), so that a client need not
// read the report again to learn when its deadlines run.
func TestSAEAnswerIsTheReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		_, organs := procured(t, w)
		organ := organs[0]
		posted := w.Must(t, 201, "POST", "/api/v1/transplant/sae", w.CoordA, map[string]any{"kind": "event", "organ_id": organ,
			"contact": "Vigilance desk", "started_at": apptest.Hours(2), "detected_at": apptest.Hours(1), "description": "Contaminated fluid.",
			"immediate_measures": "Lot withdrawn."})
		read := w.Must(t, 200, "GET", "/api/v1/transplant/sae/"+posted.Str("id"), w.Auditor, nil)
		want, _ := json.Marshal(read.Body["notifications"])
		got, _ := json.Marshal(posted.Body["notifications"])
		if string(got) != string(want) {
			t.Fatalf("the answer's notifications:\n%s\nreading the report:\n%s", got, want)
		}
		if n := posted.Body["notifications"].([]any); len(n) != 1 || n[0].(map[string]any)["acknowledged_by"] == nil {
			t.Fatalf("the reporting centre's own notification, acknowledged by the reporter: %s", got)
		}
	})
}

// TestSAEReportAsTyped: the API reads a donor id as the web form does, in
// any case and with spaces around it (the service normalises it, so the
// form, the API and the CLI agree); one malformed is refused reference at
// donor_id as before. A coordinator of a centre that had none of the
// donor's organs is refused own_centre at donor_id, with an alert, and
// nothing is recorded.
func TestSAEReportAsTyped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		donor, _ := procured(t, w)
		body := func(donor string) map[string]any {
			return map[string]any{"kind": "event", "donor_id": donor, "contact": "Vigilance desk", "started_at": apptest.Hours(2),
				"detected_at": apptest.Hours(1), "description": "Contaminated fluid.", "immediate_measures": "Lot withdrawn."}
		}
		r := w.Do(t, "POST", "/api/v1/transplant/sae", w.CoordB, body(donor))
		if r.Status != 403 || r.Str("error.rule") != "own_centre" || r.Str("error.field") != "donor_id" || r.Body["error"].(map[string]any)["alert"] != true {
			t.Fatalf("a report by centre B, which had no organ of the donor: %d %s", r.Status, r.Raw)
		}
		if n := len(w.Must(t, 200, "GET", "/api/v1/transplant/sae", w.Auditor, nil).Body["sae"].([]any)); n != 0 {
			t.Fatalf("a refused report left %d reports", n)
		}
		r = w.Do(t, "POST", "/api/v1/transplant/sae", w.CoordA, body("dn-not a donor"))
		if r.Status != 404 || r.Str("error.rule") != "reference" || r.Str("error.field") != "donor_id" {
			t.Fatalf("a malformed donor id: %d %s", r.Status, r.Raw)
		}
		posted := w.Must(t, 201, "POST", "/api/v1/transplant/sae", w.CoordA, body("  "+strings.ToLower(donor)+" "))
		if posted.Str("donor_id") != donor {
			t.Fatalf("the report names donor %q, want %s", posted.Str("donor_id"), donor)
		}
	})
}

// TestSAEReportedOnce: a report sent again without an Idempotency-Key (a
// form submitted twice, a client's retry) is refused 409 duplicate_report at
// started_at, naming the open report, and records nothing; sent again with
// its key, it gets the first answer, not the refusal. On SQLite and
// PostgreSQL.
func TestSAEReportedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		donor, _ := procured(t, w)
		body := func(started string) map[string]any {
			return map[string]any{"kind": "event", "donor_id": donor, "contact": "Vigilance desk", "started_at": started,
				"detected_at": apptest.Hours(0), "description": "Contaminated fluid.", "immediate_measures": "Lot withdrawn."}
		}
		started := apptest.Hours(2) // read once: a second later is another event
		first := w.Must(t, 201, "POST", "/api/v1/transplant/sae", w.CoordA, body(started))
		size := w.LogSize(t)
		r := w.Do(t, "POST", "/api/v1/transplant/sae", w.CoordA, body(started))
		if r.Status != 409 || r.Str("error.rule") != "duplicate_report" || r.Str("error.field") != "started_at" ||
			!strings.Contains(r.Str("error.message"), first.Str("report_id")) {
			t.Fatalf("the report sent again: %d %s, want 409 duplicate_report naming %s", r.Status, r.Raw, first.Str("report_id"))
		}
		if w.LogSize(t) != size {
			t.Fatalf("the refused report wrote %d entries", w.LogSize(t)-size)
		}
		keyed := body(apptest.Hours(3))
		status, answer, _ := sendKeyed(t, w.URL, "POST", "/api/v1/transplant/sae", w.CoordA, "sae-once", keyed)
		if status != 201 {
			t.Fatalf("a report with a key: %d %s", status, answer)
		}
		if status, again, _ := sendKeyed(t, w.URL, "POST", "/api/v1/transplant/sae", w.CoordA, "sae-once", keyed); status != 201 || string(again) != string(answer) {
			t.Fatalf("the report sent again with its key: %d %s, want 201 %s", status, again, answer)
		}
	})
}
