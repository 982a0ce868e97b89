package httpapi_test

import (
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestImportOutcomeRules records the outcome of an organ received from
// abroad as the centre that holds it: a recipient named with an organ
// discarded is refused (outcome_recipient), and an organ transplanted is
// checked by the rules of a transplantation of an organ of the registry's
// own (a recipient transplanted already, waiting for another organ, whose
// registration is closed; a centre not authorized for the organ's type; a
// day before the organ was procured), each refusal naming its rule and
// field and leaving the organ without an outcome; then a recipient waiting
// for the organ gets it.
func TestImportOutcomeRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := importedOrgans(t, w, dsn)
		today := time.Now().UTC().Format("2006-01-02")

		// A recipient of centre A transplanted here with an organ of the
		// registry's own.
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{
			"kind": "family_authorization", "given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "coordinator",
			"assessor_independent": true, "voluntary": true, "informed": true})
		kidney := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(8),
			"organs": []string{"kidney"}}).Body["organs"].([]any)[0].(map[string]any)["id"].(string)
		transplanted := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")
		ta := w.Must(t, 201, "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, map[string]any{"organ_id": kidney, "recipient_id": transplanted,
			"authorized_by": "Dr. M", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/transplants", w.CoordA, map[string]any{"organ_id": kidney, "recipient_id": transplanted,
			"performed_at": apptest.Hours(1), "authorization_id": ta})
		heart := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "heart")).Str("id")
		removed := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/recipients/"+removed+"/waitlist", w.CoordA, map[string]any{"status": "removed",
			"reason": "condition_improved", "changed_on": today})
		waiting := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")
		livers := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordB, apptest.Recipient(w.CentreB, "liver")).Str("id")

		for _, c := range []struct {
			name, coord, organ string
			body               map[string]any
			status             int
			rule, field        string
			alert              bool
		}{
			{"an organ discarded with a recipient", w.CoordA, im.named, map[string]any{"outcome": "discarded", "reason": "organ_quality",
				"recipient_id": waiting, "on": today}, 422, "outcome_recipient", "recipient_id", false},
			{"an organ used for research with a recipient", w.CoordA, im.named, map[string]any{"outcome": "research", "reason": "consented",
				"recipient_id": waiting, "on": today}, 422, "outcome_recipient", "recipient_id", false},
			{"a recipient transplanted already", w.CoordA, im.named, map[string]any{"outcome": "transplanted", "recipient_id": transplanted, "on": today},
				422, "waiting_list", "recipient_id", false},
			{"a kidney for a recipient waiting for a heart", w.CoordA, im.named, map[string]any{"outcome": "transplanted", "recipient_id": heart, "on": today},
				422, "organ_type", "organ_id", false},
			{"a recipient removed from the waiting list", w.CoordA, im.named, map[string]any{"outcome": "transplanted", "recipient_id": removed, "on": today},
				409, "waitlist_closed", "recipient_id", true},
			{"a day before the organ was procured", w.CoordA, im.named, map[string]any{"outcome": "transplanted", "recipient_id": waiting,
				"on": time.Now().UTC().AddDate(0, 0, -3).Format("2006-01-02")}, 422, "dates_in_order", "on", false},
			{"a liver at a centre not authorized to transplant livers", w.CoordB, im.unnamed, map[string]any{"outcome": "transplanted",
				"recipient_id": livers, "on": today}, 403, "centre_authorization", "centre_id", true},
		} {
			r := w.Do(t, "POST", "/api/v1/transplant/imports/"+c.organ+"/outcome", c.coord, c.body)
			e, _ := r.Body["error"].(map[string]any)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field || (e["alert"] == true) != c.alert {
				t.Errorf("%s: %d %s, want %d %s on %s (alert %v)", c.name, r.Status, r.Raw, c.status, c.rule, c.field, c.alert)
			}
			if got := w.Must(t, 200, "GET", "/api/v1/transplant/imports/"+c.organ, w.Regulator, nil); got.Str("outcome") != "" || got.Str("recipient_id") != "" {
				t.Fatalf("%s changed the import: %s", c.name, got.Raw)
			}
		}
		got := w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.named+"/outcome", w.CoordA, map[string]any{"outcome": "transplanted",
			"recipient_id": waiting, "on": today})
		if got.Str("outcome") != "transplanted" || got.Str("recipient_id") != waiting || got.Str("centre_id") != w.CentreA {
			t.Fatalf("the outcome of an organ transplanted into a recipient waiting for it: %s", got.Raw)
		}
	})
}

// TestImportSAEHolder reports adverse events on organs received from
// abroad: the centre that holds an organ (the one the origin named, before
// any outcome) reports on it, another centre's coordinator is refused
// organ_holder with an alert, as for the organ's outcome.
func TestImportSAEHolder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := importedOrgans(t, w, dsn)
		report := func(organ string) map[string]any {
			return map[string]any{"kind": "reaction", "organ_id": organ, "contact": "Vigilance desk", "started_at": apptest.Hours(2),
				"detected_at": apptest.Hours(1), "description": "Fever.", "immediate_measures": "None."}
		}
		for _, organ := range []string{im.held, im.named} {
			r := w.Do(t, "POST", "/api/v1/transplant/foreign-sae", w.CoordB, report(organ))
			if e, _ := r.Body["error"].(map[string]any); r.Status != 403 || r.Str("error.rule") != "organ_holder" || r.Str("error.field") != "organ_id" || e["alert"] != true {
				t.Errorf("a report on %s by another centre: %d %s, want 403 organ_holder on organ_id with an alert", organ, r.Status, r.Raw)
			}
		}
		if n := len(w.Must(t, 200, "GET", "/api/v1/transplant/foreign-sae", w.Regulator, nil).Body["reports"].([]any)); n != 0 {
			t.Fatalf("%d reports after the refusals, want none", n)
		}
		// Centre A holds the organ sent to it by name, whose outcome no one
		// recorded yet.
		if r := w.Must(t, 201, "POST", "/api/v1/transplant/foreign-sae", w.CoordA, report(im.named)); r.Str("raised_by") != w.CentreA {
			t.Fatalf("a report by the centre that holds the organ: %s", r.Raw)
		}
	})
}
