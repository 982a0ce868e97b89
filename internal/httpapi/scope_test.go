package httpapi_test

import (
	"cmp"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestScopeBeforeInput sends commands on centre A's records with input that
// is wrong, or on a record whose state refuses them, as the coordinator of
// centre B and as centre A's own: B is refused for the centre (403
// own_centre, organ_holder for an organ it does not hold, recipient_centre
// for centre A's recipient, with the alert the refusal raised before)
// whatever the input and the record's state, so that it learns nothing from
// their refusals; A gets the field's refusal (422), the state's (409) or the
// act's (403 no_payment).
func TestScopeBeforeInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{
			"kind": "family_authorization", "given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "coordinator",
			"assessor_independent": true, "voluntary": true, "informed": true})
		pr := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(8),
			"organs": []string{"kidney", "liver"}})
		organs := pr.Body["organs"].([]any)
		organ := func(i int) string { return organs[i].(map[string]any)["id"].(string) }
		recipient := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")
		ta := w.Must(t, 201, "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, map[string]any{"organ_id": organ(0), "recipient_id": recipient,
			"centre_id": w.CentreA, "authorized_by": "Dr. M", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/transplants", w.CoordA, map[string]any{"organ_id": organ(0), "recipient_id": recipient, "centre_id": w.CentreA,
			"performed_at": apptest.Hours(1), "authorization_id": ta})
		sae := w.Must(t, 201, "POST", "/api/v1/transplant/sae", w.CoordA, map[string]any{"kind": "reaction", "organ_id": organ(0),
			"recipient_ids": []string{recipient}, "contact": "Vigilance desk", "started_at": apptest.Hours(1), "detected_at": apptest.Hours(0),
			"description": "Fever.", "immediate_measures": "None."}).Str("id")
		waiting := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "liver")).Str("id")

		transport := map[string]any{"organ_id": organ(0), "step": "transport"}
		outcome := func(organ string) string { return "/api/v1/transplant/imports/" + organ + "/outcome" }
		discarded := map[string]any{"outcome": "discarded", "reason": "organ_quality", "on": time.Now().UTC().Format("2006-01-02")}
		// authorize is a good authorization of organ i for the recipient
		// waiting for a liver, but for what change sets.
		authorize := func(i int, change map[string]any) map[string]any {
			b := map[string]any{"organ_id": organ(i), "recipient_id": waiting, "authorized_by": "Dr. M", "compatibility_documented": true,
				"consent_verified": true, "no_payment_declared": true}
			maps.Copy(b, change)
			return b
		}
		transplant := func(organ, performedAt string) map[string]any {
			return map[string]any{"organ_id": organ, "recipient_id": waiting, "performed_at": performedAt}
		}
		discard := map[string]any{"organ_id": organ(0), "outcome": "discarded", "reason": "organ_quality", "disposed_at": apptest.Hours(0)}

		for _, c := range []struct {
			name, method, path string
			body               any
			ownRule, ownField  string // A's refusal: the field's, 422 (the state's, 409, for a rule of conflicts)
			scopeField         string // B's own_centre refusal names it
			alert              bool   // B's refusal raises an alert
			scopeRule          string // B's rule when not own_centre
		}{
			{"consent", "POST", "/api/v1/transplant/donors/" + donor + "/consents", map[string]any{"kind": "by_mood"}, "enum", "kind", "donor_id", true, ""},
			{"reimbursement", "POST", "/api/v1/transplant/reimbursements", map[string]any{"donor_id": donor, "payee": "anyone"}, "enum", "payee", "donor_id", true, ""},
			{"organ sent abroad", "POST", "/api/v1/transplant/exports", map[string]any{"organ_id": organ(1)}, "required", "peer_id", "organ_id", true, ""},
			{"waiting-list status", "POST", "/api/v1/transplant/recipients/" + waiting + "/waitlist", map[string]any{"status": "asleep"}, "enum", "status", "recipient_id", true, ""},
			{"final report", "POST", "/api/v1/transplant/sae/" + sae + "/final-report", map[string]any{"conclusion": "maybe"}, "enum", "conclusion", "sae_id", true, ""},
			{"follow-up", "POST", "/api/v1/transplant/followups", map[string]any{"subject_id": recipient, "due_month": 6, "followed_up_on": "yesterday"}, "date_format", "followed_up_on", "subject_id", true, ""},
			{"rectification", "POST", "/api/v1/transplant/subjects/" + recipient + "/rectification", map[string]any{"reason": "typo"}, "required", "name", "id", true, ""},
			{"personal data", "POST", "/api/v1/transplant/personal-data", map[string]any{"id": recipient}, "required", "purpose", "id", true, ""},
			{"subject access", "POST", "/api/v1/transplant/subjects/" + recipient + "/access", map[string]any{}, "required", "purpose", "id", true, ""},
			{"treatment abroad ending a registration", "POST", "/api/v1/transplant/abroad", map[string]any{"recipient_id": waiting, "kind": "holiday"}, "enum", "kind", "recipient_id", false, ""},
			{"export of the donors", "GET", "/api/v1/transplant/donors?format=docx&centre_id=" + url.QueryEscape(w.CentreA), nil, "format", "format", "centre_id", false, ""},
			// (A parameter the route does not take, colour=red, is refused
			// before any handler, whoever asks: the route's parameters are
			// the document's, and tell nothing of a record. TestQueryParamsDeclared.)
			{"export of the worklist", "GET", "/api/v1/transplant/followups/worklist?format=docx&centre_id=" + url.QueryEscape(w.CentreA), nil, "format", "format", "centre_id", false, ""},
			{"follow-up of a recipient not transplanted", "POST", "/api/v1/transplant/followups", map[string]any{"subject_id": waiting, "due_month": 6, "followed_up_on": "yesterday"}, "date_format", "followed_up_on", "subject_id", true, ""},
			{"follow-up of a recipient not transplanted, good input", "POST", "/api/v1/transplant/followups", followUp(waiting), "followup_subject", "subject_id", "subject_id", true, ""},
			{"follow-up of a deceased donor, good input", "POST", "/api/v1/transplant/followups", followUp(donor), "followup_subject", "subject_id", "subject_id", true, ""},
			{"disposition", "POST", "/api/v1/transplant/dispositions", map[string]any{"organ_id": organ(1), "outcome": "lost"}, "enum", "outcome", "organ_id", true, "organ_holder"},
			{"disposition of an organ transplanted", "POST", "/api/v1/transplant/dispositions", discard, "organ_final", "organ_id", "organ_id", true, "organ_holder"},
			{"hand-off", "POST", "/api/v1/transplant/handoffs", map[string]any{"organ_id": organ(1), "step": "teleport"}, "enum", "step", "organ_id", true, "organ_holder"},
			{"hand-off of an organ transplanted", "POST", "/api/v1/transplant/handoffs", transport, "organ_final", "organ_id", "organ_id", true, "organ_holder"},
			{"report on an organ from abroad", "POST", "/api/v1/transplant/foreign-sae", map[string]any{"organ_id": im.Held, "kind": "by_mood"}, "enum", "kind", "organ_id", true, "organ_holder"},
			{"authorization for the centre's recipient", "POST", "/api/v1/transplant/transplant-authorizations", authorize(1, map[string]any{"authorized_by": ""}),
				"required", "authorized_by", "recipient_id", true, "recipient_centre"},
			{"authorization for the centre's recipient without the declaration of no payment", "POST", "/api/v1/transplant/transplant-authorizations",
				authorize(1, map[string]any{"no_payment_declared": false}), "no_payment", "no_payment_declared", "recipient_id", true, "recipient_centre"},
			{"authorization for the centre's recipient without compatibility", "POST", "/api/v1/transplant/transplant-authorizations",
				authorize(1, map[string]any{"compatibility_documented": false}), "compatibility", "compatibility_documented", "recipient_id", true, "recipient_centre"},
			{"authorization of an organ transplanted for the centre's recipient", "POST", "/api/v1/transplant/transplant-authorizations", authorize(0, nil),
				"organ_available", "organ_id", "recipient_id", true, "recipient_centre"},
			{"transplantation of the centre's recipient", "POST", "/api/v1/transplant/transplants", transplant(organ(1), "yesterday"),
				"time_format", "performed_at", "recipient_id", true, "recipient_centre"},
			{"transplantation of the centre's recipient, organ mistyped", "POST", "/api/v1/transplant/transplants", transplant("XA-26", apptest.Hours(1)),
				"organ_id_format", "organ_id", "recipient_id", true, "recipient_centre"},
			{"transplantation of the centre's recipient in the future", "POST", "/api/v1/transplant/transplants",
				transplant(organ(1), time.Now().UTC().Add(48*time.Hour).Format(time.RFC3339)), "dates_in_order", "performed_at", "recipient_id", true, "recipient_centre"},
			{"transplantation of an organ transplanted into the centre's recipient", "POST", "/api/v1/transplant/transplants", transplant(organ(0), apptest.Hours(1)),
				"organ_available", "organ_id", "recipient_id", true, "recipient_centre"},
			{"procedure for the centre's recipient", "POST", "/api/v1/transplant/procedures", map[string]any{"kind": "triple", "recipient_id": waiting,
				"organ_ids": []string{organ(1)}, "performed_at": apptest.Hours(1)}, "enum", "kind", "recipient_id", true, "recipient_centre"},
			{"procedure for the centre's recipient in the future", "POST", "/api/v1/transplant/procedures", map[string]any{"kind": "single", "recipient_id": waiting,
				"organ_ids": []string{organ(1)}, "performed_at": time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339)}, "dates_in_order", "performed_at", "recipient_id", true, "recipient_centre"},
			{"outcome of an organ from abroad sent to the centre", "POST", outcome(im.Named), map[string]any{"outcome": "lost"}, "enum", "outcome", "organ_id", true, "organ_holder"},
			{"outcome of an organ from abroad that has one", "POST", outcome(im.Held), discarded, "organ_final", "organ_id", "organ_id", true, "organ_holder"},
			{"outcome of an organ from abroad sent to the centre, for the centre's recipient", "POST", outcome(im.Named), map[string]any{"outcome": "transplanted",
				"recipient_id": recipient, "on": "yesterday"}, "date_format", "on", "organ_id", true, "organ_holder"},
		} {
			rule := cmp.Or(c.scopeRule, "own_centre")
			r := w.Do(t, c.method, c.path, w.CoordB, c.body)
			e, _ := r.Body["error"].(map[string]any)
			if r.Status != 403 || r.Str("error.rule") != rule || r.Str("error.field") != c.scopeField || (e["alert"] == true) != c.alert {
				t.Errorf("%s by another centre's coordinator: %d %s, want 403 %s on %s (alert %v)", c.name, r.Status, r.Raw, rule, c.scopeField, c.alert)
			}
			status := 422
			if slices.Contains([]string{"followup_subject", "organ_final", "organ_available"}, c.ownRule) {
				status = 409
			}
			if c.ownRule == "no_payment" {
				status = 403
			}
			r = w.Do(t, c.method, c.path, w.CoordA, c.body)
			if r.Status != status || r.Str("error.rule") != c.ownRule || r.Str("error.field") != c.ownField {
				t.Errorf("%s by the centre's own coordinator: %d %s, want %d %s on %s", c.name, r.Status, r.Raw, status, c.ownRule, c.ownField)
			}
		}
	})
}

// followUp is a follow-up of subject at month 6 whose every field is good.
func followUp(subject string) map[string]any {
	return map[string]any{"subject_id": subject, "due_month": 6, "followed_up_on": time.Now().UTC().Format("2006-01-02"),
		"vital_status": "alive", "graft_status": "functioning", "complications": []string{"none"}, "psychosocial_care": "not_needed"}
}
