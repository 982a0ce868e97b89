package web_test

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/storetest"
)

// TestSubjectRightsPages: a coordinator rectifies and exports (page and
// JSON) for their own centre's donor; the regulator is shown what an
// erasure makes unreadable, is refused under retention with a ground that
// does not override it, and erases with one that does; the donor's page
// then says erased, and when. No personal data reaches a URL, a redirect or
// a log line.
func TestSubjectRightsPages(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	d := apptest.DeceasedDonor(w.CentreA)
	d["national_id"] = "XA-WEB-4242"
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, d).Str("id")
	const corrected = "Wilhelmina Canary (synthetic)"
	secrets := []string{corrected, "XA-WEB-4242"}

	srv, logs := transplantUI(t, w)

	a := newBrowser(t, srv.URL)
	a.signIn(w.CoordA)
	p := a.get("/transplant/donors/" + donor)
	mustContain(t, "donor page", p, `id="subject-rights"`, `href="/transplant/subjects/`+donor+`/access"`, `href="/transplant/subjects/`+donor+`/rectify"`)
	if strings.Contains(p.Body, "/erase") {
		t.Error("a coordinator is offered erasure")
	}
	p = a.post("/transplant/subjects/"+donor+"/rectify", url.Values{"name": {corrected}, "reason": {"misspelt at registration"}})
	wantStatus(t, "rectify", p, http.StatusSeeOther)
	mustContain(t, "rectified", a.get(noticed(t, "rectify", p, "/transplant/donors/"+donor)), `id="flash"`)
	p = a.post("/transplant/subjects/"+donor+"/rectify", url.Values{"name": {corrected}, "reason": {"again"}})
	mustContain(t, "rectify to the same value", p, `id="refusal-rule">unchanged<`)
	if strings.Contains(p.Body, `value="`+corrected+`"`) {
		t.Error("a refused rectification shows the value again")
	}
	p = a.post("/transplant/subjects/"+donor+"/access", url.Values{"purpose": {"request of 2 December"}, "format": {"page"}})
	wantStatus(t, "access page", p, http.StatusOK)
	mustContain(t, "access page", p, corrected, `id="reads"`, "subject access export (page): request of 2 December", "misspelt at registration")
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the subject-access page may be cached: %q", p.Header.Get("Cache-Control"))
	}
	p = a.post("/transplant/subjects/"+donor+"/access", url.Values{"purpose": {"request of 2 December"}, "format": {"json"}})
	if !strings.Contains(p.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(p.Body, `"subject_id": "`+donor+`"`) || !strings.Contains(p.Body, corrected) {
		t.Errorf("access JSON: %v\n%.300s", p.Header, p.Body)
	}

	reg := newBrowser(t, srv.URL)
	reg.signIn(w.Regulator)
	p = reg.get("/transplant/subjects/" + donor + "/erase")
	mustContain(t, "erase page", p, `id="erase-what"`, `id="retention"`, `<select id="erase-ground" name="ground" required`)
	p = reg.post("/transplant/subjects/"+donor+"/erase", url.Values{"ground": {"consent_withdrawn"}, "reference": {"DPO-2026-7"}})
	wantStatus(t, "erase under retention", p, http.StatusConflict)
	mustContain(t, "erase under retention", p, `id="refusal-rule">retention<`)
	p = reg.post("/transplant/subjects/"+donor+"/erase", url.Values{"ground": {"legal_obligation"}, "reference": {"Court order 2026/118"}})
	p = reg.get(noticed(t, "erase", p, "/transplant/donors/"+donor))
	mustContain(t, "donor page after erasure", p, `id="erased"`, `id="flash"`)
	p = reg.post("/transplant/donors/"+donor+"/personal-data", url.Values{"purpose": {"after erasure"}})
	mustContain(t, "personal data after erasure", p, `id="refusal-rule">subject_erased<`)

	for _, s := range secrets {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log lines hold %q", s)
		}
	}
}

// TestSubjectReportNamesReaders: the printable subject-access export names
// who opened the person's data as every page names a principal (who): the
// exporter's own authority and the regulator see the name, a coordinator
// sees the regulator's staff as someone at the regulator's authority; the
// id stays as the title. The JSON file keeps the ids, as the API does, and
// no staff name.
func TestSubjectReportNamesReaders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
		coordA, reg := w.Principal(t, w.CoordA), w.Principal(t, w.Regulator)
		regAuthority, err := auth.GetAuthority(context.Background(), w.App.DB.Read(), reg.AuthorityID)
		if err != nil {
			t.Fatal(err)
		}
		a, r := newBrowser(t, w.URL), newBrowser(t, w.URL)
		a.signIn(w.CoordA)
		r.signIn(w.Regulator)
		for _, b := range []*browser{a, r} {
			wantStatus(t, "open the personal data", b.post("/transplant/donors/"+donor+"/personal-data", url.Values{"purpose": {"check before procurement"}}), http.StatusOK)
		}
		name := func(p *auth.Principal) string {
			return `<span class="principal" title="` + template.HTMLEscapeString(p.ID) + `">` + template.HTMLEscapeString(p.Name) + `</span>`
		}
		regAtAuthority := `<span class="principal authority" title="` + template.HTMLEscapeString(reg.ID) + `">someone at ` +
			template.HTMLEscapeString(regAuthority.Name) + `</span>`
		export := func(b *browser, format string) *page {
			t.Helper()
			p := b.post("/transplant/subjects/"+donor+"/access", url.Values{"purpose": {"request of 3 March"}, "format": {format}})
			wantStatus(t, "export "+format, p, http.StatusOK)
			return p
		}
		reads := func(p *page) string {
			_, after, _ := strings.Cut(p.Body, `id="reads"`)
			before, _, _ := strings.Cut(after, "</table>")
			return before
		}

		// Centre A's coordinator: their own read by name, the regulator's
		// as someone at the regulator's authority.
		got := reads(export(a, "page"))
		for _, want := range []string{name(coordA), regAtAuthority} {
			if !strings.Contains(got, want) {
				t.Errorf("the coordinator's export lacks %s among the reads:\n%s", want, got)
			}
		}
		if strings.Contains(got, name(reg)) || strings.Contains(got, `<td>`+reg.ID+`</td>`) {
			t.Errorf("the coordinator's export names the regulator's staff, or shows a bare id:\n%s", got)
		}

		// The regulator, who oversees every authority, sees both names.
		got = reads(export(r, "page"))
		for _, want := range []string{name(coordA), name(reg)} {
			if !strings.Contains(got, want) {
				t.Errorf("the regulator's export lacks %s among the reads:\n%s", want, got)
			}
		}

		// The JSON file names principals by id only.
		p := export(a, "json")
		for _, id := range []string{coordA.ID, reg.ID} {
			if !strings.Contains(p.Body, `"principal_id": "`+id+`"`) {
				t.Errorf("the JSON export lacks the read by %s", id)
			}
		}
		mustNotContain(t, "the JSON export", p, coordA.Name, "someone at")
	})
}
