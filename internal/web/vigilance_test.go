package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVigilancePages: the regulator reports an SAE from its page on a donor
// whose kidneys went to centres A and B; centre B's coordinator finds the
// open notification on the home card and acknowledges it from the
// notifications page; the regulator makes the final report; a coordinator
// records a disposition, refused first on the form with rule and field.
// Centre A's notification, never acknowledged, reads closed before
// acknowledged once the report is closed, and stays open: on centre A's
// home card and under status open.
func TestVigilancePages(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": yesterday(), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	pr := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(6),
		"organs": []string{"kidney", "kidney", "liver"}})
	organs := pr.Body["organs"].([]any)
	id := func(i int) string { return organs[i].(map[string]any)["id"].(string) }
	var rB string
	for i, x := range []struct{ coord, centre string }{{w.CoordA, w.CentreA}, {w.CoordB, w.CentreB}} {
		rc := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", x.coord, apptest.Recipient(x.centre, "kidney")).Str("id")
		ta := w.Must(t, 201, "POST", "/api/v1/transplant/transplant-authorizations", x.coord, map[string]any{"organ_id": id(i), "recipient_id": rc,
			"centre_id": x.centre, "authorized_by": "Dr. M", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/transplants", x.coord, map[string]any{"organ_id": id(i), "recipient_id": rc, "centre_id": x.centre,
			"performed_at": apptest.Hours(1), "authorization_id": ta})
		rB = rc
	}

	reg := newBrowser(t, w.URL)
	reg.signIn(w.Regulator)
	p := reg.get("/transplant/sae")
	wantStatus(t, "reports", p, http.StatusOK)
	mustContain(t, "reports", p, `id="sae"`, `href="/transplant/sae"`, `href="/transplant/notifications"`)
	form := url.Values{"kind": {"reaction"}, "donor_id": {strings.ToLower(donor)}, "recipient_ids": {rB}, "contact": {"Vigilance desk"},
		"started_at": {""}, "detected_at": {""}, "description": {"Fever."}, "immediate_measures": {"Screening."}}
	p = reg.post("/transplant/sae", form)
	wantStatus(t, "report without times", p, http.StatusUnprocessableEntity)
	mustContain(t, "report without times", p, `id="refusal-rule">required<`, `id="refusal-field">started_at<`)
	now := strings.TrimSuffix(apptest.Hours(0)[:16], "Z")
	form.Set("started_at", now)
	form.Set("detected_at", now)
	p = reg.post("/transplant/sae", form)
	wantStatus(t, "report", p, http.StatusSeeOther)
	loc := p.Header.Get("Location")
	p = reg.get(loc)
	wantStatus(t, "report page", p, http.StatusOK)
	mustContain(t, "report page", p, "XA-SAE-", "Centre A", "Centre B", id(2), `id="final"`)

	b := newBrowser(t, w.URL)
	b.signIn(w.CoordB)
	p = b.get("/")
	mustContain(t, "home of centre B", p, `id="open-notifications"`, "XA-SAE-")
	p = b.get("/transplant/notifications")
	m := regexp.MustCompile(`action="(/transplant/notifications/NT-[0-9A-Z]+/acknowledge)"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no acknowledge form on centre B's notifications:\n%s", p.Body)
	}
	p = b.post(m[1], url.Values{})
	wantStatus(t, "acknowledge", p, http.StatusSeeOther)
	p = b.post(m[1], url.Values{})
	wantStatus(t, "acknowledge again", p, http.StatusConflict)
	mustContain(t, "acknowledge again", p, `id="refusal-rule">already_acknowledged<`)
	if p = b.get("/"); strings.Contains(p.Body, `id="open-notifications"`) {
		t.Error("the home card still lists the acknowledged notification")
	}

	p = reg.post(strings.TrimPrefix(loc, w.URL)[:len("/transplant/sae/SA-0000000000")]+"/final-report", url.Values{"conclusion": {"inconclusive"},
		"outcome": {"Cultures negative."}, "corrective_actions": {"None."}})
	wantStatus(t, "final report", p, http.StatusSeeOther)
	p = reg.get("/transplant/sae?status=closed")
	mustContain(t, "closed reports", p, "XA-SAE-", "/transplant/sae/export?format=csv")
	// Centre A never acknowledged: its notification says the report closed
	// before it did, on the report and the notifications, and the centre
	// may still acknowledge it.
	for _, path := range []string{loc, "/transplant/notifications"} {
		p = reg.get(path)
		if n := strings.Count(p.Body, `class="closed-unacknowledged"`); n != 1 || !strings.Contains(p.Body, "Report closed before acknowledged") {
			t.Errorf("%s: %d notifications read closed before acknowledged, want centre A's", path, n)
		}
	}

	// Still to acknowledge: centre A's home card and its open
	// notifications list it, saying the report closed.
	a := newBrowser(t, w.URL)
	a.signIn(w.CoordA)
	for _, path := range []string{"/", "/transplant/notifications?status=open"} {
		p = a.get(path)
		if n := strings.Count(p.Body, `class="closed-unacknowledged"`); n != 1 || !strings.Contains(p.Body, "XA-SAE-") {
			t.Errorf("%s of centre A: %d notifications read closed before acknowledged, want its one, open", path, n)
		}
	}
	if p = a.get("/transplant/notifications?status=acknowledged"); strings.Contains(p.Body, `class="closed-unacknowledged"`) {
		t.Error("centre A's unacknowledged notification is listed acknowledged")
	}
	p = a.get("/transplant/awaiting-disposition")
	wantStatus(t, "awaiting", p, http.StatusOK)
	mustContain(t, "awaiting", p, `id="disposition"`)
	dispose := url.Values{"organ_id": {id(0)}, "outcome": {"discarded"}, "reason": {"organ_quality"}, "disposed_at": {now}}
	p = a.post("/transplant/dispositions", dispose)
	wantStatus(t, "disposition of a transplanted organ", p, http.StatusConflict)
	mustContain(t, "disposition of a transplanted organ", p, `id="refusal-rule">organ_final<`, `id="refusal-field">organ_id<`)
	dispose.Set("organ_id", id(2))
	p = a.post("/transplant/dispositions", dispose)
	wantStatus(t, "disposition", p, http.StatusSeeOther)
	p = a.get(p.Header.Get("Location"))
	mustContain(t, "trace after the disposition", p, "Organ quality or function")
}
