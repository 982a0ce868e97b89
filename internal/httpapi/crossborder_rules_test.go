package httpapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestImportOutcomeRules records the outcome of an organ received from
// abroad as the centre that holds it: a recipient named with an organ
// discarded or used for research is refused (outcome_recipient), and an
// organ transplanted is checked by the rules of a transplantation of an
// organ of the registry's own (a recipient transplanted already, waiting
// for another organ, whose registration is closed; a centre not authorized
// for the organ's type; a day before the organ was procured), each refusal
// naming its rule and field and leaving the organ as it was. Each case has
// an organ of its own, so that a rule that lets its case through fails that
// case and no other. Then a recipient waiting for the organ gets it.
func TestImportOutcomeRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		today := time.Now().UTC().Format("2006-01-02")
		// Six kidneys more sent to centre A by its name, one a case.
		var kidneys []string
		for range 3 {
			kidneys = append(kidneys, im.Send(t, w, "Centre A", "kidney", "kidney")...)
		}

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
		// Each case that names a recipient waiting for a kidney has one of
		// its own: an outcome wrongly recorded for one takes no other's.
		waiting := func() string {
			return w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")
		}
		livers := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordB, apptest.Recipient(w.CentreB, "liver")).Str("id")
		// The liver the origin sent to no centre here is centre B's once a
		// regulator assigned it.
		w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.Unnamed+"/assignment", w.Regulator, map[string]any{"centre_id": w.CentreB})

		for _, c := range []struct {
			name, coord, organ string
			body               map[string]any
			status             int
			rule, field        string
			alert              bool
		}{
			{"an organ discarded with a recipient", w.CoordA, kidneys[0], map[string]any{"outcome": "discarded", "reason": "organ_quality",
				"recipient_id": waiting(), "on": today}, 422, "outcome_recipient", "recipient_id", false},
			{"an organ used for research with a recipient", w.CoordA, kidneys[1], map[string]any{"outcome": "research", "reason": "consented",
				"recipient_id": waiting(), "on": today}, 422, "outcome_recipient", "recipient_id", false},
			{"a recipient transplanted already", w.CoordA, kidneys[2], map[string]any{"outcome": "transplanted", "recipient_id": transplanted, "on": today},
				422, "waiting_list", "recipient_id", false},
			{"a kidney for a recipient waiting for a heart", w.CoordA, kidneys[3], map[string]any{"outcome": "transplanted", "recipient_id": heart, "on": today},
				422, "organ_type", "organ_id", false},
			{"a recipient removed from the waiting list", w.CoordA, kidneys[4], map[string]any{"outcome": "transplanted", "recipient_id": removed, "on": today},
				409, "waitlist_closed", "recipient_id", true},
			{"a day before the organ was procured", w.CoordA, kidneys[5], map[string]any{"outcome": "transplanted", "recipient_id": waiting(),
				"on": time.Now().UTC().AddDate(0, 0, -3).Format("2006-01-02")}, 422, "dates_in_order", "on", false},
			{"a liver at a centre not authorized to transplant livers", w.CoordB, im.Unnamed, map[string]any{"outcome": "transplanted",
				"recipient_id": livers, "on": today}, 403, "centre_authorization", "centre_id", true},
		} {
			before := w.Must(t, 200, "GET", "/api/v1/transplant/imports/"+c.organ, w.Regulator, nil)
			if before.Str("outcome") != "" {
				t.Fatalf("%s: organ %s has an outcome before the case: %s", c.name, c.organ, before.Raw)
			}
			r := w.Do(t, "POST", "/api/v1/transplant/imports/"+c.organ+"/outcome", c.coord, c.body)
			e, _ := r.Body["error"].(map[string]any)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field || (e["alert"] == true) != c.alert {
				t.Errorf("%s: %d %s, want %d %s on %s (alert %v)", c.name, r.Status, r.Raw, c.status, c.rule, c.field, c.alert)
			}
			if got := w.Must(t, 200, "GET", "/api/v1/transplant/imports/"+c.organ, w.Regulator, nil); string(got.Raw) != string(before.Raw) {
				t.Errorf("%s changed the import: %s, was %s", c.name, got.Raw, before.Raw)
			}
		}
		rc := waiting()
		got := w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.Named+"/outcome", w.CoordA, map[string]any{"outcome": "transplanted",
			"recipient_id": rc, "on": today})
		if got.Str("outcome") != "transplanted" || got.Str("recipient_id") != rc || got.Str("centre_id") != w.CentreA {
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
		im := apptest.ImportedOrgans(t, w, dsn)
		report := func(organ string) map[string]any {
			return map[string]any{"kind": "reaction", "organ_id": organ, "contact": "Vigilance desk", "started_at": apptest.Hours(2),
				"detected_at": apptest.Hours(1), "description": "Fever.", "immediate_measures": "None."}
		}
		for _, organ := range []string{im.Held, im.Named} {
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
		if r := w.Must(t, 201, "POST", "/api/v1/transplant/foreign-sae", w.CoordA, report(im.Named)); r.Str("raised_by") != w.CentreA {
			t.Fatalf("a report by the centre that holds the organ: %s", r.Raw)
		}
	})
}

// TestImportAssignment: an organ from abroad that the origin sent to no
// centre here is held by none, so every coordinator is refused its outcome
// and a report on it (organ_holder, with an alert) until a regulator assigns
// it to a centre. A coordinator may not assign it, nor may the regulator to
// an authority that is not a centre, an organ a centre holds already
// (organ_assigned) or one with an outcome (organ_final); each refusal leaves
// the import as it was. Once assigned, the centre records its outcome (for
// its own recipient only), the other centre is still refused, and log
// verify reproduces the assignment (and catches it changed in the table).
func TestImportAssignment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		today := time.Now().UTC().Format("2006-01-02")
		assign := func(organ string) string { return "/api/v1/transplant/imports/" + organ + "/assignment" }
		outcome := func(organ string) string { return "/api/v1/transplant/imports/" + organ + "/outcome" }
		discarded := map[string]any{"outcome": "discarded", "reason": "organ_quality", "on": today}
		unchanged := func(what string) {
			t.Helper()
			got := w.Must(t, 200, "GET", "/api/v1/transplant/imports/"+im.Unnamed, w.Regulator, nil)
			if got.Str("outcome") != "" || got.Str("centre_id") != "" || got.Str("assigned_centre") != "" || got.Str("assigned_at") != "" || got.Str("assigned_by") != "" {
				t.Fatalf("%s changed the import: %s", what, got.Raw)
			}
		}
		report := map[string]any{"kind": "reaction", "organ_id": im.Unnamed, "contact": "Vigilance desk", "started_at": apptest.Hours(2),
			"detected_at": apptest.Hours(1), "description": "Fever.", "immediate_measures": "None."}
		for _, c := range []struct {
			name, coord, path string
			body              map[string]any
		}{
			{"the outcome by centre A", w.CoordA, outcome(im.Unnamed), discarded},
			{"the outcome by centre B", w.CoordB, outcome(im.Unnamed), discarded},
			{"a report by centre A", w.CoordA, "/api/v1/transplant/foreign-sae", report},
		} {
			r := w.Do(t, "POST", c.path, c.coord, c.body)
			if e, _ := r.Body["error"].(map[string]any); r.Status != 403 || r.Str("error.rule") != "organ_holder" || r.Str("error.field") != "organ_id" || e["alert"] != true {
				t.Errorf("%s of an organ no centre holds: %d %s, want 403 organ_holder on organ_id with an alert", c.name, r.Status, r.Raw)
			}
			unchanged(c.name)
		}

		for _, c := range []struct {
			name, token, organ string
			body               map[string]any
			status             int
			rule, field        string
		}{
			{"by a coordinator", w.CoordB, im.Unnamed, map[string]any{"centre_id": w.CentreB}, 403, "", ""},
			{"with no centre", w.Regulator, im.Unnamed, map[string]any{}, 422, "required", "centre_id"},
			{"to an authority that is not a centre", w.Regulator, im.Unnamed, map[string]any{"centre_id": w.RegulatorAuthority}, 422, "reference", "centre_id"},
			{"to no authority", w.Regulator, im.Unnamed, map[string]any{"centre_id": "TC-NOSUCH"}, 404, "reference", "centre_id"},
			{"of an organ the origin sent to a centre", w.Regulator, im.Named, map[string]any{"centre_id": w.CentreB}, 409, "organ_assigned", "organ_id"},
			{"of an organ with an outcome", w.Regulator, im.Held, map[string]any{"centre_id": w.CentreB}, 409, "organ_final", "organ_id"},
		} {
			r := w.Do(t, "POST", assign(c.organ), c.token, c.body)
			if r.Status != c.status || (c.rule != "" && (r.Str("error.rule") != c.rule || r.Str("error.field") != c.field)) {
				t.Errorf("an assignment %s: %d %s, want %d %s on %s", c.name, r.Status, r.Raw, c.status, c.rule, c.field)
			}
			if got := w.Must(t, 200, "GET", "/api/v1/transplant/imports/"+c.organ, w.Regulator, nil); got.Str("assigned_centre") != "" || got.Str("assigned_at") != "" || got.Str("assigned_by") != "" {
				t.Fatalf("an assignment %s changed the import: %s", c.name, got.Raw)
			}
		}

		// The assignment answers when and by whom, in the answer and in
		// the import's read and list.
		regulator := w.Must(t, 200, "GET", "/api/v1/me", w.Regulator, nil).Str("id")
		before := time.Now().UTC().Add(-time.Second)
		if got := w.Must(t, 201, "POST", assign(im.Unnamed), w.Regulator, map[string]any{"centre_id": w.CentreB}); got.Str("assigned_centre") != w.CentreB || got.Str("outcome") != "" {
			t.Fatalf("the assignment to centre B: %s", got.Raw)
		}
		assigned := func(what string, got map[string]any) {
			t.Helper()
			at, err := time.Parse(ledger.TimeLayout, fmt.Sprint(got["assigned_at"]))
			if err != nil || at.Before(before) || at.After(time.Now().UTC().Add(time.Second)) || got["assigned_by"] != regulator {
				t.Errorf("%s: assigned_at %v, assigned_by %v, want the assignment's time and %s", what, got["assigned_at"], got["assigned_by"], regulator)
			}
		}
		assigned("the import read", w.Must(t, 200, "GET", "/api/v1/transplant/imports/"+im.Unnamed, w.Regulator, nil).Body)
		for _, x := range w.Must(t, 200, "GET", "/api/v1/transplant/imports", w.Regulator, nil).Body["imports"].([]any) {
			if x := x.(map[string]any); x["organ_id"] == im.Unnamed {
				assigned("the list of imports", x)
			} else if x["assigned_at"] != nil || x["assigned_by"] != nil {
				t.Errorf("an import no one assigned answers an assignment: %v", x)
			}
		}
		if r := w.Do(t, "POST", assign(im.Unnamed), w.Regulator, map[string]any{"centre_id": w.CentreA}); r.Status != 409 || r.Str("error.rule") != "organ_assigned" {
			t.Errorf("a second assignment: %d %s, want 409 organ_assigned", r.Status, r.Raw)
		}
		if r := w.Do(t, "POST", outcome(im.Unnamed), w.CoordA, discarded); r.Status != 403 || r.Str("error.rule") != "organ_holder" {
			t.Errorf("the outcome by centre A of an organ assigned to centre B: %d %s, want 403 organ_holder", r.Status, r.Raw)
		}
		recipientA := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "liver")).Str("id")
		if r := w.Do(t, "POST", outcome(im.Unnamed), w.CoordB, map[string]any{"outcome": "transplanted", "recipient_id": recipientA, "on": today}); r.Status != 403 || r.Str("error.rule") != "recipient_centre" {
			t.Errorf("the outcome by centre B for centre A's recipient: %d %s, want 403 recipient_centre", r.Status, r.Raw)
		}
		if got := w.Must(t, 201, "POST", outcome(im.Unnamed), w.CoordB, discarded); got.Str("centre_id") != w.CentreB || got.Str("outcome") != "discarded" {
			t.Fatalf("the outcome by the centre assigned: %s", got.Raw)
		}
		if r := w.Do(t, "POST", assign(im.Unnamed), w.Regulator, map[string]any{"centre_id": w.CentreA}); r.Status != 409 || r.Str("error.rule") != "organ_final" {
			t.Errorf("an assignment after the outcome: %d %s, want 409 organ_final", r.Status, r.Raw)
		}

		ctx := context.Background()
		if rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey}); err != nil || !rep.OK() {
			t.Fatalf("log verify after the assignment: %v %v", err, rep)
		}
		if _, err := w.App.DB.Read().Exec(ctx, "UPDATE organ_imports SET assigned_centre = ? WHERE organ_id = ?", w.CentreA, im.Unnamed); err != nil {
			t.Fatal(err)
		}
		if rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey}); err != nil || rep.OK() {
			t.Fatalf("log verify after the assignment was changed in organ_imports: %v, want a mismatch", err)
		}
	})
}

// TestImportTransplantCounts has a recipient transplanted here with an organ
// received from abroad, and checks that it counts as a transplantation here
// does (docs/transplant.md): the recipient is transplanted and off the
// waiting list; another organ from abroad, an authorization for an organ of
// the registry and a change of their registration are refused, and their
// follow-up runs from the organ's day, each refusal naming its rule and
// field and leaving the log as it was; the GODT report counts
// the transplant and the equity report counts the registration
// transplanted; and log verify's replay finds the same rows.
func TestImportTransplantCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) { c.DisclosureThreshold = 1 })
		im := apptest.ImportedOrgans(t, w, dsn)
		rc := im.Recipient
		now := time.Now().UTC()
		today := now.Format("2006-01-02")

		if st := w.Must(t, 200, "GET", "/api/v1/transplant/recipients/"+rc, w.Regulator, nil).Str("recipient.status"); st != "transplanted" {
			t.Errorf("the recipient of an organ from abroad is %q, want transplanted", st)
		}
		listed := func(status string) bool {
			for _, r := range w.Must(t, 200, "GET", "/api/v1/transplant/recipients?organ=kidney&status="+status, w.Regulator, nil).Body["recipients"].([]any) {
				if r.(map[string]any)["id"] == rc {
					return true
				}
			}
			return false
		}
		if listed("waiting") || !listed("transplanted") {
			t.Errorf("the recipient of an organ from abroad: on the waiting list %v, among the transplanted %v; want off it, among them", listed("waiting"), listed("transplanted"))
		}

		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{
			"kind": "family_authorization", "given_on": now.AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "coordinator",
			"assessor_independent": true, "voluntary": true, "informed": true})
		kidney := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(8),
			"organs": []string{"kidney"}}).Body["organs"].([]any)[0].(map[string]any)["id"].(string)
		size := w.LogSize(t)
		for _, c := range []struct {
			name, path  string
			body        map[string]any
			status      int
			rule, field string
		}{
			{"another organ from abroad", "/api/v1/transplant/imports/" + im.Named + "/outcome",
				map[string]any{"outcome": "transplanted", "recipient_id": rc, "on": today}, 422, "waiting_list", "recipient_id"},
			{"an authorization for an organ of the registry", "/api/v1/transplant/transplant-authorizations",
				map[string]any{"organ_id": kidney, "recipient_id": rc, "authorized_by": "Dr. M", "compatibility_documented": true,
					"consent_verified": true, "no_payment_declared": true}, 422, "waiting_list", "recipient_id"},
			{"a removal from the waiting list", "/api/v1/transplant/recipients/" + rc + "/waitlist",
				map[string]any{"status": "removed", "reason": "condition_improved", "changed_on": today}, 409, "waitlist_closed", "status"},
			// Followed up from the organ's day: month 6 is not open yet
			// (without a baseline: followup_subject).
			{"a follow-up of month 6 today", "/api/v1/transplant/followups", followUp(rc), 422, "followup_early", "followed_up_on"},
		} {
			r := w.Do(t, "POST", c.path, w.CoordA, c.body)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s for the recipient of an organ from abroad: %d %s, want %d %s on %s", c.name, r.Status, r.Raw, c.status, c.rule, c.field)
			}
		}
		if got := w.LogSize(t); got != size {
			t.Fatalf("the refusals changed the log: %d leaves, want %d", got, size)
		}

		var godt transplant.GODTReport
		res := w.Must(t, 200, "GET", fmt.Sprintf("/api/v1/transplant/godt?country=XA&year=%d&population=1000000", now.Year()), w.Regulator, nil)
		if err := json.Unmarshal(res.Raw, &godt); err != nil {
			t.Fatal(err)
		}
		if godt.Value("dd_kidney_tx") != 1 || godt.Value("total_kidney_tx") != 1 || godt.Value("total_actual_dd") != 1 || godt.Value("total_utilized_dd") != 0 {
			t.Errorf("GODT: dd_kidney_tx %d, total_kidney_tx %d, total_actual_dd %d, total_utilized_dd %d; want 1, 1 (the organ from abroad), 1, 0 (the donor abroad is the origin's)",
				godt.Value("dd_kidney_tx"), godt.Value("total_kidney_tx"), godt.Value("total_actual_dd"), godt.Value("total_utilized_dd"))
		}

		res = w.Must(t, 200, "GET", "/api/v1/transplant/equity?format=csv&organ=kidney&from=2020-01-01&end="+now.AddDate(0, 0, 1).Format("2006-01-02"), w.Regulator, nil)
		cr := csv.NewReader(strings.NewReader(string(res.Raw)))
		cr.FieldsPerRecord = -1
		lines, err := cr.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]string{}
		for _, l := range lines {
			if len(l) == 4 && l[0] == "sex" && l[1] == "male" {
				counts[l[2]] = l[3]
			}
		}
		// The recipient transplanted (with a wait from their listing), and
		// those of the two organs from abroad still waiting.
		if counts[transplant.OutcomeTransplanted] != "1" || counts[transplant.OutcomeWaiting] != "0" {
			t.Errorf("equity report, male kidney registrations: %v, want 1 transplanted and 0 waiting", counts)
		}
		if rep := w.Verify(t); len(rep.Problems) > 0 {
			t.Errorf("log verify after a transplantation of an organ from abroad: %v", rep.Problems)
		}

		// A registry that recorded it before transplant migration 20 holds
		// neither row: log verify's replay tells, and the migration writes
		// them as the projector does.
		w.Tamper(t, "DELETE FROM godt_transplants WHERE id = ?", im.Held)
		w.Tamper(t, "UPDATE equity_registrations SET first_at = NULL, wait_months = NULL WHERE recipient_id = ?", rc)
		if rep := w.Verify(t); len(rep.Problems) == 0 {
			t.Fatal("log verify found no problem with the rows of the organ from abroad removed")
		}
		b, err := os.ReadFile("../transplant/schema/020_import_transplants.sql")
		if err != nil {
			t.Fatal(err)
		}
		own := "-- sqlite: "
		if strings.HasPrefix(dsn, "postgres") {
			own = "-- postgres: "
		}
		var migration []string
		for l := range strings.Lines(string(b)) {
			if l = strings.TrimPrefix(l, own); !strings.HasPrefix(l, "--") {
				migration = append(migration, l)
			}
		}
		for stmt := range strings.SplitSeq(strings.Join(migration, ""), ";") {
			if strings.TrimSpace(stmt) != "" && !strings.Contains(stmt, "CREATE INDEX") { // the index is there
				w.Tamper(t, stmt)
			}
		}
		if rep := w.Verify(t); len(rep.Problems) > 0 {
			t.Errorf("log verify after migration 20 wrote the rows of the organ from abroad: %v", rep.Problems)
		}
	})
}

// TestImportRecipientRights: the recipient of an organ from abroad asks
// what is held about them and for its erasure. The subject-access export
// names the organ, its country of origin, the day and the centre
// (imported_organs), and nowhere the origin's donor id, nor the import in
// the trace; the law keeps the data 30 years after that transplantation, so
// an erasure on a ground that does not override retention is refused
// (retention, on ground) and erases nothing.
func TestImportRecipientRights(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		today := time.Now().UTC().Format("2006-01-02")
		held := w.Must(t, 200, "GET", "/api/v1/transplant/imports/"+im.Held, w.Regulator, nil)
		donorRef := held.Str("donor_ref")
		if donorRef == "" || held.Str("recipient_id") != im.Recipient {
			t.Fatalf("the import: %s", held.Raw)
		}

		acc := w.Must(t, 200, "POST", "/api/v1/transplant/subjects/"+im.Recipient+"/access", w.CoordA, map[string]any{"purpose": "the person's request"})
		var got struct {
			Retained string                     `json:"retained_until"`
			Imported []transplant.SubjectImport `json:"imported_organs"`
			Trace    map[string]any             `json:"trace"`
		}
		if err := json.Unmarshal(acc.Raw, &got); err != nil {
			t.Fatal(err)
		}
		want := transplant.SubjectImport{OrganID: im.Held, Organ: "kidney", OriginCountry: held.Str("origin_country"), On: today, CentreID: w.CentreA}
		if len(got.Imported) != 1 || got.Imported[0] != want {
			t.Errorf("imported_organs: %+v, want [%+v]", got.Imported, want)
		}
		if strings.Contains(string(acc.Raw), donorRef) || got.Trace["imported"] != nil {
			t.Errorf("the export names the origin's donor id %s or traces the import: %s", donorRef, acc.Raw)
		}
		if until := time.Now().UTC().AddDate(transplant.RetentionYears, 0, 0).Format("2006-01-02"); got.Retained != until {
			t.Errorf("retained_until %q, want %s (30 years after the transplantation of the organ from abroad)", got.Retained, until)
		}

		r := w.Do(t, "POST", "/api/v1/transplant/subjects/"+im.Recipient+"/erasure", w.Regulator, map[string]any{"ground": "consent_withdrawn", "reference": "Request 1"})
		if r.Status != 409 || r.Str("error.rule") != "retention" || r.Str("error.field") != "ground" {
			t.Errorf("an erasure of the recipient on consent withdrawn: %d %s, want 409 retention on ground", r.Status, r.Raw)
		}
		if r := w.Must(t, 200, "POST", "/api/v1/transplant/personal-data", w.CoordA, map[string]any{"id": im.Recipient, "purpose": "after the refusal"}); r.Str("name") == "" {
			t.Errorf("the personal data after the refused erasure: %s", r.Raw)
		}
	})
}

// TestImportHolderResolvedAtReceipt: the centre that holds an organ from
// abroad sent to a centre by its name is resolved when the organ is
// received, with the centres registered then. A second centre registered
// later with the same name changes nothing: the organ stays centre A's,
// whose coordinator records its outcome, and a regulator still may not
// assign it; an organ sent to that name once two centres bear it is held
// by none until a regulator assigns it. On SQLite and PostgreSQL; log
// verify's replay resolves the same centres, and catches one changed in
// the table.
func TestImportHolderResolvedAtReceipt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		today := time.Now().UTC().Format("2006-01-02")
		imports := func(organ string) string { return "/api/v1/transplant/imports/" + organ }
		if got := w.Must(t, 200, "GET", imports(im.Named), w.Regulator, nil); got.Str("destination_centre_id") != w.CentreA || got.Str("received_at") == "" {
			t.Fatalf("an organ sent to centre A by its name: %s, want destination_centre_id %s and a received_at", got.Raw, w.CentreA)
		}
		if got := w.Must(t, 200, "GET", imports(im.Unnamed), w.Regulator, nil); got.Str("destination_centre_id") != "" {
			t.Fatalf("an organ sent to no centre: %s, want no destination_centre_id", got.Raw)
		}
		twin := w.Must(t, 201, "POST", "/api/v1/transplant/centres", w.Admin, map[string]any{"name": "Centre A", "city": "Elsewhere"}).Str("id")

		if got := w.Must(t, 200, "GET", imports(im.Named), w.Regulator, nil); got.Str("destination_centre_id") != w.CentreA {
			t.Errorf("after a second centre named Centre A: %s, want still held by %s", got.Raw, w.CentreA)
		}
		if r := w.Do(t, "POST", imports(im.Named)+"/assignment", w.Regulator, map[string]any{"centre_id": twin}); r.Status != 409 || r.Str("error.rule") != "organ_assigned" {
			t.Errorf("the assignment of the organ centre A holds: %d %s, want 409 organ_assigned", r.Status, r.Raw)
		}
		if r := w.Do(t, "POST", imports(im.Named)+"/outcome", w.CoordB, map[string]any{"outcome": "discarded", "reason": "organ_quality", "on": today}); r.Status != 403 || r.Str("error.rule") != "organ_holder" {
			t.Errorf("the outcome by centre B: %d %s, want 403 organ_holder", r.Status, r.Raw)
		}
		if got := w.Must(t, 201, "POST", imports(im.Named)+"/outcome", w.CoordA, map[string]any{"outcome": "discarded", "reason": "organ_quality", "on": today}); got.Str("centre_id") != w.CentreA {
			t.Errorf("the outcome by centre A: %s", got.Raw)
		}

		// Sent to the name two centres now bear: held by none, assignable.
		later := im.Send(t, w, "Centre A", "kidney")[0]
		if got := w.Must(t, 200, "GET", imports(later), w.Regulator, nil); got.Str("destination_centre_id") != "" {
			t.Errorf("an organ sent to a name two centres bear: %s, want held by none", got.Raw)
		}
		if r := w.Do(t, "POST", imports(later)+"/outcome", w.CoordA, map[string]any{"outcome": "discarded", "reason": "organ_quality", "on": today}); r.Status != 403 || r.Str("error.rule") != "organ_holder" {
			t.Errorf("the outcome by centre A of an organ held by none: %d %s, want 403 organ_holder", r.Status, r.Raw)
		}
		if got := w.Must(t, 201, "POST", imports(later)+"/assignment", w.Regulator, map[string]any{"centre_id": twin}); got.Str("assigned_centre") != twin {
			t.Errorf("the assignment of an organ held by none: %s", got.Raw)
		}

		key := ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey}
		if rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, key); err != nil || !rep.OK() {
			t.Fatalf("log verify: %v %v", err, rep)
		}
		if _, err := w.App.DB.Read().Exec(ctx, "UPDATE organ_imports SET destination_centre_id = ? WHERE organ_id = ?", twin, later); err != nil {
			t.Fatal(err)
		}
		if rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, key); err != nil || rep.OK() {
			t.Fatalf("log verify after destination_centre_id was changed in organ_imports: %v, want a mismatch", err)
		}
	})
}

// TestImportReassignment: a regulator moves an organ from abroad that centre
// A holds (sent to it by name) and that has no outcome to centre B, with a
// reason. Refused, each naming its rule and field and leaving the import as
// it was: a coordinator, a reason missing, an authority that is not a
// centre, the centre that holds it already, an organ no centre holds
// (assigned instead) and an organ with an outcome. Once moved, centre A's
// coordinator is refused its outcome and centre B's records it, after which
// it is no longer moved. The log entry names the centre before and the
// reason, and log verify's replay agrees. On SQLite and PostgreSQL.
func TestImportReassignment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		today := time.Now().UTC().Format("2006-01-02")
		move := func(organ string) string { return "/api/v1/transplant/imports/" + organ + "/reassignment" }
		outcome := func(organ string) string { return "/api/v1/transplant/imports/" + organ + "/outcome" }
		discarded := map[string]any{"outcome": "discarded", "reason": "organ_quality", "on": today}
		why := "The organ was driven to centre B."
		for _, c := range []struct {
			name, token, organ string
			body               map[string]any
			status             int
			rule, field        string
		}{
			{"by a coordinator", w.CoordA, im.Named, map[string]any{"centre_id": w.CentreB, "reason": why}, 403, "", ""},
			{"with no reason", w.Regulator, im.Named, map[string]any{"centre_id": w.CentreB}, 422, "required", "reason"},
			{"with a blank reason", w.Regulator, im.Named, map[string]any{"centre_id": w.CentreB, "reason": "  "}, 422, "required", "reason"},
			{"to an authority that is not a centre", w.Regulator, im.Named, map[string]any{"centre_id": w.RegulatorAuthority, "reason": why}, 422, "reference", "centre_id"},
			{"to the centre that holds it", w.Regulator, im.Named, map[string]any{"centre_id": w.CentreA, "reason": why}, 409, "organ_assigned", "centre_id"},
			{"of an organ no centre holds", w.Regulator, im.Unnamed, map[string]any{"centre_id": w.CentreB, "reason": why}, 409, "organ_unassigned", "organ_id"},
			{"of an organ with an outcome", w.Regulator, im.Held, map[string]any{"centre_id": w.CentreB, "reason": why}, 409, "organ_final", "organ_id"},
		} {
			r := w.Do(t, "POST", move(c.organ), c.token, c.body)
			if r.Status != c.status || (c.rule != "" && (r.Str("error.rule") != c.rule || r.Str("error.field") != c.field)) {
				t.Errorf("a reassignment %s: %d %s, want %d %s on %s", c.name, r.Status, r.Raw, c.status, c.rule, c.field)
			}
			if got := w.Must(t, 200, "GET", "/api/v1/transplant/imports/"+c.organ, w.Regulator, nil); got.Str("assigned_centre") != "" || got.Str("assigned_at") != "" {
				t.Fatalf("a reassignment %s changed the import: %s", c.name, got.Raw)
			}
		}

		if got := w.Must(t, 201, "POST", move(im.Named), w.Regulator, map[string]any{"centre_id": w.CentreB, "reason": why}); got.Str("assigned_centre") != w.CentreB || got.Str("outcome") != "" {
			t.Fatalf("the reassignment to centre B: %s", got.Raw)
		}
		var leaf string
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT data FROM log_leaves ORDER BY idx DESC LIMIT 1").Scan(&leaf); err != nil {
			t.Fatal(err)
		}
		var e struct {
			Type string
			Data map[string]string
		}
		if err := json.Unmarshal([]byte(leaf), &e); err != nil || e.Type != transplant.TypeImportAssigned ||
			e.Data["organ_id"] != im.Named || e.Data["centre_id"] != w.CentreB || e.Data["from"] != w.CentreA || e.Data["reason"] != why {
			t.Errorf("the reassignment's leaf: %s (%v), want %s of %s to %s from %s with the reason", leaf, err, transplant.TypeImportAssigned, im.Named, w.CentreB, w.CentreA)
		}
		if r := w.Do(t, "POST", outcome(im.Named), w.CoordA, discarded); r.Status != 403 || r.Str("error.rule") != "organ_holder" {
			t.Errorf("the outcome by centre A once moved to centre B: %d %s, want 403 organ_holder", r.Status, r.Raw)
		}
		if r := w.Do(t, "POST", move(im.Named), w.Regulator, map[string]any{"centre_id": w.CentreB, "reason": why}); r.Status != 409 || r.Str("error.rule") != "organ_assigned" || r.Str("error.field") != "centre_id" {
			t.Errorf("a second reassignment to centre B: %d %s, want 409 organ_assigned on centre_id", r.Status, r.Raw)
		}
		if got := w.Must(t, 201, "POST", outcome(im.Named), w.CoordB, discarded); got.Str("centre_id") != w.CentreB {
			t.Fatalf("the outcome by centre B: %s", got.Raw)
		}
		if r := w.Do(t, "POST", move(im.Named), w.Regulator, map[string]any{"centre_id": w.CentreA, "reason": why}); r.Status != 409 || r.Str("error.rule") != "organ_final" {
			t.Errorf("a reassignment after the outcome: %d %s, want 409 organ_final", r.Status, r.Raw)
		}
		if rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey}); err != nil || !rep.OK() {
			t.Fatalf("log verify after the reassignment: %v %v", err, rep)
		}
	})
}

// TestSAEReportIDsUniqueAcrossRaised: a report raised here on an organ from
// abroad takes a national report id of the year, and a report made here
// afterwards on an organ of the registry's own takes the next one, not the
// same: the two are counted together, so the report id names one report.
func TestSAEReportIDsUniqueAcrossRaised(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		raised := w.Must(t, 201, "POST", "/api/v1/transplant/foreign-sae", w.CoordA, map[string]any{"kind": "reaction", "organ_id": im.Named,
			"contact": "Vigilance desk", "started_at": apptest.Hours(2), "detected_at": apptest.Hours(1), "description": "Fever.",
			"immediate_measures": "None."}).Str("raised_report_id")
		_, organs := procured(t, w)
		organ := organs[0]
		local := w.Must(t, 201, "POST", "/api/v1/transplant/sae", w.Regulator, map[string]any{"kind": "event", "organ_id": organ,
			"contact": "Vigilance desk", "started_at": apptest.Hours(2), "detected_at": apptest.Hours(1), "description": "Contaminated fluid.",
			"immediate_measures": "Lot withdrawn."}).Str("report_id")
		if raised == "" || local == raised {
			t.Fatalf("the report made here after one raised on an organ from abroad has report id %q, the raised one %q: want two ids", local, raised)
		}
		if got := w.Must(t, 200, "GET", "/api/v1/transplant/sae/"+local, w.Auditor, nil).Str("organ_id"); got != organ {
			t.Fatalf("GET the report by its report id %s: organ %q, want %s", local, got, organ)
		}
	})
}

// TestAcknowledgePeerNotification: a report on a donor one of whose organs
// went abroad notifies the foreign registry, which acknowledges over the
// exchange. A coordinator here who tries to acknowledge that notification is
// refused own_centre with a message that names the foreign registry, not an
// empty centre, and the notification stays open.
func TestAcknowledgePeerNotification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		o := im.Origin
		sae := o.Must(t, 201, "POST", "/api/v1/transplant/sae", o.Regulator, map[string]any{"kind": "event", "organ_id": im.Held,
			"contact": "Vigilance desk", "started_at": apptest.Hours(2), "detected_at": apptest.Hours(1), "description": "Donor malignancy.",
			"immediate_measures": "Recipients called in."})
		var peerNT string
		for _, n := range sae.Body["notifications"].([]any) {
			if m := n.(map[string]any); m["peer_id"] == im.ToW {
				peerNT = m["id"].(string)
			}
		}
		if peerNT == "" {
			t.Fatalf("no notification of the foreign registry %s: %s", im.ToW, sae.Raw)
		}
		r := o.Do(t, "POST", "/api/v1/transplant/notifications/"+peerNT+"/acknowledge", o.CoordA, nil)
		msg := r.Str("error.message")
		if r.Status != 403 || r.Str("error.rule") != "own_centre" || r.Str("error.field") != "notification_id" ||
			!strings.Contains(msg, im.ToW) || strings.Contains(msg, "centre 's") {
			t.Fatalf("a coordinator acknowledging a foreign registry's notification: %d %s, want 403 own_centre naming registry %s", r.Status, r.Raw, im.ToW)
		}
		got := o.Must(t, 200, "GET", "/api/v1/transplant/sae/"+sae.Str("id"), o.Auditor, nil)
		for _, n := range got.Body["notifications"].([]any) {
			if m := n.(map[string]any); m["id"] == peerNT && m["acknowledged_at"] != nil {
				t.Fatalf("the refused acknowledgement changed the notification: %v", m)
			}
		}
	})
}
