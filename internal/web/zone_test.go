package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// springForward is the day, in a year before now, when Paris moves its
// clocks from 02:00 CET to 03:00 CEST: the last Sunday of March.
func springForward() time.Time {
	d := time.Date(time.Now().Year()-1, time.March, 31, 0, 0, 0, 0, time.UTC)
	for d.Weekday() != time.Sunday {
		d = d.AddDate(0, 0, -1)
	}
	return d
}

// TestTimeZones runs a registry whose zone is Africa/Lagos (UTC+1, no
// daylight saving time) with a coordinator who chooses Europe/Paris on
// their account page: each sees the same procurement, stored in UTC, in
// their own zone with the zone shown; the procurement form is read in the
// coordinator's zone, refuses a time the clocks skipped, and stores UTC.
func TestTimeZones(t *testing.T) {
	lagos, err := time.LoadLocation("Africa/Lagos")
	if err != nil {
		t.Fatal(err)
	}
	w := apptest.NewWorldWith(t, storetest.SQLite(t), func(cfg *server.Config) { cfg.Zone = lagos })
	day := springForward()
	died := day.AddDate(0, 0, -1).Format("2006-01-02")

	a := newBrowser(t, w.URL)
	a.signIn(w.CoordA)
	p := a.get("/account")
	wantStatus(t, "account", p, http.StatusOK)
	mustContain(t, "account", p, `id="account-zone">Africa/Lagos (the registry&#39;s)<`, "times are in Africa/Lagos", `href="/account" id="account-link"`)

	// An unknown zone is refused on the form, naming rule and field, the
	// value kept; nothing changes.
	p = a.post("/account", url.Values{"time_zone": {"Europe/Atlantis"}})
	wantStatus(t, "unknown zone", p, http.StatusUnprocessableEntity)
	mustContain(t, "unknown zone", p, `id="refusal-rule">time_zone<`, `id="refusal-field">time_zone<`, `value="Europe/Atlantis"`)
	if got := w.Must(t, 200, "GET", "/api/v1/me", w.CoordA, nil).Str("time_zone"); got != "" {
		t.Fatalf("a refused zone was kept: %q", got)
	}

	p = a.post("/account", url.Values{"time_zone": {"Europe/Paris"}})
	wantStatus(t, "choose Paris", p, http.StatusSeeOther)
	p = a.get(noticed(t, "choose Paris", p, "/account"))
	mustContain(t, "account in Paris", p, `id="account-zone">Europe/Paris<`, "pages show times in Europe/Paris", "times are in Europe/Paris",
		`value="Europe/Paris"`)
	if got := w.Must(t, 200, "GET", "/api/v1/me", w.CoordA, nil).Str("time_zone"); got != "Europe/Paris" {
		t.Fatalf("/me says %q after choosing Europe/Paris", got)
	}

	// A donor who died the day before the clocks changed, with consent.
	f := donorForm(died)
	p = a.post("/transplant/donors", f)
	wantStatus(t, "donor", p, http.StatusSeeOther)
	donor := recordOf(t, "donor", p, "/transplant/donors/")
	w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": died, "assessed_by": "Dr Test", "voluntary": true, "informed": true})

	// The form is in Paris time: labelled so, and filled with the time now
	// as a Paris clock shows it.
	p = a.get("/transplant/donors/" + donor)
	paris, _ := time.LoadLocation("Europe/Paris")
	mustContain(t, "procurement form", p, "Procured at (Europe/Paris)", "Date and time of retrieval, in Europe/Paris.")
	if now := time.Now(); !strings.Contains(p.Body, `value="`+now.In(paris).Format("2006-01-02T15:04")+`"`) &&
		!strings.Contains(p.Body, `value="`+now.Add(-time.Minute).In(paris).Format("2006-01-02T15:04")+`"`) {
		t.Errorf("the procurement form is not filled with the time now in Paris")
	}

	// 02:30 that night never showed on a Paris clock: refused, no organ.
	gap := day.Format("2006-01-02") + "T02:30"
	p = a.post("/transplant/donors/"+donor+"/procurements", url.Values{"procured_at": {gap}, "count_kidney": {"2"}})
	wantStatus(t, "time in the gap", p, http.StatusUnprocessableEntity)
	mustContain(t, "time in the gap", p, `id="refusal-rule">time_gap<`, `id="refusal-field">procured_at<`, `value="`+gap+`"`,
		"does not exist in Europe/Paris")

	// 03:30 CEST is 01:30 UTC: stored so, shown so to the API.
	p = a.post("/transplant/donors/"+donor+"/procurements", url.Values{"procured_at": {day.Format("2006-01-02") + "T03:30"}, "count_kidney": {"2"}})
	if p.Status != http.StatusSeeOther && p.Status != http.StatusOK {
		t.Fatalf("procurement: %d %s", p.Status, p.Body)
	}
	trace := w.Must(t, 200, "GET", "/api/v1/transplant/trace/donors/"+donor, w.Regulator, nil)
	wantUTC := day.Format("2006-01-02") + "T01:30:00"
	if !strings.Contains(string(trace.Raw), `"procured_at": "`+wantUTC+`.000000Z"`) {
		t.Fatalf("the API does not give the procurement at %sZ: %s", wantUTC, trace.Raw)
	}

	// The coordinator reads it in Paris time, the regulator (no zone of
	// their own) in the registry's.
	p = a.get("/transplant/donors/" + donor)
	mustContain(t, "donor page in Paris", p, day.Format("2006-01-02")+" 03:30 CEST (UTC+2)")
	r := newBrowser(t, w.URL)
	r.signIn(w.Regulator)
	p = r.get("/transplant/trace?q=" + donor)
	wantStatus(t, "trace in Lagos", p, http.StatusOK)
	mustContain(t, "trace in Lagos", p, day.Format("2006-01-02")+" 02:30 WAT (UTC+1)", "times are in Africa/Lagos")
	if strings.Contains(p.Body, "CEST") {
		t.Error("the regulator sees the coordinator's zone")
	}

	// Back to the registry's zone: an empty value.
	p = a.post("/account", url.Values{"time_zone": {""}})
	wantStatus(t, "reset", p, http.StatusSeeOther)
	p = a.get("/transplant/donors/" + donor)
	mustContain(t, "donor page after reset", p, day.Format("2006-01-02")+" 02:30 WAT (UTC+1)", "Procured at (Africa/Lagos)")
}

// TestTimeZonesConcurrently asks for pages at once as principals of three
// zones, the first request of each new zone among them: each page is in
// its reader's zone (run it with -race too).
func TestTimeZonesConcurrently(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	zones := map[string]string{w.CoordA: "Asia/Tokyo", w.CoordB: "America/Bogota", w.Auditor: ""}
	for token, z := range zones {
		w.Must(t, 200, "POST", "/api/v1/me/preferences", token, map[string]any{"time_zone": z})
	}
	want := map[string]string{w.CoordA: "times are in Asia/Tokyo", w.CoordB: "times are in America/Bogota", w.Auditor: "times are in UTC"}
	var browsers []*browser
	var tokens []string
	for token := range zones {
		b := newBrowser(t, w.URL)
		b.signIn(token)
		browsers, tokens = append(browsers, b), append(tokens, token)
	}
	done := make(chan string)
	for i := range 12 {
		b, token := browsers[i%3], tokens[i%3]
		go func() {
			p := b.get("/account")
			if p.Status != http.StatusOK || !strings.Contains(p.Body, want[token]) {
				done <- "a page lacks " + want[token]
				return
			}
			done <- ""
		}()
	}
	for range 12 {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}

// TestHashmatchTimeZone: a reviewer in Asia/Kolkata (UTC+5:30) reports a
// case and records its removal on the web forms in their own time; the
// registry keeps UTC, which the API gives, and the case page shows the
// times back in Kolkata time.
func TestHashmatchTimeZone(t *testing.T) {
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	bank := w.Bank(t, "Known images")
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []map[string]any{
		{"entry_id": "e1", "pdq": apptest.PDQHex(1), "classification": "A1"}}})
	w.Subscribe(t, bank)
	w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", w.Service, map[string]any{"since": 0})
	res := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{
		{"pdq": apptest.PDQHex(1), "quality": 90, "content_ref": "photo-1"}}})
	caseID := res.Body["results"].([]any)[0].(map[string]any)["case_id"].(string)
	w.Must(t, 200, "POST", "/api/v1/me/preferences", w.Reviewer, map[string]any{"time_zone": "Asia/Kolkata"})

	rv := newBrowser(t, w.URL)
	rv.signIn(w.Reviewer)
	p := rv.post("/hashmatch/cases/"+caseID+"/review", url.Values{"decision": {"confirm"}})
	wantStatus(t, "confirm", p, http.StatusSeeOther)
	p = rv.get("/hashmatch/cases/" + caseID)
	mustContain(t, "case in Kolkata", p, "Incident time (Asia/Kolkata)", "Removed at (Asia/Kolkata)", "IST (UTC+5:30)")

	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	incident := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	removed := time.Now().Add(-time.Hour).Truncate(time.Minute)
	p = rv.post("/hashmatch/cases/"+caseID+"/report", url.Values{"incident_type": {"child_sexual_abuse_material"},
		"incident_at": {incident.In(kolkata).Format("2006-01-02T15:04")}, "authority_id": {w.Authority}})
	wantStatus(t, "report", p, http.StatusSeeOther)
	p = rv.post("/hashmatch/cases/"+caseID+"/removal", url.Values{"action": {"removed"},
		"removed_at": {removed.In(kolkata).Format("2006-01-02T15:04")}})
	wantStatus(t, "removal", p, http.StatusSeeOther)

	var removedAt string
	if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT removed_at FROM hm_removals WHERE case_id = ?", caseID).Scan(&removedAt); err != nil {
		t.Fatal(err)
	}
	if want := removed.UTC().Format("2006-01-02T15:04:05"); !strings.HasPrefix(removedAt, want) || !strings.HasSuffix(removedAt, "Z") {
		t.Errorf("the removal is kept at %s, want %sZ", removedAt, want)
	}
	reports := w.Must(t, 200, "GET", "/api/v1/hashmatch/reports", w.Analyst, nil)
	if want := incident.UTC().Format("2006-01-02T15:04:05"); !strings.Contains(string(reports.Raw), want) {
		t.Errorf("the API does not give the incident at %sZ: %s", want, reports.Raw)
	}
	p = rv.get("/hashmatch/cases/" + caseID)
	mustContain(t, "removal in Kolkata", p, removed.In(kolkata).Format("2006-01-02 15:04")+" IST (UTC+5:30)")
}
