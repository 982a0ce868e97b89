package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/web"
)

// TestTraffickingPages files a report in the browser as coordinator A,
// follows it on "My trafficking reports", and works it as the designated
// authority: the queue, the report's page, a refused and an accepted change
// of status, the text and the reporter's identity opened with a purpose.
// The regulator, an auditor and coordinator B find none of it: no queue, no
// report page, no reporter on any page they read.
func TestTraffickingPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		da := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Rapporteur", "kind": "trafficking_authority"}).Str("id")
		assessor := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Assessor", "role": "trafficking_assessor", "authority_id": da}).Str("token")
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
		coordID := w.Must(t, 200, "GET", "/api/v1/me", w.CoordA, nil).Str("id")

		a := newBrowser(t, w.URL)
		a.signIn(w.CoordA)
		p := a.get("/")
		mustContain(t, "coordinator's home", p, `href="/transplant/trafficking/report"`)
		p = a.get("/transplant/trafficking/report")
		wantStatus(t, "the form", p, http.StatusOK)
		mustContain(t, "the form", p, `name="indicators" value="recruitment.intermediary"`, `id="trafficking-text"`, `id="confidential"`)
		if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("the form's Cache-Control %q", cc)
		}
		const secret = "The interpreter (synthetic) kept the donor's passport"
		p = a.post("/transplant/trafficking/reports", url.Values{"text": {secret}, "donor_ids": {donor + ", DN-0000000000"}, "indicators": {"documents.held_by_other"}})
		wantStatus(t, "an unknown linked donor", p, http.StatusNotFound)
		mustContain(t, "an unknown linked donor", p, "DN-0000000000", `value="documents.held_by_other" checked`, html.EscapeString(secret))
		p = a.post("/transplant/trafficking/reports", url.Values{"text": {secret}, "donor_ids": {donor}})
		wantStatus(t, "no indicator", p, http.StatusUnprocessableEntity)
		mustContain(t, "no indicator", p, "choose at least one indicator")
		p = a.post("/transplant/trafficking/reports", url.Values{"text": {secret}, "donor_ids": {donor}, "indicators": {"documents.held_by_other", "travel.donor_brought"}})
		wantStatus(t, "file", p, http.StatusSeeOther)
		p = a.get(noticed(t, "file", p, "/transplant/trafficking/mine"))
		m := regexp.MustCompile(`Report (TR-[0-9A-Z]{10}) was sent to the designated authority`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("my reports after filing:\n%s", p.Body)
		}
		ref := m[1]
		mustContain(t, "my reports", p, ref, "Received")

		// The authority's pages.
		d := newBrowser(t, w.URL)
		d.signIn(assessor)
		p = d.get("/")
		mustContain(t, "assessor's home", p, `href="/transplant/trafficking/queue"`)
		p = d.get("/transplant/trafficking/queue")
		wantStatus(t, "the queue", p, http.StatusOK)
		mustContain(t, "the queue", p, ref, "documents.held_by_other")
		if strings.Contains(p.Body, coordID) || strings.Contains(p.Body, html.EscapeString(secret)) {
			t.Error("the queue names the reporter or shows the text")
		}
		p = d.post("/transplant/trafficking/screenings", url.Values{})
		wantStatus(t, "screen again", p, http.StatusSeeOther)
		mustContain(t, "screened", d.get(p.Header.Get("Location")), "raised 0 new alerts")
		casePath := "/transplant/trafficking/reports/" + ref
		p = d.get(casePath)
		mustContain(t, "the report", p, `id="report-status">Received<`, `action="`+casePath+`/reporter"`)
		if strings.Contains(p.Body, coordID) || strings.Contains(p.Body, "Coordinator A") || strings.Contains(p.Body, html.EscapeString(secret)) {
			t.Error("the report's page shows the reporter or the text before they are opened")
		}
		p = d.post(casePath+"/status", url.Values{"status": {"closed_unfounded"}})
		wantStatus(t, "a status out of order", p, http.StatusConflict)
		mustContain(t, "a status out of order", p, "status_transition")
		p = d.post(casePath+"/status", url.Values{"status": {"under_assessment"}})
		wantStatus(t, "under assessment", p, http.StatusSeeOther)
		p = d.post(casePath+"/content", url.Values{"purpose": {"first reading"}})
		wantStatus(t, "the content", p, http.StatusOK)
		mustContain(t, "the content", p, `id="confidential-content"`, html.EscapeString(secret), donor)
		p = d.post(casePath+"/reporter", url.Values{"purpose": {""}})
		wantStatus(t, "no purpose", p, http.StatusUnprocessableEntity)
		p = d.post(casePath+"/reporter", url.Values{"purpose": {"ask for the interpreter's name"}})
		wantStatus(t, "the reporter", p, http.StatusOK)
		mustContain(t, "the reporter", p, `id="reporter-name">Coordinator A<`, coordID, "Centre A")
		if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("the reporter's page Cache-Control %q", cc)
		}
		p = a.get("/transplant/trafficking/mine")
		mustContain(t, "my reports after", p, "Under assessment")

		// Everyone else.
		for _, tok := range []string{w.Regulator, w.Auditor, w.CoordB} {
			o := newBrowser(t, w.URL)
			o.signIn(tok)
			for _, path := range []string{"/transplant/trafficking/queue", casePath} {
				if p := o.get(path); p.Status != http.StatusForbidden {
					t.Errorf("%s by another role: %d", path, p.Status)
				}
			}
			if p := o.post(casePath+"/reporter", url.Values{"purpose": {"curiosity"}}); p.Status != http.StatusForbidden || strings.Contains(p.Body, coordID) {
				t.Errorf("opening the reporter by another role: %d", p.Status)
			}
			for _, path := range []string{"/", "/alerts", "/log", "/transplant/trafficking/mine"} {
				if p := o.get(path); strings.Contains(p.Body, coordID) && strings.Contains(p.Body, ref) || strings.Contains(p.Body, html.EscapeString(secret)) {
					t.Errorf("%s shows the reporter or the text", path)
				}
			}
		}
	})
}

// FuzzSplitIDs: the linked records typed in one field come back as items
// with no separator in them, none empty, in order, and whatever is not a
// separator is kept.
func FuzzSplitIDs(f *testing.F) {
	for _, s := range []string{"", "DN-1, DN-2", "RC-1;RC-2\nRC-3", " ,; ", "XA-26-000123-01-5\tXA-26-000124-01-L", "a\u00a0b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("the UI refuses a form that is not UTF-8 before any page reads it")
		}
		ids := web.SplitIDs(s)
		var kept strings.Builder
		for _, id := range ids {
			if id == "" || strings.ContainsAny(id, ",; \t\n\r") {
				t.Fatalf("SplitIDs(%q) gave %q", s, ids)
			}
			kept.WriteString(id)
		}
		var want strings.Builder
		for _, r := range s {
			if r != ',' && r != ';' && !strings.ContainsRune(" \t\n\r\v\f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", r) {
				want.WriteRune(r)
			}
		}
		if kept.String() != want.String() {
			t.Fatalf("SplitIDs(%q) = %q lost or added characters", s, ids)
		}
	})
}
